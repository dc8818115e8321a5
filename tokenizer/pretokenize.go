package tokenizer

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Pre-tokenization splits text into words before byte-level BPE runs on each
// word. llama.cpp describes every pre-tokenizer as a list of regular
// expressions applied in turn: each expression splits every piece left by the
// previous one into its matches and the text between them. Two expressions
// (GPT-2's and LLaMA 3's) it runs through hand-written scanners, the rest
// through std::regex, with \s, \p{L}, \p{N}, \p{P} read as Unicode classes.
// Go's regexp has no lookahead, so every expression here is a scanner over
// code points that reproduces that behaviour, alternation order included.

// splitter splits cps[lo:hi] and appends the lengths, in code points, of
// the pieces that cover it, in order.
type splitter func(cps []rune, lo, hi int, out []int) []int

// preTokenizer is a named sequence of splitters plus the flags llama.cpp ties
// to the pre-tokenizer's name.
type preTokenizer struct {
	name   string
	splits []splitter
	// ignoreMerges emits a word whole when it is itself a token.
	ignoreMerges bool
	// cleanSpaces is llama.cpp's clean_up_tokenization_spaces default.
	cleanSpaces bool
	// addBOS is the pre-tokenizer's default for add_bos_token.
	addBOS bool
	// noBOS clears the default BOS id (chatglm).
	noBOS bool
}

// split runs the pre-tokenizer over cps and returns piece lengths.
func (p *preTokenizer) split(cps []rune) []int {
	offsets := []int{len(cps)}
	var next []int
	for _, s := range p.splits {
		next = next[:0]
		start := 0
		for _, n := range offsets {
			next = s(cps, start, start+n, next)
			start += n
		}
		offsets, next = next, offsets
	}
	return offsets
}

// Splitter building blocks.

var (
	gpt2Split = splitter(splitGPT2)
	// \p{N}
	oneNumber = searchSplit(func(c []rune, p, hi int) int {
		if cpFlags(c[p])&flNumber != 0 {
			return p + 1
		}
		return -1
	})
	// \p{N}+
	numberRun = searchSplit(runOf(func(r rune) bool { return cpFlags(r)&flNumber != 0 }))
	// \p{N}{1,3}
	numberRun3 = searchSplit(func(c []rune, p, hi int) int {
		e := p
		for e < hi && e-p < 3 && cpFlags(c[e])&flNumber != 0 {
			e++
		}
		if e == p {
			return -1
		}
		return e
	})
	// [0-9][0-9][0-9]
	asciiDigits3 = searchSplit(func(c []rune, p, hi int) int {
		if p+3 <= hi && isDigit(c[p]) && isDigit(c[p+1]) && isDigit(c[p+2]) {
			return p + 3
		}
		return -1
	})
	// [\r\n]
	oneNewline = searchSplit(func(c []rune, p, hi int) int {
		if c[p] == '\r' || c[p] == '\n' {
			return p + 1
		}
		return -1
	})
	// [\p{P}\$\+<=>\^~\|]+ (default) and the same with ` (falcon)
	punctRunDefault = searchSplit(runOf(func(r rune) bool {
		return cpFlags(r)&flPunct != 0 || strings.ContainsRune("$+<=>^~|", r)
	}))
	punctRunFalcon = searchSplit(runOf(func(r rune) bool {
		return cpFlags(r)&flPunct != 0 || strings.ContainsRune("$+<=>^~|`", r)
	}))
	// [一-龥ࠀ-一가-퟿]+
	cjkRun = searchSplit(runOf(wide(func(r rune) bool {
		return (r >= 0x4E00 && r <= 0x9FA5) || (r >= 0x0800 && r <= 0x4E00) || (r >= 0xAC00 && r <= 0xD7FF)
	})))
	// [一-龥぀-ゟ゠-ヿ]+
	cjkKanaRun = searchSplit(runOf(wide(func(r rune) bool {
		return (r >= 0x4E00 && r <= 0x9FA5) || (r >= 0x3040 && r <= 0x309F) || (r >= 0x30A0 && r <= 0x30FF)
	})))
	// \s?\p{L}+ and \s?\p{P}+
	wsLetters = searchSplit(optWSRun(func(r rune) bool { return cpFlags(r)&flLetter != 0 }))
	wsPunct   = searchSplit(optWSRun(func(r rune) bool { return cpFlags(r)&flPunct != 0 }))
	// \s?[A-Za-zµÀ-ÖØ-öø-ƺ...]+ (deepseek-llm's letters)
	wsDeepseekLetters = searchSplit(optWSRun(wide(inRanges(deepseekLetterRanges))))
	// \s?[!-/:-~！-／：-～‘-‟　-。]+
	wsDeepseekPunct = searchSplit(optWSRun(wide(inRanges([][2]rune{
		{'!', '/'}, {':', '~'}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3000, 0x3002},
	}))))
	// \s+$
	trailingSpace = splitter(splitTrailingSpace)
	// " ?[^(\\s|.,!?…。，、।۔،)]+"
	poroWords = searchSplit(optSpaceRun(wide(func(r rune) bool {
		return !isWhitespace(r) && !strings.ContainsRune("(|.,!?…。，、।۔،)", r)
	})))
)

