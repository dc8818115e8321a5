package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ferry/model"
	"ferry/sample"
	"ferry/tokenizer"
)

// Continuous batching: a Scheduler owns an Engine and serves any number of
// requests through its len(e.Caches) sequence slots. Requests wait in a
// bounded queue, join the running batch between two forward passes, and
// leave it the step they finish (or the step after their context is
// cancelled). Every step is one forward pass that carries, for each active
// sequence, either its next decode token or the next chunk of its prompt,
// so the weights are read once per step for all of them.

// ErrQueueFull is returned by Scheduler.Submit when the waiting queue is
// full; the caller should retry later (HTTP 503).
var ErrQueueFull = errors.New("the request queue is full")

// ErrClosed is returned by Scheduler.Submit once shutdown has begun.
var ErrClosed = errors.New("the scheduler is shutting down")

// PrefillMode says how the prompts of joining requests share forward passes
// with the running sequences' decode tokens.
type PrefillMode int

const (
	// PrefillAuto is PrefillMixed when weights stream from disk (dense
	// spans, or experts through the expert cache: a pass is dear, share it)
	// and PrefillFirst when they are all resident.
	PrefillAuto PrefillMode = iota
	// PrefillMixed puts prompt chunks in the same pass as the decode tokens:
	// the weights are read once for both (the best throughput when reading
	// the weights is the cost).
	PrefillMixed
	// PrefillFirst gives pending prompt chunks a pass of their own, so a
	// joining request's first token does not wait for the others' decode
	// compute (the lowest time to first token when compute is the cost).
	// The pass after a prompt-only pass always decodes, so running
	// sequences advance at least every other pass.
	PrefillFirst
)

// String returns the mode's name as --prefill takes it.
func (m PrefillMode) String() string {
	switch m {
	case PrefillMixed:
		return "mixed"
	case PrefillFirst:
		return "first"
	}
	return "auto"
}

// ParsePrefillMode parses "auto", "mixed" or "first".
func ParsePrefillMode(s string) (PrefillMode, error) {
	for _, m := range []PrefillMode{PrefillAuto, PrefillMixed, PrefillFirst} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("prefill mode %q is not auto, mixed or first", s)
}

// SchedulerOptions configures NewScheduler.
type SchedulerOptions struct {
	// Prefill says how joining prompts share passes with decoding.
	Prefill PrefillMode
	// QueueSize bounds the requests waiting for a slot: Submit refuses a
	// request when the free slots and QueueSize waiting places are all
	// taken; default 4 times the slots.
	QueueSize int
	// StepTokens caps the tokens of one forward pass (decode tokens first,
	// then prompt chunks); default max(Opts.Batch, slots), the batch the
	// engine's memory budget was planned for.
	StepTokens int
	// OnStep, when set, is called on the scheduler goroutine after every
	// forward pass. It must be quick; it must not call the Scheduler's
	// blocking methods.
	OnStep func(StepInfo)
}

// StepInfo describes one forward pass of the scheduler.
type StepInfo struct {
	Sequences     int // sequences in the pass
	DecodeTokens  int // sequences that fed one generated token
	PrefillTokens int // prompt tokens evaluated
	Generated     int // tokens sampled and delivered after the pass
	Duration      time.Duration
}

// SchedulerStats is a snapshot of a Scheduler's counters.
type SchedulerStats struct {
	Steps        int64 // forward passes
	Generated    int64 // tokens generated and delivered
	PromptTokens int64 // prompt tokens evaluated
	Active       int   // sequences holding a slot
	Queued       int   // requests waiting for a slot
	Submitted    int64 // requests accepted by Submit
	// Finished counts finished requests by finish reason: "stop", "length",
	// "cancelled" and "error".
	Finished map[string]int64
}

