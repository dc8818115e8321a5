package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"ferry/model"
	"ferry/sample"
	"ferry/tier"
)

// ErrContext reports a prompt or generation that does not fit the context.
var ErrContext = errors.New("context length exceeded")

// Eval evaluates prompt as one batch from position 0 and returns the logits
// of every position, [len(prompt)][vocab].
func (e *Engine) Eval(prompt []int32) ([]float32, error) {
	if err := e.checkPrompt(prompt); err != nil {
		return nil, err
	}
	out := make([]float32, 0, len(prompt)*e.Model.Vocab)
	err := e.prefill(prompt, func(logits []float32) { out = append(out, logits...) })
	return out, err
}

// prefill evaluates prompt from position 0 in batches of at most Opts.Batch
// tokens, passing the logits of each batch to use (all positions when all,
// else only the last position of the last batch).
func (e *Engine) prefill(prompt []int32, use func([]float32)) error {
	all := use != nil
	for pos := 0; pos < len(prompt); pos += e.Opts.Batch {
		end := min(pos+e.Opts.Batch, len(prompt))
		logits, err := e.forward(prompt[pos:end], pos, all)
		if err != nil {
			return err
		}
		if all {
			use(logits)
		} else if end == len(prompt) {
			e.last = logits
		}
	}
	return nil
}

// forward runs one forward pass of the first sequence slot.
func (e *Engine) forward(tokens []int32, pos int, all bool) ([]float32, error) {
	e.seq1[0] = model.Seq{Tokens: tokens, Pos: pos, Cache: e.Cache, All: all}
	return e.forwardBatch(e.seq1[:])
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
	// IgnoreEOS keeps generating past end-of-generation tokens (benchmarks).
	IgnoreEOS bool
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
	// PrefillIO and DecodeIO count what the tier streamed in each phase.
	PrefillIO, DecodeIO tier.Stats
	// PrefillExperts and DecodeExperts count the expert cache's work.
	PrefillExperts, DecodeExperts tier.ExpertStats
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
	e.startRequest(e.Cache)
	defer e.endRequest()
	res := &Result{FinishReason: "length", PromptTokens: len(req.Prompt)}
	start := time.Now()
	io0, ex0 := e.store.Stats(), e.ExpertStats()
	if err := e.prefill(req.Prompt, nil); err != nil {
		return nil, err
	}
	logits := e.last
	res.PromptTime = time.Since(start)
	io1, ex1 := e.store.Stats(), e.ExpertStats()
	res.PrefillIO = io1.Sub(io0)
	res.PrefillExperts = ex1.Sub(ex0)
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
		if e.Tok.IsEOG(tok) && !req.IgnoreEOS {
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
		e.one[0] = tok
		var err error
		logits, err = e.forward(e.one[:], pos, false)
		if err != nil {
			return nil, err
		}
		pos++
		res.DecodedTokens++
	}
	res.GenerateTime = time.Since(start)
	res.DecodeIO = e.store.Stats().Sub(io1)
	res.DecodeExperts = e.ExpertStats().Sub(ex1)
	tail := dec.Flush()
	text.Write(tail)
	if len(tail) > 0 && req.OnToken != nil {
		req.OnToken(-1, tail)
	}
	res.Text = text.String()
	return res, nil
}
