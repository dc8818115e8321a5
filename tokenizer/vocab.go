// Package tokenizer turns text into token ids and back for models stored as
// GGUF, reproducing llama.cpp's tokenizers (llama-vocab.cpp, unicode.cpp):
// SentencePiece-style BPE driven by token scores (tokenizer.ggml.model
// "llama") and GPT-2 byte-level BPE driven by ranked merges ("gpt2") with the
// pre-tokenizer tokenizer.ggml.pre names, plus special-token parsing,
// BOS/EOS handling and streaming detokenization.
package tokenizer

import (
	"errors"
	"fmt"
	"strconv"

	"ferry/gguf"
)

// Token types, as stored in tokenizer.ggml.token_type.
const (
	TypeUndefined   int32 = 0
	TypeNormal      int32 = 1
	TypeUnknown     int32 = 2
	TypeControl     int32 = 3
	TypeUserDefined int32 = 4
	TypeUnused      int32 = 5
	TypeByte        int32 = 6
)

// Vocabulary kinds, as tokenizer.ggml.model names them.
const (
	// ModelSPM is SentencePiece-style BPE over token scores (LLaMA 1/2, Mistral, Phi-3).
	ModelSPM = "llama"
	// ModelBPE is GPT-2 byte-level BPE over ranked merges (GPT-2, LLaMA 3, Qwen, ...).
	ModelBPE = "gpt2"
)

// Vocab is a tokenizer's description as GGUF metadata gives it. Token ids
// that are absent are -1. VocabFromGGUF fills it the way llama.cpp's loader
// does, defaults included; a hand-built Vocab is taken as it stands.
type Vocab struct {
	// Model is the vocabulary kind: ModelSPM or ModelBPE.
	Model string
	// Pre names the pre-tokenizer of a BPE vocabulary ("" means "default");
	// SentencePiece vocabularies ignore it.
	Pre string
	// Name is general.name; llama.cpp keys a few token attributes on it.
	Name string
	// Tokens holds each token's text, indexed by id.
	Tokens []string
	// Scores holds each token's score (SentencePiece merge priority); nil means all zero.
	Scores []float32
	// Types holds each token's type (TypeNormal, ...); nil means all normal.
	Types []int32
	// Merges holds the BPE merges, "left right", highest priority first.
	Merges []string
	// BOS, EOS, UNK, PAD and EOT are special token ids, -1 when absent.
	BOS, EOS, UNK, PAD, EOT int32
	// AddBOS and AddEOS say whether Encode with addSpecial adds BOS and EOS.
	AddBOS, AddEOS bool
	// AddSpacePrefix says whether SentencePiece text gets a leading space.
	AddSpacePrefix bool
}

// GGUF metadata keys read by VocabFromGGUF.
const (
	keyModel       = "tokenizer.ggml.model"
	keyPre         = "tokenizer.ggml.pre"
	keyTokens      = "tokenizer.ggml.tokens"
	keyScores      = "tokenizer.ggml.scores"
	keyTypes       = "tokenizer.ggml.token_type"
	keyMerges      = "tokenizer.ggml.merges"
	keyBOS         = "tokenizer.ggml.bos_token_id"
	keyEOS         = "tokenizer.ggml.eos_token_id"
	keyUNK         = "tokenizer.ggml.unknown_token_id"
	keyPAD         = "tokenizer.ggml.padding_token_id"
	keyEOT         = "tokenizer.ggml.eot_token_id"
	keyAddBOS      = "tokenizer.ggml.add_bos_token"
	keyAddEOS      = "tokenizer.ggml.add_eos_token"
	keySpacePrefix = "tokenizer.ggml.add_space_prefix"
)