// Job is one request to a Scheduler.
type Job struct {
	// Prompt is the token ids to continue (BOS included as wanted).
	Prompt []int32
	// MaxTokens caps the generated tokens; 0 means until the context is full.
	MaxTokens int
	Sampling  sample.Params
	// IgnoreEOS keeps generating past end-of-generation tokens.
	IgnoreEOS bool
	// Stop lists texts that end generation: the text is cut before the
	// first one that appears and the finish reason is "stop". Text that
	// could be the start of a stop sequence is held back until it is known
	// not to be one, so a streaming client never sees part of one.
	Stop []string
	// StripPrefixSpace drops the space a SentencePiece vocabulary puts before
	// the first generated word (for chat replies, which start a new message
	// rather than continue the prompt's text).
	StripPrefixSpace bool
}

// Event is one message of a sequence's stream: a generated token and the
// text it completed, or, with Done, the outcome. The stream's channel is
// closed after the Done event.
type Event struct {
	// Token is the generated token, or -1 on the Done event.
	Token int32
	// Text is the text newly completed (valid UTF-8, possibly empty): this
	// token's, and that of earlier tokens whose events did not fit a
	// lagging reader's channel.
	Text string
	// Done marks the last event; Result and Err are set only on it.
	Done bool
	// Result is the whole generation (Tokens, Text, FinishReason,
	// PromptTokens, PromptTime: queue wait plus prefill, GenerateTime).
	Result *Result
	// Err is set when the sequence failed (a streaming read error); Result
	// then still holds what was generated.
	Err error
}

// Scheduler runs continuous batching over an Engine. It owns the engine
// from NewScheduler until Shutdown returns: nothing else may use it then.
type Scheduler struct {
	e    *Engine
	opts SchedulerOptions

	mu      sync.Mutex
	wake    *sync.Cond
	queue   []*seqState // waiting for a slot, oldest first
	held    int         // sequences holding a slot (admitted, not finished)
	closing bool        // Submit refuses
	abort   bool        // cancel everything at the next step
	done    chan struct{}

	// Owned by the loop goroutine.
	slots  []*seqState // per cache slot, nil when free
	order  []*seqState // active sequences in admission order
	batch  []model.Seq
	owners []*seqState
	chunks []int
	solo   bool // the last pass evaluated prompt chunks only

	steps, generated, promptTokens, submitted atomic.Int64
	active, queued                            atomic.Int64
	finMu                                     sync.Mutex
	finished                                  map[string]int64
}

// seqState is one request, queued or holding a slot.
type seqState struct {
	ctx      context.Context
	job      Job
	out      chan Event
	slot     int
	sampler  *sample.Sampler
	dec      *tokenizer.Decoder
	res      *Result
	text     []byte // all generated text so far (cut at a stop sequence)
	sent     int    // bytes of text already sent
	prefill  int    // prompt tokens evaluated
	pos      int    // positions in the KV cache
	next     int32  // the token to feed at pos, once decoding
	maxStop  int    // longest stop sequence
	cut      bool   // the text was cut at a stop sequence
	queuedAt time.Time
	genStart time.Time
	one      [1]int32
}

// NewScheduler starts the scheduler goroutine for e.
func NewScheduler(e *Engine, opts SchedulerOptions) *Scheduler {
	n := len(e.Caches)
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4 * n
	}
	if opts.StepTokens <= 0 {
		opts.StepTokens = max(e.Opts.Batch, n)
	}
	opts.StepTokens = max(opts.StepTokens, n)
	if opts.Prefill == PrefillAuto {
		opts.Prefill = PrefillFirst
		if e.Placement.StreamedBytes > 0 || e.Experts != nil {
			opts.Prefill = PrefillMixed
		}
	}
	s := &Scheduler{e: e, opts: opts, done: make(chan struct{}), slots: make([]*seqState, n), finished: map[string]int64{}}
	s.wake = sync.NewCond(&s.mu)
	go s.loop()
	return s
}

// Slots returns how many sequences can be served at once.
func (s *Scheduler) Slots() int { return len(s.slots) }

// Prefill returns the prefill mode in force (never PrefillAuto).
func (s *Scheduler) Prefill() PrefillMode { return s.opts.Prefill }

