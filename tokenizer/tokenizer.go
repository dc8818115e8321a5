package tokenizer

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Token attributes, as llama.cpp's llama_token_attr numbers them.
const (
	attrUnknown     uint32 = 1 << 0
	attrUnused      uint32 = 1 << 1
	attrNormal      uint32 = 1 << 2
	attrControl     uint32 = 1 << 3
	attrUserDefined uint32 = 1 << 4
	attrByte        uint32 = 1 << 5
	attrLStrip      uint32 = 1 << 7
	attrRStrip      uint32 = 1 << 8
)

// mergeKey is a BPE merge's pair of symbols.
type mergeKey struct{ left, right string }

// Tokenizer encodes text to token ids and decodes ids to text. It is safe
// for concurrent use.
type Tokenizer struct {
	spm    bool
	pre    preTokenizer
	tokens []string
	scores []float32
	attrs  []uint32
	toID   map[string]int32
	ranks  map[mergeKey]int32

	bos, eos, unk, pad, eot int32
	addBOS, addEOS          bool
	addSpacePrefix          bool

	eog map[int32]struct{}
	// special lists the ids split out of text before tokenizing (control,
	// user-defined and unknown tokens), longest text first.
	special []int32
	// byteTok maps a byte to its SentencePiece byte token, -1 where none.
	byteTok [256]int32
}

// EOG and FIM token texts llama.cpp recognizes when the metadata does not
// name them (llama_vocab::impl::load).
var (
	eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
		"<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}
	eomTexts    = []string{"<|eom_id|>"}
	fimPreTexts = []string{"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"}
	fimSufTexts = []string{"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"}
	fimMidTexts = []string{"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"}
	fimPadTexts = []string{"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}
	fimRepTexts = []string{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}
	fimSepTexts = []string{"<|file_sep|>"}
	eogTexts    = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
		"<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
		"<|end_of_text|>", "<end_of_utterance>", "<｜end▁of▁sentence｜>"}
)

// New builds a tokenizer for v. It does not modify v.
func New(v *Vocab) (*Tokenizer, error) {
	if err := v.validate(); err != nil {
		return nil, err
	}
	n := len(v.Tokens)
	t := &Tokenizer{
		spm:            v.Model == ModelSPM,
		tokens:         slices.Clone(v.Tokens),
		scores:         slices.Clone(v.Scores),
		attrs:          make([]uint32, n),
		toID:           make(map[string]int32, n),
		bos:            v.BOS,
		eos:            v.EOS,
		unk:            v.UNK,
		pad:            v.PAD,
		eot:            v.EOT,
		addBOS:         v.AddBOS,
		addEOS:         v.AddEOS,
		addSpacePrefix: v.AddSpacePrefix,
		eog:            map[int32]struct{}{},
	}
	if t.scores == nil {
		t.scores = make([]float32, n)
	}
	if !t.spm {
		pre, err := lookupPre(v.Pre)
		if err != nil {
			return nil, err
		}
		t.pre = pre
	}

	for i, s := range v.Tokens {
		if s == "" {
			return nil, fmt.Errorf("tokenizer: token %d is empty", i)
		}
		if j, dup := t.toID[s]; dup {
			return nil, fmt.Errorf("tokenizer: duplicate token %q has ids %d and %d", s, j, i)
		}
		t.toID[s] = int32(i)
		typ := TypeNormal
		if v.Types != nil {
			typ = v.Types[i]
		}
		switch typ {
		case TypeNormal:
			t.attrs[i] = attrNormal
		case TypeUnknown:
			t.attrs[i] = attrUnknown
		case TypeControl:
			t.attrs[i] = attrControl
		case TypeUserDefined:
			t.attrs[i] = attrUserDefined
		case TypeUnused:
			t.attrs[i] = attrUnused
		case TypeByte:
			t.attrs[i] = attrByte
		default:
			t.attrs[i] = 0 // undefined
		}
	}

	if !t.spm {
		t.ranks = make(map[mergeKey]int32, len(v.Merges))
		for i, m := range v.Merges {
			// llama.cpp splits at the first space after the first byte; a
			// merge without one becomes the pair ("", "") that never matches.
			var k mergeKey
			if len(m) > 1 {
				if p := strings.IndexByte(m[1:], ' '); p >= 0 {
					k = mergeKey{m[:p+1], m[p+2:]}
				}
			}
			if _, ok := t.ranks[k]; !ok {
				t.ranks[k] = int32(i)
			}
		}
	} else {
		const hex = "0123456789ABCDEF"
		for b := 0; b < 256; b++ {
			t.byteTok[b] = -1
			if id, ok := t.toID["<0x"+string(hex[b>>4])+string(hex[b&15])+">"]; ok {
				t.byteTok[b] = id
			} else if id, ok := t.toID[string([]byte{byte(b)})]; ok {
				t.byteTok[b] = id
			}
		}
	}

	t.detectSpecial(v.Name)
	return t, nil
}

