package engine

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"ferry/model"
	"ferry/sample"
	"ferry/tier"
	"ferry/tokenizer"
)

// BatchStats describes one GenerateBatch call.
type BatchStats struct {
	Sequences    int
	PromptTokens int
	Generated    int
	Steps        int // decode steps, each one pass over the weights
	PrefillTime  time.Duration
	DecodeTime   time.Duration
}

// DecodeTokS returns generated tokens per second of decode time.
func (b BatchStats) DecodeTokS() float64 { return rate(b.Generated, b.DecodeTime) }

// GenerateBatch generates for up to Opts.Parallel requests at once. Every
// decode step runs all unfinished sequences through one forward pass, so the
// weights are read once per step whatever the batch size (FlexGen's
// throughput mode): when reading the weights is the bottleneck, tokens per
// second grow with the batch.
func (e *Engine) GenerateBatch(ctx context.Context, reqs []Request) ([]*Result, BatchStats, error) {
	var st BatchStats
	if len(reqs) > len(e.Caches) {
		return nil, st, fmt.Errorf("%d requests exceed the %d parallel sequences the engine was loaded for", len(reqs), len(e.Caches))
	}
	type seqState struct {
		req     Request
		res     *Result
		sampler *sample.Sampler
		dec     *tokenizer.Decoder
		text    bytes.Buffer
		pos     int
		next    int32
		done    bool
	}
	seqs := make([]*seqState, len(reqs))
	for i, r := range reqs {
		if err := e.checkPrompt(r.Prompt); err != nil {
			return nil, st, fmt.Errorf("request %d: %w", i, err)
		}
		s := &seqState{req: r, res: &Result{FinishReason: "length", PromptTokens: len(r.Prompt)}, sampler: sample.New(r.Sampling), dec: e.Tok.NewDecoder()}
		for _, t := range r.Prompt {
			s.sampler.Accept(t)
		}
		seqs[i] = s
		st.PromptTokens += len(r.Prompt)
	}
	st.Sequences = len(reqs)
	for i := range reqs {
		e.startRequest(e.Caches[i])
		defer e.endRequest()
	}
	// Prefill: the prompts' tokens go through the model together, up to
	// Opts.Batch tokens per forward pass, so the weights are read once per
	// pass rather than once per prompt.
	start := time.Now()
	batch := make([]model.Seq, 0, len(reqs))
	owner := make([]int, 0, len(reqs))
	done := make([]int, len(seqs)) // prompt tokens evaluated per sequence
	for {
		batch, owner = batch[:0], owner[:0]
		room := e.Opts.Batch
		for i, s := range seqs {
			p := s.req.Prompt
			if done[i] == len(p) || room == 0 {
				continue
			}
			end := min(len(p), done[i]+room)
			batch = append(batch, model.Seq{Tokens: p[done[i]:end], Pos: done[i], Cache: e.Caches[i]})
			owner = append(owner, i)
			room -= end - done[i]
			done[i] = end
		}
		if len(batch) == 0 {
			break
		}
		logits, err := e.forwardBatch(batch)
		if err != nil {
			return nil, st, err
		}
		for j, i := range owner {
			if s := seqs[i]; done[i] == len(s.req.Prompt) {
				s.next = s.sampler.Sample(logits[j*e.Model.Vocab : (j+1)*e.Model.Vocab])
				s.pos = len(s.req.Prompt)
			}
		}
	}
	st.PrefillTime = time.Since(start)
	for _, s := range seqs {
		s.res.PromptTime = st.PrefillTime
	}
	start = time.Now()
	tokens := make([]int32, len(reqs))
	for {
		batch, owner = batch[:0], owner[:0]
		for i, s := range seqs {
			if s.done {
				continue
			}
			if ctx.Err() != nil {
				s.done, s.res.FinishReason = true, "cancelled"
				continue
			}
			tok := s.next
			if e.Tok.IsEOG(tok) && !s.req.IgnoreEOS {
				s.done, s.res.FinishReason = true, "stop"
				continue
			}
			s.sampler.Accept(tok)
			s.res.Tokens = append(s.res.Tokens, tok)
			piece := s.dec.Add(tok)
			s.text.Write(piece)
			st.Generated++
			if s.req.OnToken != nil && !s.req.OnToken(tok, piece) {
				s.done, s.res.FinishReason = true, "cancelled"
				continue
			}
			if len(s.res.Tokens) >= s.req.MaxTokens || s.pos >= e.Caches[i].Context {
				s.done = true
				continue
			}
			tokens[i] = tok
			batch = append(batch, model.Seq{Tokens: tokens[i : i+1], Pos: s.pos, Cache: e.Caches[i]})
			owner = append(owner, i)
		}
		if len(batch) == 0 {
			break
		}
		logits, err := e.forwardBatch(batch)
		if err != nil {
			return nil, st, err
		}
		st.Steps++
		for j, i := range owner {
			s := seqs[i]
			s.pos++
			s.res.DecodedTokens++
			s.next = s.sampler.Sample(logits[j*e.Model.Vocab : (j+1)*e.Model.Vocab])
		}
	}
	st.DecodeTime = time.Since(start)
	out := make([]*Result, len(seqs))
	for i, s := range seqs {
		tail := s.dec.Flush()
		s.text.Write(tail)
		if len(tail) > 0 && s.req.OnToken != nil {
			s.req.OnToken(-1, tail)
		}
		s.res.Text = s.text.String()
		s.res.GenerateTime = st.DecodeTime
		out[i] = s.res
	}
	return out, st, nil
}

// forwardBatch is ForwardBatch with a failed streaming read turned into an error.
func (e *Engine) forwardBatch(seqs []model.Seq) (logits []float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			ioErr, ok := r.(tier.IOError)
			if !ok {
				panic(r)
			}
			logits, err = nil, ioErr
		}
	}()
	if e.rec != nil {
		rows := e.recRows[:0]
		for _, sq := range seqs {
			for i := range sq.Tokens {
				rows = append(rows, rowOwner{req: e.slotReq[sq.Cache], pos: sq.Pos + i})
			}
		}
		e.recRows = rows
		e.rec.begin(rows)
		defer e.rec.end()
	}
	return e.Model.ForwardBatch(seqs)
}