// Context returns the context length of each sequence slot.
func (s *Scheduler) Context() int { return s.e.Cache0Context() }

// maxBuffered is how many token events a sequence's channel holds; past
// that, the text of further tokens waits for the reader and goes out with a
// later event.
const maxBuffered = 256

// Submit queues job and returns the channel its events arrive on: one per
// generated token, then a Done event, then the channel is closed. Sending
// never blocks, so a slow reader never stalls the other sequences: when a
// reader lags 256 events behind, the text of further tokens is held and
// goes out with the next event that fits (which then carries several
// tokens' text). When ctx is cancelled the sequence stops at
// the next step (finish reason "cancelled") and frees its slot. Submit
// fails at once, without queueing, on an invalid prompt (errors wrapping
// ErrContext for one longer than the context), when the queue is full
// (ErrQueueFull) or after shutdown began (ErrClosed).
func (s *Scheduler) Submit(ctx context.Context, job Job) (<-chan Event, error) {
	if err := s.e.checkPrompt(job.Prompt); err != nil {
		return nil, err
	}
	if job.MaxTokens < 0 {
		return nil, fmt.Errorf("max tokens %d is negative", job.MaxTokens)
	}
	ctxLen := s.Context()
	limit := ctxLen - len(job.Prompt) + 1 // the last token needs no KV slot
	if job.MaxTokens > 0 {
		limit = min(limit, job.MaxTokens)
	}
	q := &seqState{ctx: ctx, job: job, out: make(chan Event, min(limit, maxBuffered)+1), slot: -1, queuedAt: time.Now()}
	for _, st := range job.Stop {
		q.maxStop = max(q.maxStop, len(st))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, ErrClosed
	}
	if len(s.queue) >= s.opts.QueueSize+len(s.slots)-s.held {
		return nil, ErrQueueFull
	}
	s.queue = append(s.queue, q)
	s.queued.Store(int64(len(s.queue)))
	s.submitted.Add(1)
	s.wake.Signal()
	return q.out, nil
}

// Stats returns a snapshot of the scheduler's counters.
func (s *Scheduler) Stats() SchedulerStats {
	st := SchedulerStats{
		Steps: s.steps.Load(), Generated: s.generated.Load(), PromptTokens: s.promptTokens.Load(),
		Active: int(s.active.Load()), Queued: int(s.queued.Load()), Submitted: s.submitted.Load(),
		Finished: map[string]int64{},
	}
	s.finMu.Lock()
	for k, v := range s.finished {
		st.Finished[k] = v
	}
	s.finMu.Unlock()
	return st
}

// Shutdown stops accepting requests and waits until every queued and active
// one has finished. If ctx ends first, the remaining sequences are cancelled
// (finish reason "cancelled") at the next step and Shutdown returns
// ctx.Err() once the scheduler goroutine has stopped. The engine is free for
// other use (or Close) after Shutdown returns.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.wake.Broadcast()
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.abort = true
	s.wake.Broadcast()
	s.mu.Unlock()
	<-s.done
	return ctx.Err()
}

// Close is Shutdown without a deadline: it drains every request.
func (s *Scheduler) Close() error { return s.Shutdown(context.Background()) }

func (s *Scheduler) loop() {
	defer close(s.done)
	for {
		s.mu.Lock()
		for len(s.order) == 0 && len(s.queue) == 0 && !s.closing {
			s.wake.Wait()
		}
		if len(s.order) == 0 && len(s.queue) == 0 && s.closing {
			s.mu.Unlock()
			return
		}
		abort := s.abort
		// Drop queued requests whose client went away; admit into free slots.
		kept := s.queue[:0]
		var admit, drop []*seqState
		free := len(s.slots) - len(s.order)
		for _, q := range s.queue {
			switch {
			case abort || q.ctx.Err() != nil:
				drop = append(drop, q)
			case free > 0:
				admit = append(admit, q)
				free--
				s.held++
			default:
				kept = append(kept, q)
			}
		}
		clear(s.queue[len(kept):])
		s.queue = kept
		s.queued.Store(int64(len(s.queue)))
		s.mu.Unlock()
		for _, q := range drop {
			s.finish(q, "cancelled", nil)
		}
		for _, q := range admit {
			s.start(q)
		}
		// Active sequences whose client went away leave now.
		for i := 0; i < len(s.order); {
			if q := s.order[i]; abort || q.ctx.Err() != nil {
				s.finish(q, "cancelled", nil) // removes s.order[i]
				continue
			}
			i++
		}
		if len(s.order) > 0 {
			s.step()
		}
	}
}

