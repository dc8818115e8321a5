package tokenizer

import "strings"

// fragment is a piece of the input: a special token (id >= 0) or text to
// tokenize (id == -1).
type fragment struct {
	id   int32
	text string
}

// partition splits text around the special tokens it contains, as
// llama.cpp's tokenizer_st_partition does: special tokens are taken longest
// text first, and each splits every text fragment at all its occurrences,
// left to right. Control and unknown tokens count only with parseSpecial;
// user-defined tokens always do. A token with the lstrip (rstrip) attribute
// eats the ASCII whitespace to its left (right).
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	frags := []fragment{{id: -1, text: text}}
	var next []fragment
	for _, id := range t.special {
		attr := t.attrs[id]
		if !parseSpecial && attr&(attrControl|attrUnknown) != 0 {
			continue
		}
		tok := t.tokens[id]
		// Cheap rejection: most special tokens occur nowhere in the text.
		found := false
		for _, f := range frags {
			if f.id < 0 && strings.Contains(f.text, tok) {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		next = next[:0]
		for _, f := range frags {
			if f.id >= 0 {
				next = append(next, f)
				continue
			}
			s := f.text
			for {
				i := strings.Index(s, tok)
				if i < 0 {
					if s != "" {
						next = append(next, fragment{id: -1, text: s})
					}
					break
				}
				left := s[:i]
				if attr&attrLStrip != 0 {
					left = strings.TrimRight(left, asciiSpace)
				}
				if left != "" {
					next = append(next, fragment{id: -1, text: left})
				}
				next = append(next, fragment{id: id})
				s = s[i+len(tok):]
				if attr&attrRStrip != 0 {
					s = strings.TrimLeft(s, asciiSpace)
				}
				if s == "" {
					break
				}
			}
		}
		frags, next = next, frags
	}
	return frags
}

// asciiSpace is what C's isspace accepts.
const asciiSpace = " \t\n\v\f\r"
