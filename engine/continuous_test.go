package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry/internal/fixtures"
	"ferry/sample"
)

// collect reads a stream to its end and returns the concatenated text, the
// token events and the Done event.
func collect(t *testing.T, ch <-chan Event) (string, []int32, Event) {
	t.Helper()
	var text strings.Builder
	var toks []int32
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("stream closed without a Done event")
			}
			text.WriteString(ev.Text)
			if ev.Done {
				if _, open := <-ch; open {
					t.Fatal("an event after Done")
				}
				return text.String(), toks, ev
			}
			toks = append(toks, ev.Token)
		case <-timeout:
			t.Fatal("stream did not finish")
		}
	}
}

// TestSchedulerMatchesGenerate submits requests at staggered times (so they
// join and leave a running batch, some prefilling while others decode) and
// checks each gets exactly the greedy tokens and text it gets alone.
func TestSchedulerMatchesGenerate(t *testing.T) {
	e, err := Load("", Options{Parallel: 3, Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var prompts [][]int32
	for _, p := range []string{"Once upon a time", "The cat sat", "Lily and Tom went to the park to play with a big red ball", "One day", "A little bird", "Tim"} {
		prompts = append(prompts, e.Tok.Encode(p, true, true))
	}
	for _, mode := range []PrefillMode{PrefillMixed, PrefillFirst} {
		t.Run(mode.String(), func(t *testing.T) { schedulerMatches(t, e, mode, prompts) })
	}
}

// TestSchedulerMatchesGenerateQuantized is TestSchedulerMatchesGenerate on
// a Q4_K_M model, whose kernels quantize activations: batching must not
// change a sequence's numbers.
func TestSchedulerMatchesGenerateQuantized(t *testing.T) {
	ref := fixtures.Load(t, "dense-llama-q4_k_m")
	e, err := Load(ref.Path, Options{Parallel: 4, Batch: 4, Context: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p := ref.PromptTokens
	schedulerMatches(t, e, PrefillMixed, [][]int32{p, p[:5], {1, 7, 9}, p[3:], p[:2]})
}

// TestSchedulerMatchesGenerateOffloadedMoE is TestSchedulerMatchesGenerate
// on a Mixtral-style model whose experts do not fit the weight budget, so
// they go through the expert cache while sequences join and leave.
func TestSchedulerMatchesGenerateOffloadedMoE(t *testing.T) {
	ref := fixtures.Load(t, "moe-mixtral-q4_k_m")
	probe, err := Load(ref.Path, Options{PlanOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var weights int64
	for _, ti := range probe.File.Tensors {
		weights += ti.Size
	}
	probe.Close()
	e, err := Load(ref.Path, Options{Parallel: 3, Batch: 4, Context: 128, WeightBudget: weights / 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Placement.StreamedBytes == 0 && e.Experts == nil {
		t.Fatal("nothing streams under half the weights")
	}
	p := ref.PromptTokens
	schedulerMatches(t, e, PrefillAuto, [][]int32{p, p[:5], {1, 7, 9}, p[3:]})
	if st := e.ExpertStats(); e.Experts != nil && st.Hits+st.Misses == 0 {
		t.Fatalf("the expert cache saw no use: %+v", st)
	}
}

func schedulerMatches(t *testing.T, e *Engine, mode PrefillMode, prompts [][]int32) {
	type want struct {
		tokens []int32
		text   string
		reason string
	}
	var jobs []Job
	var wants []want
	for i, p := range prompts {
		j := Job{Prompt: p, MaxTokens: 20 + 7*i, IgnoreEOS: i%2 == 0}
		res, err := e.Generate(context.Background(), Request{Prompt: j.Prompt, MaxTokens: j.MaxTokens, IgnoreEOS: j.IgnoreEOS})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
		wants = append(wants, want{res.Tokens, res.Text, res.FinishReason})
	}
	steps, mixed, promptOnly := 0, 0, 0
	s := NewScheduler(e, SchedulerOptions{Prefill: mode, OnStep: func(st StepInfo) {
		steps++
		if st.DecodeTokens > 0 && st.PrefillTokens > 0 {
			mixed++
		}
		if st.DecodeTokens == 0 {
			promptOnly++
		}
	}})
	defer s.Close()
	var wg sync.WaitGroup
	for i, j := range jobs {
		ch, err := s.Submit(context.Background(), j)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			text, toks, done := collect(t, ch)
			w := wants[i]
			if !same(done.Result.Tokens, w.tokens) || !same(toks, w.tokens) {
				t.Errorf("request %d: tokens %v, alone %v", i, done.Result.Tokens, w.tokens)
			}
			if text != w.text || done.Result.Text != w.text {
				t.Errorf("request %d: streamed %q, result %q, alone %q", i, text, done.Result.Text, w.text)
			}
			if done.Result.FinishReason != w.reason {
				t.Errorf("request %d: finish %q, alone %q", i, done.Result.FinishReason, w.reason)
			}
		}()
		time.Sleep(time.Duration(i) * time.Millisecond)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Active != 0 || st.Queued != 0 || st.Submitted != int64(len(jobs)) {
		t.Fatalf("stats after the run: %+v", st)
	}
	t.Logf("%s: %d steps (%d mixing prompt and decode tokens, %d prompt only), %+v", mode, steps, mixed, promptOnly, st)
	// In first mode a pass mixes prompt and decode tokens only right after
	// a prompt-only pass.
	if mode == PrefillFirst && mixed > promptOnly {
		t.Fatalf("mode %s: %d of %d steps mixed prompt and decode tokens, %d were prompt only", mode, mixed, steps, promptOnly)
	}
}

// TestSchedulerStop checks stop sequences: the text is cut before the first
// one, nothing of it is streamed, and the finish reason is "stop".
func TestSchedulerStop(t *testing.T) {
	e, err := Load("", Options{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	prompt := e.Tok.Encode("Once upon a time", true, true)
	alone, err := e.Generate(context.Background(), Request{Prompt: prompt, MaxTokens: 40, IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	full := alone.Text
	if len(full) < 30 {
		t.Fatalf("greedy text too short: %q", full)
	}
	stop := full[15:22]
	cut := strings.Index(full, stop)
	s := NewScheduler(e, SchedulerOptions{})
	defer s.Close()
	ch, err := s.Submit(context.Background(), Job{Prompt: prompt, MaxTokens: 40, IgnoreEOS: true, Stop: []string{"never appears", stop}})
	if err != nil {
		t.Fatal(err)
	}
	text, _, done := collect(t, ch)
	if text != full[:cut] || done.Result.Text != full[:cut] || done.Result.FinishReason != "stop" {
		t.Fatalf("stop %q: streamed %q, result %q (%s); want %q", stop, text, done.Result.Text, done.Result.FinishReason, full[:cut])
	}
	// A stop sequence that never appears holds nothing back at the end.
	ch, _ = s.Submit(context.Background(), Job{Prompt: prompt, MaxTokens: 40, IgnoreEOS: true, Stop: []string{full[len(full)-3:] + "zzz"}})
	text, _, done = collect(t, ch)
	if text != full || done.Result.FinishReason != "length" {
		t.Fatalf("streamed %q (%s), want %q", text, done.Result.FinishReason, full)
	}
}

// TestSchedulerCancel checks that a cancelled request leaves the batch at
// the next step and frees its slot for a queued one.
func TestSchedulerCancel(t *testing.T) {
	e, err := Load("", Options{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	gate := make(chan struct{}, 1000)
	s := NewScheduler(e, SchedulerOptions{QueueSize: 1, OnStep: func(StepInfo) { <-gate }})
	defer func() {
		close(gate)
		s.Close()
	}()
	prompt := e.Tok.Encode("Once upon a time", true, true)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := s.Submit(ctx, Job{Prompt: prompt, IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	for s.Stats().Active != 1 {
		time.Sleep(time.Millisecond)
	}
	b, err := s.Submit(context.Background(), Job{Prompt: prompt, MaxTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(context.Background(), Job{Prompt: prompt}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("a third request with one slot and a queue of one: %v, want ErrQueueFull", err)
	}
	for range 5 {
		gate <- struct{}{}
	}
	for s.Stats().Generated < 5 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	genAtCancel := s.Stats().Generated
	for range 3 {
		gate <- struct{}{}
	}
	// The step under way when the client left may still deliver a token;
	// none after it.
	_, toks, done := collect(t, a)
	if done.Result.FinishReason != "cancelled" || int64(len(toks)) > genAtCancel+1 {
		t.Fatalf("cancelled request: %s after %d tokens (%d when cancelled)", done.Result.FinishReason, len(toks), genAtCancel)
	}
	for range 10 {
		gate <- struct{}{}
	}
	_, toks, done = collect(t, b)
	if done.Result.FinishReason != "length" || len(toks) != 3 {
		t.Fatalf("queued request: %s after %d tokens", done.Result.FinishReason, len(toks))
	}
}

// TestSchedulerRejects checks the requests Submit refuses.
func TestSchedulerRejects(t *testing.T) {
	e, err := Load("", Options{Parallel: 1, Context: 32})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := NewScheduler(e, SchedulerOptions{})
	long := make([]int32, 33)
	for i := range long {
		long[i] = 300
	}
	if _, err := s.Submit(context.Background(), Job{Prompt: long}); !errors.Is(err, ErrContext) {
		t.Fatalf("a prompt longer than the context: %v", err)
	}
	if _, err := s.Submit(context.Background(), Job{}); err == nil {
		t.Fatal("an empty prompt was accepted")
	}
	// A prompt that fills the context gets exactly one token.
	ch, err := s.Submit(context.Background(), Job{Prompt: long[:32], IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, toks, done := collect(t, ch); len(toks) != 1 || done.Result.FinishReason != "length" {
		t.Fatalf("%d tokens (%s) for a prompt filling the context", len(toks), done.Result.FinishReason)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(context.Background(), Job{Prompt: long[:3]}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestSchedulerShutdownDrains checks that Shutdown lets queued and running
// requests finish, and that a deadline cancels what is left.
func TestSchedulerShutdownDrains(t *testing.T) {
	e, err := Load("", Options{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := NewScheduler(e, SchedulerOptions{})
	prompt := e.Tok.Encode("Once upon a time", true, true)
	var chans []<-chan Event
	for range 5 {
		ch, err := s.Submit(context.Background(), Job{Prompt: prompt, MaxTokens: 30, IgnoreEOS: true, Sampling: sample.Params{Temperature: 0.8, Seed: 3}})
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, ch := range chans {
		if _, toks, done := collect(t, ch); len(toks) != 30 || done.Result.FinishReason != "length" {
			t.Fatalf("request %d: %d tokens, %s", i, len(toks), done.Result.FinishReason)
		}
	}

	block := make(chan struct{})
	s = NewScheduler(e, SchedulerOptions{OnStep: func(StepInfo) { <-block }})
	ch, _ := s.Submit(context.Background(), Job{Prompt: prompt, IgnoreEOS: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	go func() {
		<-ctx.Done()
		close(block)
	}()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown past its deadline: %v", err)
	}
	if _, _, done := collect(t, ch); done.Result.FinishReason != "cancelled" {
		t.Fatalf("a request cut by the shutdown deadline: %s", done.Result.FinishReason)
	}
}

// TestSchedulerLaggingReader checks that a reader that does not keep up
// neither stalls the scheduler nor loses text: past the channel's buffer,
// events carry the text of several tokens.
func TestSchedulerLaggingReader(t *testing.T) {
	e, err := Load("", Options{Parallel: 1, Context: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	prompt := e.Tok.Encode("Once upon a time", true, true)
	want, err := e.Generate(context.Background(), Request{Prompt: prompt, MaxTokens: 600, IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	s := NewScheduler(e, SchedulerOptions{})
	defer s.Close()
	ch, err := s.Submit(context.Background(), Job{Prompt: prompt, MaxTokens: 600, IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	for s.Stats().Finished["length"] == 0 { // not reading meanwhile
		time.Sleep(time.Millisecond)
	}
	text, toks, done := collect(t, ch)
	if text != want.Text || !same(done.Result.Tokens, want.Tokens) || len(toks) >= 600 {
		t.Fatalf("%d events for 600 tokens; text %q, want %q", len(toks), text, want.Text)
	}
}