// start gives q a free slot.
func (s *Scheduler) start(q *seqState) {
	for i, o := range s.slots {
		if o == nil {
			q.slot = i
			s.slots[i] = q
			break
		}
	}
	q.sampler = sample.New(q.job.Sampling)
	for _, t := range q.job.Prompt {
		q.sampler.Accept(t)
	}
	q.dec = s.e.Tok.NewDecoder()
	if q.job.StripPrefixSpace {
		q.dec.StripPrefixSpace()
	}
	q.res = &Result{PromptTokens: len(q.job.Prompt)}
	s.e.startRequest(s.e.Caches[q.slot]) // a request id for routing traces; the expert policy's bracket
	s.order = append(s.order, q)
	s.active.Store(int64(len(s.order)))
}

// step runs one forward pass: the next token of every decoding sequence,
// then prompt chunks of prefilling ones, in admission order, up to
// StepTokens tokens in all.
func (s *Scheduler) step() {
	e := s.e
	s.batch, s.owners, s.chunks = s.batch[:0], s.owners[:0], s.chunks[:0]
	solo := false
	if s.opts.Prefill == PrefillFirst && !s.solo {
		for _, q := range s.order {
			solo = solo || q.prefill < len(q.job.Prompt)
		}
	}
	s.solo = solo
	used := 0
	for _, q := range s.order {
		if q.prefill == len(q.job.Prompt) && !solo {
			q.one[0] = q.next
			s.batch = append(s.batch, model.Seq{Tokens: q.one[:], Pos: q.pos, Cache: e.Caches[q.slot]})
			s.owners = append(s.owners, q)
			s.chunks = append(s.chunks, 0)
			used++
		}
	}
	decodes := used
	for _, q := range s.order {
		if q.prefill == len(q.job.Prompt) || used >= s.opts.StepTokens {
			continue
		}
		n := min(len(q.job.Prompt)-q.prefill, e.Opts.Batch, s.opts.StepTokens-used)
		s.batch = append(s.batch, model.Seq{Tokens: q.job.Prompt[q.prefill : q.prefill+n], Pos: q.prefill, Cache: e.Caches[q.slot]})
		s.owners = append(s.owners, q)
		s.chunks = append(s.chunks, n)
		used += n
	}
	start := time.Now()
	logits, err := e.forwardBatch(s.batch)
	info := StepInfo{Sequences: len(s.batch), DecodeTokens: decodes, PrefillTokens: used - decodes}
	s.steps.Add(1)
	s.promptTokens.Add(int64(info.PrefillTokens))
	if err != nil {
		for _, q := range s.owners {
			s.finish(q, "error", err)
		}
		info.Duration = time.Since(start)
		if s.opts.OnStep != nil {
			s.opts.OnStep(info)
		}
		return
	}
	vocab := e.Model.Vocab
	for j, q := range s.owners {
		row := logits[j*vocab : (j+1)*vocab]
		if n := s.chunks[j]; n > 0 {
			q.prefill += n
			if q.prefill < len(q.job.Prompt) {
				continue
			}
			q.pos = len(q.job.Prompt)
			q.genStart = time.Now()
			q.res.PromptTime = q.genStart.Sub(q.queuedAt)
		} else {
			q.pos++
			q.res.DecodedTokens++
		}
		if s.deliver(q, q.sampler.Sample(row)) {
			info.Generated++
		}
	}
	info.Duration = time.Since(start)
	if s.opts.OnStep != nil {
		s.opts.OnStep(info)
	}
}

