package synth

import (
	"fmt"
)

// Token types of a SentencePiece vocabulary, as llama.cpp numbers them.
const (
	TokenNormal  = 1
	TokenUnknown = 2
	TokenControl = 3
	TokenByte    = 6
)

// MinVocab is the smallest vocabulary Vocab builds: three special tokens
// and the 256 byte tokens.
const MinVocab = 3 + 256

// Vocab builds a SentencePiece-style vocabulary of n tokens (n >= MinVocab):
// <unk>, <s>, </s>, the byte tokens <0x00>..<0xFF>, then unique word pieces
// (the word-start mark "▁", single letters, digits and punctuation, then
// lowercase strings of growing length, each also with "▁" in front), whose
// scores fall with their id. Every piece of length k > 1 is the
// concatenation of two shorter pieces, so the SentencePiece merge loop can
// reach it.
func Vocab(n int) (tokens []string, scores []float32, types []int32, err error) {
	if n < MinVocab {
		return nil, nil, nil, fmt.Errorf("a vocabulary needs at least %d tokens, not %d", MinVocab, n)
	}
	tokens = make([]string, 0, n)
	types = make([]int32, 0, n)
	scores = make([]float32, 0, n)
	add := func(s string, typ int32, score float32) {
		tokens = append(tokens, s)
		types = append(types, typ)
		scores = append(scores, score)
	}
	add("<unk>", TokenUnknown, 0)
	add("<s>", TokenControl, 0)
	add("</s>", TokenControl, 0)
	for b := 0; b < 256; b++ {
		add(fmt.Sprintf("<0x%02X>", b), TokenByte, 0)
	}
	seen := make(map[string]bool, n)
	piece := func(s string) bool {
		if len(tokens) >= n {
			return false
		}
		if !seen[s] {
			seen[s] = true
			add(s, TokenNormal, -float32(len(tokens)-MinVocab))
		}
		return len(tokens) < n
	}
	const sp = "▁"
	singles := []string{sp}
	for c := 'a'; c <= 'z'; c++ {
		singles = append(singles, string(c))
	}
	for c := 'A'; c <= 'Z'; c++ {
		singles = append(singles, string(c))
	}
	for c := '0'; c <= '9'; c++ {
		singles = append(singles, string(c))
	}
	for _, c := range ".,;:!?'\"-()[]{}<>/\\@#$%&*+=_~`|^" {
		singles = append(singles, string(c))
	}
	for _, s := range singles {
		if !piece(s) {
			return tokens, scores, types, nil
		}
	}
	for _, s := range singles[1:] {
		if !piece(sp + s) {
			return tokens, scores, types, nil
		}
	}
	// Lowercase strings of length 2, 3, ...: each as a word start and as a
	// word continuation.
	for length := 2; ; length++ {
		idx := make([]int, length)
		buf := make([]byte, length)
		for {
			for i, x := range idx {
				buf[i] = byte('a' + x)
			}
			s := string(buf)
			if !piece(sp+s) || !piece(s) {
				return tokens, scores, types, nil
			}
			// Next string in lexicographic order (last letter fastest).
			i := length - 1
			for i >= 0 && idx[i] == 25 {
				idx[i] = 0
				i--
			}
			if i < 0 {
				break
			}
			idx[i]++
		}
	}
}
