package tokenizer

// SentencePiece-style tokenization as llama.cpp's llm_tokenizer_spm_session
// does it: the text (spaces already escaped to U+2581) is split into UTF-8
// characters, then the adjacent pair whose concatenation is the
// highest-scoring token is merged, leftmost first on ties, until no pair
// forms a token. A symbol that is not a token is then necessarily a single
// character (every merge makes a token), which falls back to byte tokens.
// (llama.cpp's resegment also consults a map of merges, but only for texts
// that are not tokens, and every text in that map is a token.)

type spmSymbol struct {
	prev, next int
	start, n   int // text is s[start : start+n]
}

type spmBigram struct {
	left, right int
	score       float32
	size        int
}

// before orders the merge queue: higher score first, then leftmost.
func (b spmBigram) before(o spmBigram) bool {
	if b.score != o.score {
		return b.score > o.score
	}
	return b.left < o.left
}

// spmSession holds the buffers of one tokenization; its zero value is ready.
type spmSession struct {
	syms  []spmSymbol
	queue queue[spmBigram]
	s     string
}

func (ss *spmSession) tokenize(t *Tokenizer, s string, out []int32) []int32 {
	if s == "" {
		return out
	}
	ss.s = s
	ss.syms = ss.syms[:0]
	ss.queue = ss.queue[:0]
	for off := 0; off < len(s); {
		n := min(utf8Len(s[off]), len(s)-off)
		idx := len(ss.syms)
		next := idx + 1
		if off+n == len(s) {
			next = -1
		}
		ss.syms = append(ss.syms, spmSymbol{prev: idx - 1, next: next, start: off, n: n})
		off += n
	}
	for i := 1; i < len(ss.syms); i++ {
		ss.tryAddBigram(t, i-1, i)
	}
	for len(ss.queue) > 0 {
		b := ss.queue.pop()
		left, right := &ss.syms[b.left], &ss.syms[b.right]
		if left.n == 0 || right.n == 0 || left.n+right.n != b.size {
			continue // one side was merged since
		}
		left.n += right.n
		right.n = 0
		left.next = right.next
		if right.next >= 0 {
			ss.syms[right.next].prev = b.left
		}
		ss.tryAddBigram(t, left.prev, b.left)
		ss.tryAddBigram(t, b.left, left.next)
	}
	for i := 0; i != -1; i = ss.syms[i].next {
		out = ss.emit(t, i, out)
	}
	return out
}

func (ss *spmSession) tryAddBigram(t *Tokenizer, left, right int) {
	if left == -1 || right == -1 {
		return
	}
	l, r := ss.syms[left], ss.syms[right]
	text := ss.s[l.start : l.start+l.n+r.n]
	id, ok := t.toID[text]
	if !ok {
		return
	}
	ss.queue.push(spmBigram{left: left, right: right, score: t.scores[id], size: len(text)})
}

func (ss *spmSession) emit(t *Tokenizer, i int, out []int32) []int32 {
	sym := ss.syms[i]
	text := ss.s[sym.start : sym.start+sym.n]
	if id, ok := t.toID[text]; ok {
		return append(out, id)
	}
	// Not a token: fall back to byte tokens, or the unknown token.
	for j := 0; j < len(text); j++ {
		if id := t.byteTok[text[j]]; id >= 0 {
			out = append(out, id)
		} else if t.unk >= 0 {
			out = append(out, t.unk)
		}
	}
	return out
}
