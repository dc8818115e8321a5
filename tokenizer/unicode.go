package tokenizer

import "unicode"

// Code point classes, numbered as llama.cpp's unicode_cpt_flags so the
// scanners in pretokenize.go read like the code they reproduce. A code point
// in range carries exactly one category bit (undefined for unassigned ones),
// plus flWhitespace for the Unicode White_Space set; positions outside the
// piece being split carry no bits at all.
const (
	flUndefined  uint16 = 1 << 0
	flNumber     uint16 = 1 << 1 // \p{N}
	flLetter     uint16 = 1 << 2 // \p{L}
	flSeparator  uint16 = 1 << 3 // \p{Z}
	flMark       uint16 = 1 << 4 // \p{M}
	flPunct      uint16 = 1 << 5 // \p{P}
	flSymbol     uint16 = 1 << 6 // \p{S}
	flControl    uint16 = 1 << 7 // \p{C}
	flWhitespace uint16 = 1 << 8 // \s
)

// maxCodepoint is one past the largest Unicode code point.
const maxCodepoint = 0x110000

// asciiFlags caches the classes of the ASCII range, the overwhelmingly common case.
var asciiFlags [128]uint16

func init() {
	for r := rune(0); r < 128; r++ {
		asciiFlags[r] = computeFlags(r)
	}
}

// cpFlags returns the class bits of code point r.
func cpFlags(r rune) uint16 {
	if r >= 0 && r < 128 {
		return asciiFlags[r]
	}
	return computeFlags(r)
}

func computeFlags(r rune) uint16 {
	if r < 0 || r >= maxCodepoint {
		return flUndefined
	}
	var f uint16
	switch {
	case unicode.IsLetter(r):
		f = flLetter
	case unicode.IsNumber(r):
		f = flNumber
	case unicode.IsPunct(r):
		f = flPunct
	case unicode.IsSymbol(r):
		f = flSymbol
	case unicode.IsMark(r):
		f = flMark
	case unicode.Is(unicode.Z, r):
		f = flSeparator
	case unicode.Is(unicode.C, r):
		f = flControl
	default:
		f = flUndefined
	}
	if isWhitespace(r) {
		f |= flWhitespace
	}
	return f
}

// isWhitespace reports membership of the Unicode White_Space property, the
// set llama.cpp's \s stands for.
func isWhitespace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0D, r == 0x20, r == 0x85, r == 0xA0, r == 0x1680,
		r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F,
		r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// utf8Len returns the length of the UTF-8 sequence a lead byte announces,
// as llama.cpp's unicode_len_utf8 does (continuation bytes count as 1).
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// decodeCodepoints splits s into code points the way llama.cpp's
// unicode_cpts_from_utf8 does: leniently (overlong forms and surrogates are
// accepted), with each byte that starts no valid sequence becoming U+FFFD.
// Values beyond U+10FFFF, which llama.cpp cannot re-encode, also become U+FFFD.
func decodeCodepoints(s string, dst []rune) []rune {
	for i := 0; i < len(s); {
		b0 := s[i]
		var r rune = 0xFFFD
		n := 1
		switch {
		case b0&0x80 == 0:
			r = rune(b0)
		case b0&0x40 == 0:
			// stray continuation byte
		case b0&0x20 == 0:
			if i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
				r = rune(b0&0x1F)<<6 | rune(s[i+1]&0x3F)
				n = 2
			}
		case b0&0x10 == 0:
			if i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
				r = rune(b0&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
				n = 3
			}
		case b0&0x08 == 0:
			if i+3 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 && s[i+3]&0xC0 == 0x80 {
				r = rune(b0&0x07)<<18 | rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F)
				n = 4
				if r >= maxCodepoint {
					r = 0xFFFD
				}
			}
		}
		dst = append(dst, r)
		i += n
	}
	return dst
}

// appendCodepoint appends the UTF-8 form of r as llama.cpp's
// unicode_cpt_to_utf8 writes it (surrogates are encoded like any other value).
func appendCodepoint(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xC0|byte(r>>6), 0x80|byte(r)&0x3F)
	case r < 0x10000:
		return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
	default:
		return append(dst, 0xF0|byte(r>>18)&0x07, 0x80|byte(r>>12)&0x3F, 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
	}
}

// toLower maps a code point to its simple lowercase form.
func toLower(r rune) rune {
	if r < 0x80 {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

// GPT-2's byte-level alphabet: every byte value maps to a printable code point.
var (
	byteToRune [256]rune
	// byteToUTF8 holds the UTF-8 form of byteToRune, ready to append.
	byteToUTF8 [256]string
	runeToByte = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		byteToUTF8[b] = string(byteToRune[b])
		runeToByte[byteToRune[b]] = byte(b)
	}
}
