package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Piece returns the bytes token id stands for, as llama.cpp's
// llama_token_to_piece renders it with special=false: SentencePiece's "▁"
// becomes a space and <0xXX> its byte; byte-level BPE tokens map back
// through GPT-2's alphabet; control and unknown tokens render as nothing;
// user-defined tokens as their text. A piece may be part of a UTF-8
// character. Ids out of range give nil.
func (t *Tokenizer) Piece(id int32) []byte {
	return t.TokenPiece(id, false)
}

// TokenPiece is Piece, except that with special control and unknown tokens
// render as their text (llama_token_to_piece's special argument).
func (t *Tokenizer) TokenPiece(id int32, special bool) []byte {
	if !t.valid(id) {
		return nil
	}
	attr := t.attrs[id]
	text := t.tokens[id]
	if attr&(attrUnknown|attrControl) != 0 {
		if !special {
			return nil
		}
		return []byte(text)
	}
	switch {
	case attr&attrUserDefined != 0:
		return []byte(text)
	case attr&attrNormal != 0:
		if t.spm {
			return []byte(strings.ReplaceAll(text, "▁", " "))
		}
		return decodeByteLevel(text)
	case attr&attrByte != 0:
		if b, ok := parseByteToken(text); ok {
			return []byte{b}
		}
		return nil
	}
	return nil // unused and undefined tokens render as nothing
}

// parseByteToken reads the byte of a <0xXX> token.
func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	var b byte
	for _, c := range []byte(s[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			b = b<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			b = b<<4 | (c - 'A' + 10)
		case c >= 'a' && c <= 'f':
			b = b<<4 | (c - 'a' + 10)
		default:
			return 0, false
		}
	}
	return b, true
}

// decodeByteLevel maps a byte-level BPE token back to bytes (llama.cpp's
// llama_decode_text, including its rendering of characters outside the
// alphabet).
func decodeByteLevel(text string) []byte {
	out := make([]byte, 0, len(text))
	for _, r := range decodeCodepoints(text, nil) {
		if b, ok := runeToByte[r]; ok {
			out = append(out, b)
			continue
		}
		var u [4]byte
		out = append(out, "[UNK_BYTE_0x"...)
		for _, c := range appendCodepoint(u[:0], r) {
			const hex = "0123456789abcdef"
			out = append(out, hex[c>>4], hex[c&15])
		}
		out = append(out, text...)
		out = append(out, ']')
	}
	return out
}

// Decode returns the text of ids: their pieces concatenated, control tokens
// omitted. As llama.cpp's llama_detokenize does, when the vocabulary adds a
// space prefix one leading space of the first token is dropped, unless that
// first token is BOS. Decode does no other clean-up, so for text without
// special tokens Decode(Encode(s, false, false)) == s.
func (t *Tokenizer) Decode(ids []int32) string {
	var b strings.Builder
	removeSpace := t.addSpacePrefix
	for _, id := range ids {
		p := t.Piece(id)
		if removeSpace && len(p) > 0 && p[0] == ' ' {
			p = p[1:]
		}
		removeSpace = false
		b.Write(p)
	}
	return b.String()
}

// Detokenize is llama.cpp's llama_detokenize: with removeSpecial a leading
// BOS and trailing EOS the vocabulary adds are dropped; with unparseSpecial
// control tokens render as their text; and for vocabularies whose
// pre-tokenizer asks for it (clean_up_tokenization_spaces: GPT-2, LLaMA 3,
// Falcon, StarCoder, ...) spaces before ?!., and some apostrophes are
// removed, so the result need not round-trip.
func (t *Tokenizer) Detokenize(ids []int32, removeSpecial, unparseSpecial bool) string {
	removeSpace := t.addSpacePrefix
	if removeSpecial && t.addBOS && len(ids) > 0 && ids[0] == t.bos {
		removeSpace = false
		ids = ids[1:]
	}
	if removeSpecial && t.addEOS && len(ids) > 0 && ids[len(ids)-1] == t.eos {
		ids = ids[:len(ids)-1]
	}
	var text []byte
	for _, id := range ids {
		p := t.TokenPiece(id, unparseSpecial)
		if removeSpace && len(p) > 0 && p[0] == ' ' {
			p = p[1:]
		}
		removeSpace = false
		text = append(text, p...)
	}
	if !t.spm && t.pre.cleanSpaces {
		text = cleanSpaces(text)
	}
	return string(text)
}

// cleanSpaces reproduces llama_detokenize's three clean-up passes.
func cleanSpaces(text []byte) []byte {
	// Pass 1: " ?", " !", " .", " ," lose their space.
	n := len(text)
	total := min(n, 1)
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			total--
		}
		text[total] = x
		total++
	}
	// Pass 2: a lone apostrophe between spaces loses both spaces.
	n = total
	total = min(n, 1)
	for i := 1; i < n; i++ {
		x := text[i]
		if x == '\'' && i+1 < n && text[i-1] == ' ' && text[i+1] == ' ' {
			total--
			text[i+1] = 0
			i++
			text[total] = x
			total++
			continue
		}
		text[total] = x
		total++
	}
	// Pass 3: " 's", " 'm", " 're", " 've" lose their space.
	n = total
	total = min(n, 1)
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && x == '\'' && i+1 < n {
			x1 := text[i+1]
			if x1 == 's' || x1 == 'm' {
				total--
			} else if x1 != 't' && x1 != 'd' && i+2 < n {
				x2 := text[i+2]
				if (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					total--
				}
			}
		}
		text[total] = x
		total++
	}
	return text[:total]
}

// Decoder turns a stream of token ids into text, emitting only complete
// UTF-8: the bytes of a character split across tokens (byte tokens) are held
// until the character is complete, and bytes that cannot form UTF-8 come out
// as U+FFFD. Like llama.cpp's streaming use of llama_token_to_piece, it
// strips no leading space by default, which suits a continuation printed
// after its prompt; see StripPrefixSpace.
type Decoder struct {
	t       *Tokenizer
	buf     []byte
	strip   bool
	started bool
}

// NewDecoder returns a streaming decoder.
func (t *Tokenizer) NewDecoder() *Decoder { return &Decoder{t: t} }

// StripPrefixSpace makes the decoder treat its first token as Decode does
// (a leading space dropped when the vocabulary adds a space prefix and the
// token is not BOS), so that it streams exactly Decode's text. It must be
// called before the first Add; it returns d.
func (d *Decoder) StripPrefixSpace() *Decoder {
	d.strip = true
	return d
}

// Add feeds one token and returns the text now complete (possibly none).
func (d *Decoder) Add(id int32) []byte {
	p := d.t.Piece(id)
	if d.strip && !d.started && d.t.addSpacePrefix && len(p) > 0 && p[0] == ' ' {
		p = p[1:]
	}
	d.started = true
	d.buf = append(d.buf, p...)
	return d.take(false)
}

// Flush returns whatever is held back, an unfinished character becoming
// U+FFFD. The decoder then carries on as if freshly made.
func (d *Decoder) Flush() []byte {
	out := d.take(true)
	d.started = false
	return out
}

func (d *Decoder) take(final bool) []byte {
	var out []byte
	i := 0
	for i < len(d.buf) {
		if !final && !utf8.FullRune(d.buf[i:]) {
			break // an incomplete character that may yet complete
		}
		r, n := utf8.DecodeRune(d.buf[i:])
		if r == utf8.RuneError && n <= 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
			i++
			continue
		}
		out = append(out, d.buf[i:i+n]...)
		i += n
	}
	d.buf = append(d.buf[:0], d.buf[i:]...)
	return out
}