// detectSpecial finds EOG tokens and adjusts token attributes the way
// llama.cpp's loader does, then lists the tokens split out of text.
func (t *Tokenizer) detectSpecial(name string) {
	// find looks up the first of texts the vocabulary holds and marks it
	// control, as llama.cpp does for control-looking tokens.
	find := func(texts []string) int32 {
		for _, s := range texts {
			if id, ok := t.toID[s]; ok {
				t.attrs[id] |= attrControl
				return id
			}
		}
		return -1
	}
	if t.eot < 0 {
		t.eot = find(eotTexts)
	}
	eom := find(eomTexts)
	find(fimPreTexts)
	find(fimSufTexts)
	find(fimMidTexts)
	for _, id := range []int32{find(fimPadTexts), find(fimRepTexts), find(fimSepTexts)} {
		if id >= 0 {
			t.eog[id] = struct{}{}
		}
	}
	// Control tokens with "unused" in their text are unused.
	for id, s := range t.tokens {
		if t.attrs[id]&attrControl != 0 && strings.Contains(s, "unused") {
			t.attrs[id] |= attrUnused
		}
	}
	for _, s := range eogTexts {
		if id, ok := t.toID[s]; ok {
			t.eog[int32(id)] = struct{}{}
			t.attrs[id] |= attrControl
		}
	}
	// gpt-oss: these always render.
	for _, s := range []string{"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"} {
		if id, ok := t.toID[s]; ok {
			t.attrs[id] = attrUserDefined
		}
	}
	for _, id := range []int32{t.eos, t.eot, eom} {
		if id >= 0 {
			t.eog[id] = struct{}{}
		}
	}
	// o200k_harmony and solar-open end turns with <|return|>/<|call|>
	// (or <|calls|>/<|flush|>); their <|end|> does not end generation.
	has := func(s string) bool {
		id, ok := t.toID[s]
		if !ok {
			return false
		}
		_, in := t.eog[id]
		return in
	}
	if end, ok := t.toID["<|end|>"]; ok && has("<|end|>") &&
		((has("<|return|>") && has("<|call|>")) || (has("<|calls|>") && has("<|flush|>"))) {
		delete(t.eog, end)
		t.attrs[end] = attrUserDefined
	}

	for id := range t.tokens {
		if t.attrs[id]&(attrControl|attrUserDefined|attrUnknown) != 0 {
			t.special = append(t.special, int32(id))
		}
	}
	sort.SliceStable(t.special, func(i, j int) bool {
		return len(t.tokens[t.special[i]]) > len(t.tokens[t.special[j]])
	})

	// Per-model attributes llama.cpp sets from the model's name.
	lname := strings.ToLower(name)
	set := func(s string, attr uint32, on bool) {
		if id, ok := t.toID[s]; ok {
			if on {
				t.attrs[id] |= attr
			} else {
				t.attrs[id] &^= attr
			}
		}
	}
	switch {
	case strings.Contains(t.pre.name, "jina-v2-de"), strings.Contains(t.pre.name, "jina-v2-es"),
		strings.Contains(t.pre.name, "jina-v2-code"):
		set("<mask>", attrLStrip, true)
	case strings.Contains(lname, "phi-3"), strings.Contains(lname, "phi3"):
		for _, id := range t.special {
			t.attrs[id] |= attrRStrip
		}
		set("</s>", attrRStrip, true)
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			set(s, attrRStrip, false)
		}
	case strings.Contains(lname, "modern-bert"):
		set("[MASK]", attrLStrip, true)
	}
}