// optSpaceRun matches " ?X+".
func optSpaceRun(in func(rune) bool) matcher {
	run := runOf(in)
	return func(c []rune, p, hi int) int {
		if c[p] == ' ' && p+1 < hi {
			if e := run(c, p+1, hi); e > 0 {
				return e
			}
		}
		return run(c, p, hi)
	}
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// wide adapts a character-class test to how llama.cpp runs expressions that
// name no Unicode category: through std::wregex, over text in which every
// non-ASCII whitespace character has been replaced by a vertical tab.
func wide(in func(rune) bool) func(rune) bool {
	return func(r rune) bool {
		if r > 0x7F && isWhitespace(r) {
			r = 0x0B
		}
		return in(r)
	}
}

// inRanges tests membership of a set of inclusive ranges.
func inRanges(ranges [][2]rune) func(rune) bool {
	ranges = slices.Clone(ranges)
	slices.SortFunc(ranges, func(a, b [2]rune) int { return int(a[0] - b[0]) })
	return func(r rune) bool {
		i := sort.Search(len(ranges), func(i int) bool { return ranges[i][1] >= r })
		return i < len(ranges) && ranges[i][0] <= r
	}
}

// matcher reports where a match starting at p ends, or -1 for none. It sees
// only c[:hi], the piece being split.
type matcher func(c []rune, p, hi int) int

// runOf matches one or more characters of a class.
func runOf(in func(rune) bool) matcher {
	return func(c []rune, p, hi int) int {
		e := p
		for e < hi && in(c[e]) {
			e++
		}
		if e == p {
			return -1
		}
		return e
	}
}

// optWSRun matches \s?X+.
func optWSRun(in func(rune) bool) matcher {
	run := runOf(in)
	return func(c []rune, p, hi int) int {
		if isWhitespace(c[p]) && p+1 < hi {
			if e := run(c, p+1, hi); e > 0 {
				return e
			}
		}
		return run(c, p, hi)
	}
}

// searchSplit turns a matcher into a splitter with std::regex_iterator's
// semantics: the leftmost match is taken, then the search resumes after it;
// the text between matches is kept as pieces of its own.
func searchSplit(m matcher) splitter {
	return func(c []rune, lo, hi int, out []int) []int {
		start := lo
		for p := lo; p < hi; {
			if e := m(c, p, hi); e > p {
				if p > start {
					out = append(out, p-start)
				}
				out = append(out, e-p)
				start, p = e, e
			} else {
				p++
			}
		}
		if start < hi {
			out = append(out, hi-start)
		}
		return out
	}
}

func splitTrailingSpace(c []rune, lo, hi int, out []int) []int {
	s := hi
	for s > lo && isWhitespace(c[s-1]) {
		s--
	}
	if s > lo {
		out = append(out, s-lo)
	}
	if s < hi {
		out = append(out, hi-s)
	}
	return out
}

// pieceView gives the scanners llama.cpp's view of one piece: code points and
// classes inside [lo, hi), nothing outside.
type pieceView struct {
	c      []rune
	lo, hi int
}

const outOfRange = -1

func (v pieceView) cpt(p int) rune {
	if p >= v.lo && p < v.hi {
		return v.c[p]
	}
	return outOfRange
}

func (v pieceView) flags(p int) uint16 {
	if p >= v.lo && p < v.hi {
		return cpFlags(v.c[p])
	}
	return 0
}

// pieceAdder emits the piece ending at end and returns its length.
type pieceAdder struct {
	out  []int
	prev int
}

func (a *pieceAdder) add(end int) int {
	n := end - a.prev
	if n > 0 {
		a.out = append(a.out, n)
	}
	a.prev = end
	return n
}

// splitGPT2 is 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// as llama.cpp's unicode_regex_split_custom_gpt2 scans it.
func splitGPT2(c []rune, lo, hi int, out []int) []int {
	v := pieceView{c, lo, hi}
	a := pieceAdder{out: out, prev: lo}
	const ws, let, num = flWhitespace, flLetter, flNumber
	for pos := lo; pos < hi; {
		cpt := v.cpt(pos)
		flags := v.flags(pos)

		// 's|'t|'re|'ve|'m|'ll|'d
		if cpt == '\'' && pos+1 < hi {
			next := v.cpt(pos + 1)
			if next == 's' || next == 't' || next == 'm' || next == 'd' {
				pos += a.add(pos + 2)
				continue
			}
			if pos+2 < hi {
				nn := v.cpt(pos + 2)
				if (next == 'r' && nn == 'e') || (next == 'v' && nn == 'e') || (next == 'l' && nn == 'l') {
					pos += a.add(pos + 3)
					continue
				}
			}
		}

		flags2 := flags
		if cpt == ' ' {
			flags2 = v.flags(pos + 1)
		}
		// <space>?\p{L}+
		if flags2&let != 0 {
			if cpt == ' ' {
				pos++
			}
			for flags2&let != 0 {
				pos++
				flags2 = v.flags(pos)
			}
			a.add(pos)
			continue
		}
		// <space>?\p{N}+
		if flags2&num != 0 {
			if cpt == ' ' {
				pos++
			}
			for flags2&num != 0 {
				pos++
				flags2 = v.flags(pos)
			}
			a.add(pos)
			continue
		}
		// <space>?[^\s\p{L}\p{N}]+
		if flags2&(ws|let|num) == 0 && flags2 != 0 {
			if cpt == ' ' {
				pos++
			}
			for flags2&(ws|let|num) == 0 && flags2 != 0 {
				pos++
				flags2 = v.flags(pos)
			}
			a.add(pos)
			continue
		}

		nws := 0
		for v.flags(pos+nws)&ws != 0 {
			nws++
		}
		// \s+(?!\S)
		if nws > 1 && v.cpt(pos+nws) != outOfRange {
			pos += nws - 1
			a.add(pos)
			continue
		}
		// \s+
		if nws > 0 {
			pos += nws
			a.add(pos)
			continue
		}
		// no match
		pos++
		a.add(pos)
	}
	return a.out
}

// llama3Opts selects among the members of the LLaMA 3 family of expressions:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
type llama3Opts struct {
	contractions bool // the leading contraction alternative
	digits       int  // D
	trailNL      bool // [\r\n]* after punctuation
}

// llama3Split scans the family as llama.cpp's
// unicode_regex_split_custom_llama3 does; for the members llama.cpp runs
// through std::regex the scan gives the same pieces.
func llama3Split(o llama3Opts) splitter {
	return func(c []rune, lo, hi int, out []int) []int {
		v := pieceView{c, lo, hi}
		a := pieceAdder{out: out, prev: lo}
		const ws, let, num = flWhitespace, flLetter, flNumber
		for pos := lo; pos < hi; {
			cpt := v.cpt(pos)
			flags := v.flags(pos)

			if o.contractions && cpt == '\'' && pos+1 < hi {
				if e := contraction(v, pos); e > 0 {
					pos += a.add(e)
					continue
				}
			}

			// [^\r\n\p{L}\p{N}]?\p{L}+
			if !(cpt == '\r' || cpt == '\n' || flags&num != 0) {
				if flags&let != 0 || v.flags(pos+1)&let != 0 {
					pos++
					for v.flags(pos)&let != 0 {
						pos++
					}
					a.add(pos)
					continue
				}
			}

			// \p{N}{1,D}
			if flags&num != 0 {
				ini := pos
				for v.flags(pos)&num != 0 {
					pos++
					if pos-ini >= o.digits {
						a.add(pos)
						ini = pos
					}
				}
				a.add(pos)
				continue
			}

			// <space>?[^\s\p{L}\p{N}]+[\r\n]*
			flags2 := flags
			if cpt == ' ' {
				flags2 = v.flags(pos + 1)
			}
			if flags2&(ws|let|num) == 0 && flags != 0 {
				if cpt == ' ' {
					pos++
				}
				for flags2&(ws|let|num) == 0 && flags2 != 0 {
					pos++
					flags2 = v.flags(pos)
				}
				if o.trailNL {
					for c2 := v.cpt(pos); c2 == '\r' || c2 == '\n'; c2 = v.cpt(pos) {
						pos++
					}
				}
				a.add(pos)
				continue
			}

			nws, lastNL := 0, 0
			for v.flags(pos+nws)&ws != 0 {
				if c2 := v.cpt(pos + nws); c2 == '\r' || c2 == '\n' {
					lastNL = pos + nws + 1
				}
				nws++
			}
			// \s*[\r\n]+
			if lastNL > 0 {
				pos = lastNL
				a.add(pos)
				continue
			}
			// \s+(?!\S)
			if nws > 1 && v.cpt(pos+nws) != outOfRange {
				pos += nws - 1
				a.add(pos)
				continue
			}
			// \s+
			if nws > 0 {
				pos += nws
				a.add(pos)
				continue
			}
			pos++
			a.add(pos)
		}
		return a.out
	}
}

// contraction matches (?i:'s|'t|'re|'ve|'m|'ll|'d) at pos (which holds the
// apostrophe) and returns its end, or -1.
func contraction(v pieceView, pos int) int {
	next := toLower(v.cpt(pos + 1))
	if next == 's' || next == 't' || next == 'm' || next == 'd' {
		return pos + 2
	}
	if pos+2 < v.hi {
		nn := toLower(v.cpt(pos + 2))
		if (next == 'r' && nn == 'e') || (next == 'v' && nn == 'e') || (next == 'l' && nn == 'l') {
			return pos + 3
		}
	}
	return -1
}

// gpt4oOpts selects between GPT-4o's expression and Tekken's:
//
//	[^\r\n\p{L}\p{N}]?U*L+C?|[^\r\n\p{L}\p{N}]?U+L*C?|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// where, as llama.cpp rewrites the case classes, U is a letter other than
// a-z, L a letter other than A-Z (so non-ASCII letters are both), and C the
// optional contraction.
type gpt4oOpts struct {
	contractions bool
	digits       int
}

func gpt4oSplit(o gpt4oOpts) splitter {
	isU := func(r rune) bool { return cpFlags(r)&flLetter != 0 && !(r >= 'a' && r <= 'z') }
	isL := func(r rune) bool { return cpFlags(r)&flLetter != 0 && !(r >= 'A' && r <= 'Z') }
	return searchSplit(func(c []rune, p, hi int) int {
		v := pieceView{c, 0, hi}
		f := cpFlags(c[p])
		q := p
		if !(c[p] == '\r' || c[p] == '\n') && f&(flLetter|flNumber) == 0 {
			q = p + 1 // the optional leading character
		}
		tail := func(e int) int {
			if o.contractions && v.cpt(e) == '\'' && e+1 < hi {
				if e2 := contraction(v, e); e2 > 0 {
					return e2
				}
			}
			return e
		}
		if q < hi {
			// U*L+: the longest run of U that still leaves an L to start L+.
			j := q
			for j < hi && isU(c[j]) {
				j++
			}
			for k := j; k >= q; k-- {
				if k < hi && isL(c[k]) {
					e := k + 1
					for e < hi && isL(c[e]) {
						e++
					}
					return tail(e)
				}
			}
			// U+L*
			if j > q {
				e := j
				for e < hi && isL(c[e]) {
					e++
				}
				return tail(e)
			}
		}
		// Without the leading character c[p] would have to be a letter,
		// which it is not when the leading character was taken.
		if f&flNumber != 0 {
			e := p
			for e < hi && e-p < o.digits && cpFlags(c[e])&flNumber != 0 {
				e++
			}
			return e
		}
		other := func(r rune) bool { return cpFlags(r)&(flWhitespace|flLetter|flNumber) == 0 }
		// " ?[^\s\p{L}\p{N}]+[\r\n/]*"
		s := p
		if c[s] == ' ' && s+1 < hi && other(c[s+1]) {
			s++
		}
		if other(c[s]) {
			e := s
			for e < hi && other(c[e]) {
				e++
			}
			for e < hi && (c[e] == '\r' || c[e] == '\n' || c[e] == '/') {
				e++
			}
			return e
		}
		return matchSpaces(c, p, hi)
	})
}

// matchSpaces matches \s*[\r\n]+|\s+(?!\S)|\s+ at p, or returns -1.
func matchSpaces(c []rune, p, hi int) int {
	e, lastNL := p, -1
	for e < hi && isWhitespace(c[e]) {
		if c[e] == '\r' || c[e] == '\n' {
			lastNL = e + 1
		}
		e++
	}
	switch {
	case lastNL > 0:
		return lastNL
	case e-p > 1 && e < hi:
		return e - 1
	case e > p:
		return e
	}
	return -1
}

// deepseek3Words is the last expression of DeepSeek V3's pre-tokenizer:
//
//	[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// llama.cpp spells \p{S} for ASCII as $+<=>^`| (no ~), which this follows.
var deepseek3Words = searchSplit(func(c []rune, p, hi int) int {
	isAlpha := func(r rune) bool { return (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') }
	isLM := func(r rune) bool { return cpFlags(r)&(flLetter|flMark) != 0 }
	isSym := func(r rune) bool {
		if r < 0x80 {
			return strings.ContainsRune("$+<=>^`|", r)
		}
		return cpFlags(r)&flSymbol != 0
	}
	isPS := func(r rune) bool { return cpFlags(r)&flPunct != 0 || isSym(r) }
	r := c[p]
	if r > ' ' && r < 0x7F && !isAlpha(r) && !isDigit(r) && p+1 < hi && isAlpha(c[p+1]) {
		e := p + 1
		for e < hi && isAlpha(c[e]) {
			e++
		}
		return e
	}
	lmRun := func(q int) int {
		e := q
		for e < hi && isLM(c[e]) {
			e++
		}
		return e
	}
	if r != '\r' && r != '\n' && cpFlags(r)&flLetter == 0 && !isPS(r) && p+1 < hi {
		if e := lmRun(p + 1); e > p+1 {
			return e
		}
	}
	if e := lmRun(p); e > p {
		return e
	}
	s := p
	if r == ' ' && p+1 < hi && isPS(c[p+1]) {
		s++
	}
	if isPS(c[s]) {
		e := s
		for e < hi && isPS(c[e]) {
			e++
		}
		for e < hi && (c[e] == '\r' || c[e] == '\n') {
			e++
		}
		return e
	}
	return matchSpaces(c, p, hi)
})

// deepseekLetterRanges is the letter class of deepseek-llm's expression.
var deepseekLetterRanges = [][2]rune{
	{0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA},
	{0x1BC, 0x1BF}, {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377},
	{0x37B, 0x37D}, {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C},
	{0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556},
	{0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF},
	{0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D},
	{0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B},
	{0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE},
	{0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC},
	{0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113},
	{0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
	{0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
	{0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE},
	{0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787},
	{0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A},
	{0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
	{0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
}

// Pre-tokenizer families.
var (
	preDefault = preTokenizer{splits: []splitter{punctRunDefault, gpt2Split, numberRun, asciiDigits3}, cleanSpaces: true}
	preGPT2    = preTokenizer{splits: []splitter{gpt2Split}, cleanSpaces: true}
	preFalcon  = preTokenizer{splits: []splitter{punctRunFalcon, gpt2Split, asciiDigits3}, cleanSpaces: true}
	preStar    = preTokenizer{splits: []splitter{oneNumber, gpt2Split}, cleanSpaces: true}
	preLlama3  = preTokenizer{splits: []splitter{llama3Split(llama3Opts{contractions: true, digits: 3, trailNL: true})}, cleanSpaces: true}
	preQwen2   = preTokenizer{splits: []splitter{llama3Split(llama3Opts{contractions: true, digits: 1, trailNL: true})}}
	preSeed    = preTokenizer{splits: []splitter{llama3Split(llama3Opts{contractions: true, digits: 1})}}
	preGPT4o   = preTokenizer{splits: []splitter{gpt4oSplit(gpt4oOpts{contractions: true, digits: 3})}}
	preTekken  = preTokenizer{splits: []splitter{gpt4oSplit(gpt4oOpts{digits: 1})}, ignoreMerges: true, addBOS: true}
	prePoro    = preTokenizer{splits: []splitter{poroWords}}
	preViking  = preTokenizer{splits: []splitter{poroWords, oneNumber}}
	preDSLLM   = preTokenizer{splits: []splitter{oneNewline, wsDeepseekLetters, wsDeepseekPunct, trailingSpace, cjkRun, numberRun}}
	preDSCoder = preTokenizer{splits: []splitter{oneNewline, wsLetters, wsPunct, cjkRun, oneNumber}}
	preDSV3    = preTokenizer{splits: []splitter{numberRun3, cjkKanaRun, deepseek3Words}}
)

// preTokenizers maps the names tokenizer.ggml.pre takes to pre-tokenizers,
// as llama.cpp's llama_vocab::impl::load does.
var preTokenizers = map[string]preTokenizer{}

func register(p preTokenizer, names ...string) {
	for _, n := range names {
		q := p
		q.name = n
		preTokenizers[n] = q
	}
}

func init() {
	register(preDefault, "default")
	register(preGPT2, "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
		"a.x-4.0", "mellum", "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4",
		"mpt", "olmo", "jais")
	notClean := preGPT2
	notClean.cleanSpaces = false
	register(notClean, "trillion", "granite-docling")

	l3 := preLlama3
	l3.ignoreMerges, l3.addBOS = true, true
	register(l3, "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2")
	register(preLlama3, "dbrx", "smaug-bpe")
	glm := preLlama3
	glm.noBOS = true
	register(glm, "glm4", "chatglm-bpe")

	register(preDSLLM, "deepseek-llm")
	register(preDSCoder, "deepseek-coder")
	register(preDSV3, "deepseek-v3", "hunyuan-dense", "joyai-llm")
	register(preFalcon, "falcon")

	register(preStar, "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2")
	starNotClean := preStar
	starNotClean.cleanSpaces = false
	register(starNotClean, "command-r", "smollm")

	register(preQwen2, "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open",
		"bailingmoe", "bailingmoe2", "llada-moe", "grok-2")
	qwenClean := preQwen2
	qwenClean.cleanSpaces = true
	register(qwenClean, "stablelm2", "megrez")
	register(preSeed, "seed-coder")

	register(preGPT4o, "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2")
	register(preTekken, "tekken")

	register(prePoro, "poro-chat")
	poroClean := prePoro
	poroClean.cleanSpaces = true
	register(poroClean, "bloom", "gpt3-finnish")
	register(preViking, "viking")
}

// lookupPre finds the pre-tokenizer named name; "" means llama.cpp's default.
func lookupPre(name string) (preTokenizer, error) {
	if name == "" {
		name = "default"
	}
	p, ok := preTokenizers[name]
	if !ok {
		return preTokenizer{}, fmt.Errorf("tokenizer: unknown or unsupported pre-tokenizer %q (tokenizer.ggml.pre)", name)
	}
	return p, nil
}

// PreTokenizers returns the names tokenizer.ggml.pre may take, sorted.
func PreTokenizers() []string {
	names := make([]string, 0, len(preTokenizers))
	for n := range preTokenizers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