// VocabFromGGUF reads the tokenizer metadata of f, applying llama.cpp's
// defaults: for "llama" vocabularies BOS 1, EOS 2, UNK 0, a BOS added and a
// space prefix; for "gpt2" BOS and EOS 11 (where the vocabulary reaches),
// no BOS unless the pre-tokenizer or add_bos_token asks for one. Special ids
// outside the vocabulary are ignored, as llama.cpp ignores them.
func VocabFromGGUF(f *gguf.File) (*Vocab, error) {
	model, ok := f.String(keyModel)
	if !ok {
		return nil, fmt.Errorf("tokenizer: missing %s", keyModel)
	}
	v := &Vocab{Model: model, BOS: -1, EOS: -1, UNK: -1, PAD: -1, EOT: -1}
	v.Name, _ = f.String("general.name")
	v.Pre, _ = f.String(keyPre)

	switch model {
	case ModelSPM:
		v.BOS, v.EOS, v.UNK = 1, 2, 0
		v.AddBOS, v.AddSpacePrefix = true, true
	case ModelBPE:
		pre, err := lookupPre(v.Pre)
		if err != nil {
			return nil, err
		}
		v.BOS, v.EOS = 11, 11
		if pre.noBOS {
			v.BOS = -1
		}
		v.AddBOS = pre.addBOS
		merges, ok := f.Strings(keyMerges)
		if !ok {
			return nil, fmt.Errorf("tokenizer: gpt2 vocabulary without %s (or not a string array)", keyMerges)
		}
		v.Merges = merges
	default:
		return nil, fmt.Errorf("tokenizer: unsupported tokenizer model %q (%s); supported: %q, %q", model, keyModel, ModelSPM, ModelBPE)
	}

	if _, present := f.Lookup(keyTokens); !present {
		return nil, fmt.Errorf("tokenizer: missing %s", keyTokens)
	}
	tokens, ok := f.Strings(keyTokens)
	if !ok {
		return nil, fmt.Errorf("tokenizer: %s is not a string array", keyTokens)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("tokenizer: %s is empty", keyTokens)
	}
	n := len(tokens)
	v.Tokens = make([]string, n)
	for i, s := range tokens {
		if s == "" {
			s = "[EMPTY_" + strconv.Itoa(i) + "]" // as llama.cpp names empty tokens
		}
		v.Tokens[i] = s
	}

	if _, present := f.Lookup(keyScores); present {
		scores, ok := f.Float32s(keyScores)
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s is not a numeric array", keyScores)
		}
		if len(scores) != n {
			return nil, fmt.Errorf("tokenizer: %s has %d entries for %d tokens", keyScores, len(scores), n)
		}
		v.Scores = scores
	}
	if _, present := f.Lookup(keyTypes); present {
		types, ok := f.Ints(keyTypes)
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s is not an integer array", keyTypes)
		}
		if len(types) != n {
			return nil, fmt.Errorf("tokenizer: %s has %d entries for %d tokens", keyTypes, len(types), n)
		}
		v.Types = make([]int32, n)
		for i, t := range types {
			v.Types[i] = int32(t)
		}
	}

	// Defaults that fall outside the vocabulary are disabled.
	for _, id := range []*int32{&v.BOS, &v.EOS, &v.UNK} {
		if *id >= int32(n) {
			*id = -1
		}
	}
	for _, s := range []struct {
		key string
		id  *int32
	}{{keyBOS, &v.BOS}, {keyEOS, &v.EOS}, {keyUNK, &v.UNK}, {keyPAD, &v.PAD}, {keyEOT, &v.EOT}} {
		if x, ok := f.Int(s.key); ok && x >= 0 && x < int64(n) {
			*s.id = int32(x)
		}
	}
	if b, ok := f.Bool(keyAddBOS); ok {
		v.AddBOS = b
	}
	if b, ok := f.Bool(keyAddEOS); ok {
		v.AddEOS = b
	}
	if b, ok := f.Bool(keySpacePrefix); ok {
		v.AddSpacePrefix = b
	}
	if v.AddBOS && v.BOS < 0 {
		return nil, fmt.Errorf("tokenizer: %s is true, but %s is not set", keyAddBOS, keyBOS)
	}
	if v.AddEOS && v.EOS < 0 {
		return nil, fmt.Errorf("tokenizer: %s is true, but %s is not set", keyAddEOS, keyEOS)
	}
	return v, nil
}

// Load opens the GGUF file at path and builds its tokenizer.
func Load(path string) (*Tokenizer, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	v, err := VocabFromGGUF(f)
	if err != nil {
		return nil, err
	}
	return New(v)
}

// validate checks v's internal consistency.
func (v *Vocab) validate() error {
	if v == nil {
		return errors.New("tokenizer: nil vocabulary")
	}
	if v.Model != ModelSPM && v.Model != ModelBPE {
		return fmt.Errorf("tokenizer: unsupported tokenizer model %q", v.Model)
	}
	n := len(v.Tokens)
	if n == 0 {
		return errors.New("tokenizer: vocabulary has no tokens")
	}
	if n > 1<<31-1 {
		return errors.New("tokenizer: vocabulary too large")
	}
	if v.Scores != nil && len(v.Scores) != n {
		return fmt.Errorf("tokenizer: %d scores for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) != n {
		return fmt.Errorf("tokenizer: %d token types for %d tokens", len(v.Types), n)
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"BOS", v.BOS}, {"EOS", v.EOS}, {"UNK", v.UNK}, {"PAD", v.PAD}, {"EOT", v.EOT}} {
		if s.id < -1 || s.id >= int32(n) {
			return fmt.Errorf("tokenizer: %s id %d outside the vocabulary of %d tokens (use -1 for none)", s.name, s.id, n)
		}
	}
	if v.AddBOS && v.BOS < 0 {
		return errors.New("tokenizer: AddBOS is set but there is no BOS token")
	}
	if v.AddEOS && v.EOS < 0 {
		return errors.New("tokenizer: AddEOS is set but there is no EOS token")
	}
	return nil
}