// deliver handles a sampled token: end of generation, a stop sequence, the
// token limit or the context end finish the sequence; otherwise the token
// is streamed and fed at the next step. It reports whether the token was
// generated (not an end-of-generation token).
func (s *Scheduler) deliver(q *seqState, tok int32) bool {
	e := s.e
	if e.Tok.IsEOG(tok) && !q.job.IgnoreEOS {
		s.finish(q, "stop", nil)
		return false
	}
	q.sampler.Accept(tok)
	q.res.Tokens = append(q.res.Tokens, tok)
	s.generated.Add(1)
	q.text = append(q.text, q.dec.Add(tok)...)
	if s.cutStop(q) {
		s.finish(q, "stop", nil)
		return true
	}
	// The scheduler is the only sender, so a free place stays free; the
	// last place is kept for the Done event.
	if len(q.out) < cap(q.out)-1 {
		q.out <- Event{Token: tok, Text: s.take(q, false)}
	}
	if q.job.MaxTokens > 0 && len(q.res.Tokens) >= q.job.MaxTokens || q.pos >= e.Caches[q.slot].Context {
		s.finish(q, "length", nil)
		return true
	}
	q.next = tok
	return true
}

// cutStop looks for a stop sequence in the unsent text; when one is found
// the text is cut before it and cutStop reports true.
func (s *Scheduler) cutStop(q *seqState) bool {
	if len(q.job.Stop) == 0 {
		return false
	}
	tail := string(q.text[q.sent:])
	cut := -1
	for _, st := range q.job.Stop {
		if st == "" {
			continue
		}
		if i := strings.Index(tail, st); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return false
	}
	q.text = q.text[:q.sent+cut]
	q.cut = true
	return true
}

// take returns the unsent text that cannot be the start of a stop sequence
// (all of it when final) and marks it sent.
func (s *Scheduler) take(q *seqState, final bool) string {
	end := len(q.text)
	if !final && q.maxStop > 0 {
		tail := q.text[q.sent:]
		hold := 0
		for _, st := range q.job.Stop {
			for k := min(len(st)-1, len(tail)); k > hold; k-- {
				if string(tail[len(tail)-k:]) == st[:k] {
					hold = k
					break
				}
			}
		}
		end -= hold
	}
	out := string(q.text[q.sent:end])
	q.sent = end
	return out
}

// finish ends q with reason: the decoder's held bytes and any held-back
// text go out with the Done event, the slot is freed, the channel closed.
func (s *Scheduler) finish(q *seqState, reason string, err error) {
	if q.res == nil { // never started (cancelled while queued)
		q.res = &Result{PromptTokens: len(q.job.Prompt)}
	} else if !q.cut {
		// The decoder's held bytes; they may complete a stop sequence.
		q.text = append(q.text, q.dec.Flush()...)
		if s.cutStop(q) && reason == "length" {
			reason = "stop"
		}
	}
	text := s.take(q, true)
	q.res.FinishReason = reason
	q.res.Text = string(q.text)
	if !q.genStart.IsZero() {
		q.res.GenerateTime = time.Since(q.genStart)
	}
	// The slot is freed and the counts updated before the Done event goes
	// out, so that a client who has seen its request end reads Stats (and
	// /metrics) without it.
	if q.slot >= 0 {
		s.e.endRequest()
		s.slots[q.slot] = nil
		q.slot = -1
		for i, o := range s.order {
			if o == q {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
		s.active.Store(int64(len(s.order)))
		s.mu.Lock()
		s.held--
		s.mu.Unlock()
	}
	s.finMu.Lock()
	s.finished[reason]++
	s.finMu.Unlock()
	q.out <- Event{Token: -1, Text: text, Done: true, Result: q.res, Err: err}
	close(q.out)
}
