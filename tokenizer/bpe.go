package tokenizer

// Byte-level BPE as llama.cpp's llm_tokenizer_bpe_session does it: the text
// is pre-tokenized into words, each word's bytes are mapped to GPT-2's
// printable alphabet, and within a word the adjacent pair with the best
// (lowest) merge rank is merged, leftmost first on ties, until no pair has a
// merge. Each resulting symbol is emitted as its token.

type bpeSymbol struct {
	prev, next int
	start, n   int // text is word[start : start+n]
}

type bpeBigram struct {
	left, right int
	rank        int32
	size        int
}

// before orders the merge queue: lower rank first, then leftmost.
func (b bpeBigram) before(o bpeBigram) bool {
	if b.rank != o.rank {
		return b.rank < o.rank
	}
	return b.left < o.left
}

// bpeSession holds the buffers of one tokenization; its zero value is ready.
type bpeSession struct {
	cps   []rune
	enc   []byte
	syms  []bpeSymbol
	queue queue[bpeBigram]
	word  string
}

// tokenize appends the tokens of text, a fragment free of special tokens.
func (bs *bpeSession) tokenize(t *Tokenizer, text string, out []int32) []int32 {
	bs.cps = decodeCodepoints(text, bs.cps[:0])
	start := 0
	var utf [4]byte
	for _, n := range t.pre.split(bs.cps) {
		// Byte-encode the word: UTF-8 bytes mapped to GPT-2's alphabet.
		bs.enc = bs.enc[:0]
		for _, r := range bs.cps[start : start+n] {
			for _, b := range appendCodepoint(utf[:0], r) {
				bs.enc = append(bs.enc, byteToUTF8[b]...)
			}
		}
		start += n
		out = bs.word1(t, string(bs.enc), out)
	}
	return out
}

// word1 merges and emits one byte-encoded word.
func (bs *bpeSession) word1(t *Tokenizer, word string, out []int32) []int32 {
	if word == "" {
		return out
	}
	if t.pre.ignoreMerges {
		if id, ok := t.toID[word]; ok {
			return append(out, id)
		}
	}
	bs.word = word
	bs.syms = bs.syms[:0]
	bs.queue = bs.queue[:0]
	for off := 0; off < len(word); {
		n := min(utf8Len(word[off]), len(word)-off)
		idx := len(bs.syms)
		next := idx + 1
		if off+n == len(word) {
			next = -1
		}
		bs.syms = append(bs.syms, bpeSymbol{prev: idx - 1, next: next, start: off, n: n})
		off += n
	}
	for i := 1; i < len(bs.syms); i++ {
		bs.addBigram(t, i-1, i)
	}
	for len(bs.queue) > 0 {
		b := bs.queue.pop()
		left, right := &bs.syms[b.left], &bs.syms[b.right]
		// Symbols only grow rightwards from fixed starts, so the pair still
		// spells the bigram's text exactly when the sizes still add up.
		if left.n == 0 || right.n == 0 || left.n+right.n != b.size {
			continue
		}
		left.n += right.n
		right.n = 0
		left.next = right.next
		if right.next >= 0 {
			bs.syms[right.next].prev = b.left
		}
		bs.addBigram(t, left.prev, b.left)
		bs.addBigram(t, b.left, left.next)
	}
	for i := 0; i != -1; i = bs.syms[i].next {
		sym := bs.syms[i]
		s := word[sym.start : sym.start+sym.n]
		if id, ok := t.toID[s]; ok {
			out = append(out, id)
			continue
		}
		// As llama.cpp: look each byte of the encoded symbol up on its own,
		// dropping those that are not tokens.
		for j := 0; j < len(s); j++ {
			if id, ok := t.toID[s[j:j+1]]; ok {
				out = append(out, id)
			}
		}
	}
	return out
}

func (bs *bpeSession) addBigram(t *Tokenizer, left, right int) {
	if left == -1 || right == -1 {
		return
	}
	l, r := bs.syms[left], bs.syms[right]
	rank, ok := t.ranks[mergeKey{bs.word[l.start : l.start+l.n], bs.word[r.start : r.start+r.n]}]
	if !ok {
		return
	}
	bs.queue.push(bpeBigram{left: left, right: right, rank: rank, size: l.n + r.n})
}
