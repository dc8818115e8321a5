// Package engine ties a loaded model together: tokenizer, transformer, KV
// cache and sampler, and the loop that evaluates a prompt and generates.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"ferry/embedded"
	"ferry/gguf"
	"ferry/kv"
	"ferry/model"
	"ferry/sample"
	"ferry/tier"
	"ferry/tokenizer"
)

// Options configures Load.
type Options struct {
	// Context is the KV cache length in tokens; 0 means min(the model's, 4096).
	Context int
}

// Engine is one loaded model ready to evaluate and generate.
type Engine struct {
	Path   string
	File   *gguf.File
	Model  *model.Transformer
	Tok    *tokenizer.Tokenizer
	Cache  *kv.Cache
	store  *tier.Store
	closer io.Closer
}

// Load opens the GGUF model at path; an empty path loads the embedded default.
func Load(path string, opts Options) (*Engine, error) {
	var src io.ReaderAt
	var size int64
	var closer io.Closer
	if path == "" {
		src, size, path = bytes.NewReader(embedded.Model), int64(len(embedded.Model)), "(embedded) "+embedded.Name
	} else {
		fh, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, err
		}
		if !st.Mode().IsRegular() {
			fh.Close()
			return nil, fmt.Errorf("%s is not a regular file", path)
		}
		src, size, closer = fh, st.Size(), fh
	}
	e, err := load(path, src, size, opts)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	e.closer = closer
	return e, nil
}

func load(path string, src io.ReaderAt, size int64, opts Options) (*Engine, error) {
	g, err := gguf.Parse(src, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := model.ConfigFromGGUF(g); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	vocab, err := tokenizer.VocabFromGGUF(g)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tok, err := tokenizer.New(vocab)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	store, err := tier.Open(src, g)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := model.Load(g, store)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Vocab != tok.NVocab() {
		store.Close()
		return nil, fmt.Errorf("%s: the model has %d logits but the tokenizer %d tokens", path, m.Vocab, tok.NVocab())
	}
	ctx := opts.Context
	if ctx <= 0 {
		ctx = min(m.Context, 4096)
	}
	return &Engine{
		Path:  path,
		File:  g,
		Model: m,
		Tok:   tok,
		Cache: kv.New(m.Blocks, ctx, m.KVDim()),
		store: store,
	}, nil
}

// Close releases the model's memory and file.
func (e *Engine) Close() error {
	e.store.Close()
	if e.closer != nil {
		return e.closer.Close()
	}
	return nil
}

// ErrContext reports a prompt or generation that does not fit the context.
var ErrContext = errors.New("context length exceeded")

// Eval evaluates prompt as one batch from position 0 and returns the logits
// of every position, [len(prompt)][vocab].
func (e *Engine) Eval(prompt []int32) ([]float32, error) {
	if err := e.checkPrompt(prompt); err != nil {
		return nil, err
	}
	logits, err := e.Model.Forward(prompt, 0, e.Cache, true)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), logits...), nil
}

func (e *Engine) checkPrompt(prompt []int32) error {
	if len(prompt) == 0 {
		return fmt.Errorf("empty prompt")
	}
	if len(prompt) > e.Cache.Context {
		return fmt.Errorf("%w: the prompt has %d tokens, the context holds %d", ErrContext, len(prompt), e.Cache.Context)
	}
	for _, t := range prompt {
		if t < 0 || int(t) >= e.Model.Vocab {
			return fmt.Errorf("token id %d is outside the vocabulary (0..%d)", t, e.Model.Vocab-1)
		}
	}
	return nil
}

// Request is one generation.
type Request struct {
	Prompt []int32
	// MaxTokens caps the generated tokens; generation also stops at an
	// end-of-generation token or when the context is full.
	MaxTokens int
	Sampling  sample.Params
	// OnToken, when set, is called with each generated token and the text it
	// completes (valid UTF-8, possibly empty); returning false stops.
	OnToken func(tok int32, text []byte) bool
}

// Result is what Generate produced.
type Result struct {
	Tokens []int32
	Text   string
	// FinishReason is "stop" (end of generation), "length" (MaxTokens or the
	// context) or "cancelled".
	FinishReason  string
	PromptTime    time.Duration
	GenerateTime  time.Duration
	PromptTokens  int
	DecodedTokens int
}

// PrefillTokS returns the prompt evaluation speed in tokens per second.
func (r *Result) PrefillTokS() float64 { return rate(r.PromptTokens, r.PromptTime) }

// DecodeTokS returns the generation speed in tokens per second.
func (r *Result) DecodeTokS() float64 { return rate(r.DecodedTokens, r.GenerateTime) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Generate evaluates the prompt and samples up to MaxTokens tokens.
func (e *Engine) Generate(ctx context.Context, req Request) (*Result, error) {
	if err := e.checkPrompt(req.Prompt); err != nil {
		return nil, err
	}
	s := sample.New(req.Sampling)
	for _, t := range req.Prompt {
		s.Accept(t)
	}
	res := &Result{FinishReason: "length", PromptTokens: len(req.Prompt)}
	start := time.Now()
	logits, err := e.Model.Forward(req.Prompt, 0, e.Cache, false)
	if err != nil {
		return nil, err
	}
	res.PromptTime = time.Since(start)
	dec := e.Tok.NewDecoder()
	var text bytes.Buffer
	pos := len(req.Prompt)
	start = time.Now()
	for len(res.Tokens) < req.MaxTokens {
		if ctx.Err() != nil {
			res.FinishReason = "cancelled"
			break
		}
		tok := s.Sample(logits)
		if e.Tok.IsEOG(tok) {
			res.FinishReason = "stop"
			break
		}
		s.Accept(tok)
		res.Tokens = append(res.Tokens, tok)
		piece := dec.Add(tok)
		text.Write(piece)
		if req.OnToken != nil && !req.OnToken(tok, piece) {
			res.FinishReason = "cancelled"
			break
		}
		if len(res.Tokens) == req.MaxTokens || pos >= e.Cache.Context {
			break
		}
		logits, err = e.Model.Forward([]int32{tok}, pos, e.Cache, false)
		if err != nil {
			return nil, err
		}
		pos++
		res.DecodedTokens++
	}
	res.GenerateTime = time.Since(start)
	tail := dec.Flush()
	text.Write(tail)
	if len(tail) > 0 && req.OnToken != nil {
		req.OnToken(-1, tail)
	}
	res.Text = text.String()
	return res, nil
}

// OpenHeader parses the header of the GGUF file at path (the embedded default
// when path is empty) without loading any weights. It returns the path as shown to users.
func OpenHeader(path string) (string, *gguf.File, error) {
	if path == "" {
		g, err := gguf.Parse(bytes.NewReader(embedded.Model), int64(len(embedded.Model)))
		return "(embedded) " + embedded.Name, g, err
	}
	g, err := gguf.Open(path)
	return path, g, err
}