// NVocab returns the number of tokens.
func (t *Tokenizer) NVocab() int { return len(t.tokens) }

// BOS returns the beginning-of-sequence token, or -1.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns the end-of-sequence token, or -1.
func (t *Tokenizer) EOS() int32 { return t.eos }

// EOT returns the end-of-turn token (from metadata or recognized by its
// text, such as <|eot_id|> or <|im_end|>), or -1.
func (t *Tokenizer) EOT() int32 { return t.eot }

// UNK returns the unknown token, or -1.
func (t *Tokenizer) UNK() int32 { return t.unk }

// PAD returns the padding token, or -1.
func (t *Tokenizer) PAD() int32 { return t.pad }

// AddBOS reports whether Encode with addSpecial prepends BOS.
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// AddEOS reports whether Encode with addSpecial appends EOS.
func (t *Tokenizer) AddEOS() bool { return t.addEOS }

// IsEOG reports whether id ends generation: EOS, EOT, and the tokens
// llama.cpp treats as such (<|im_end|>, <|eot_id|>, <|endoftext|>, ...).
func (t *Tokenizer) IsEOG(id int32) bool {
	_, ok := t.eog[id]
	return ok
}

// EOGs returns the end-of-generation tokens in increasing order.
func (t *Tokenizer) EOGs() []int32 {
	ids := make([]int32, 0, len(t.eog))
	for id := range t.eog {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// IsControl reports whether id is a control token (rendered as nothing by Piece).
func (t *Tokenizer) IsControl(id int32) bool {
	return t.valid(id) && t.attrs[id]&attrControl != 0
}

// Token returns the vocabulary text of id ("" when out of range).
func (t *Tokenizer) Token(id int32) string {
	if !t.valid(id) {
		return ""
	}
	return t.tokens[id]
}

// ID returns the id of the token whose vocabulary text is s.
func (t *Tokenizer) ID(s string) (int32, bool) {
	id, ok := t.toID[s]
	return id, ok
}

func (t *Tokenizer) valid(id int32) bool { return id >= 0 && int(id) < len(t.tokens) }

// Encode tokenizes text. With addSpecial, BOS and EOS are added as the
// vocabulary asks (AddBOS, AddEOS). With parseSpecial, the texts of control
// tokens (such as <|im_start|>) in text become those tokens; without it they
// are tokenized as plain text. User-defined tokens are always recognized.
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	var out []int32
	var frags []fragment
	if text != "" {
		frags = t.partition(text, parseSpecial)
	}
	if addSpecial && t.addBOS {
		out = append(out, t.bos)
	}
	if t.spm {
		prevSpecial := true // a space prefix goes before the first text
		var s spmSession
		for _, f := range frags {
			if f.id >= 0 {
				out = append(out, f.id)
				prevSpecial = true
				continue
			}
			var b strings.Builder
			b.Grow(len(f.text) + 3)
			if t.addSpacePrefix && prevSpecial {
				b.WriteString("▁")
			}
			for i := 0; i < len(f.text); i++ {
				if f.text[i] == ' ' {
					b.WriteString("▁")
				} else {
					b.WriteByte(f.text[i])
				}
			}
			out = s.tokenize(t, b.String(), out)
			prevSpecial = false
		}
	} else {
		var s bpeSession
		for _, f := range frags {
			if f.id >= 0 {
				out = append(out, f.id)
				continue
			}
			out = s.tokenize(t, f.text, out)
		}
	}
	if addSpecial && t.addEOS {
		out = append(out, t.eos)
	}
	return out
}
