package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry/engine"
	"ferry/internal/fixtures"
)

// benchServer serves the model at path on a loopback port, with the
// prefill mode $FERRY_BENCH_PREFILL (auto, mixed or first; default auto).
func benchServer(b *testing.B, path string, opts engine.Options) (string, *engine.Engine) {
	b.Helper()
	e, err := engine.Load(path, opts)
	if err != nil {
		b.Fatal(err)
	}
	var so engine.SchedulerOptions
	if m := os.Getenv("FERRY_BENCH_PREFILL"); m != "" {
		if so.Prefill, err = engine.ParsePrefillMode(m); err != nil {
			b.Fatal(err)
		}
	}
	s := New(e, Options{Scheduler: so})
	hs := httptest.NewServer(s)
	b.Cleanup(func() {
		hs.Close()
		s.Shutdown(context.Background())
		e.Close()
	})
	return hs.URL, e
}

// streamResult is what one streaming client saw.
type streamResult struct {
	tokens int
	ttft   time.Duration
	total  time.Duration
}

// streamCompletion runs one streaming completion of n tokens (ignoring
// end of generation) and times its first token and its end.
func streamCompletion(url string, prompt []int32, n int) (streamResult, error) {
	var r streamResult
	body, _ := json.Marshal(map[string]any{
		"prompt": prompt, "max_tokens": n, "temperature": 0, "ignore_eos": true, "stream": true,
		"stream_options": map[string]bool{"include_usage": true},
	})
	start := time.Now()
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return r, fmt.Errorf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		d, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || d == "[DONE]" {
			continue
		}
		if r.ttft == 0 {
			r.ttft = time.Since(start)
		}
		if !strings.Contains(d, `"usage"`) {
			continue
		}
		var c struct {
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal([]byte(d), &c) == nil && c.Usage != nil {
			r.tokens = c.Usage.CompletionTokens
		}
	}
	r.total = time.Since(start)
	if r.tokens != n {
		return r, fmt.Errorf("%d tokens streamed, want %d", r.tokens, n)
	}
	return r, sc.Err()
}

// clients runs k concurrent streaming clients, each making reqs requests
// one after the other, and returns the total tokens per second and what
// each request saw (client by client). Client i asks for n+4*i tokens when
// stagger is set, so that the clients fall out of step and their later
// requests join a batch that is already decoding.
func clients(b *testing.B, url string, k, reqs int, prompt []int32, n int, stagger bool) (float64, []streamResult) {
	b.Helper()
	res := make([]streamResult, k*reqs)
	errs := make([]error, k*reqs)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range k {
		wg.Go(func() {
			m := n
			if stagger {
				m += 4 * i
			}
			for j := range reqs {
				res[i*reqs+j], errs[i*reqs+j] = streamCompletion(url, prompt, m)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	tokens := 0
	for i := range res {
		if errs[i] != nil {
			b.Fatal(errs[i])
		}
		tokens += res[i].tokens
	}
	return float64(tokens) / wall.Seconds(), res
}

// meanTTFT averages the time to first token of the requests for which use
// (given the request's index within its client) is true.
func meanTTFT(res []streamResult, reqs int, use func(j int) bool) time.Duration {
	var sum time.Duration
	n := 0
	for i, r := range res {
		if use(i % reqs) {
			sum += r.ttft
			n++
		}
	}
	return sum / time.Duration(max(n, 1))
}

// benchTokens returns $FERRY_BENCH_TOKENS, or def: the tokens each client
// asks for.
func benchTokens(def int) int {
	if n, err := strconv.Atoi(os.Getenv("FERRY_BENCH_TOKENS")); err == nil && n > 0 {
		return n
	}
	return def
}

// offloadModel returns the model BenchmarkOffloadedThroughput streams:
// $FERRY_BENCH_MODEL, or the largest dense fixture.
func offloadModel(b *testing.B) string {
	if p := os.Getenv("FERRY_BENCH_MODEL"); p != "" {
		return p
	}
	return filepath.Join(fixtures.Dir(b), "models", "dense-llama-f32.gguf")
}

// BenchmarkOffloadedThroughput serves a model under a weight budget of a
// third of its size, so that most weights stream from disk on every step,
// and compares the total tokens per second of 8 concurrent streaming
// clients with one client's: continuous batching reads the weights once
// per step for all sequences, so the ratio approaches 8 when reading the
// weights is the bottleneck. Reported: tok/s-1, tok/s-8 and their ratio.
func BenchmarkOffloadedThroughput(b *testing.B) {
	path := offloadModel(b)
	probe, err := engine.Load(path, engine.Options{PlanOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	weights := probe.WeightBytesPerToken()
	probe.Close()
	url, e := benchServer(b, path, engine.Options{Parallel: 8, Context: 256, WeightBudget: weights * 45 / 100})
	p := e.Store().Placement()
	if p.StreamedBytes*2 < weights {
		b.Fatalf("only %d of %d weight bytes stream", p.StreamedBytes, weights)
	}
	prompt := []int32{1, 2, 3, 4, 5, 6, 7, 8}
	if e.Tok.AddBOS() {
		prompt[0] = e.Tok.BOS()
	}
	n := benchTokens(128)
	clients(b, url, 1, 1, prompt, 4, false) // warm up
	var one, eight float64
	b.ResetTimer()
	for range b.N {
		t1, _ := clients(b, url, 1, 1, prompt, n, false)
		t8, _ := clients(b, url, 8, 1, prompt, n, false)
		one += t1
		eight += t8
	}
	b.ReportMetric(one/float64(b.N), "tok/s-1")
	b.ReportMetric(eight/float64(b.N), "tok/s-8")
	b.ReportMetric(eight/one, "ratio")
	b.ReportMetric(float64(p.StreamedBytes)/float64(weights), "streamed-frac")
}

// BenchmarkFirstTokenLatency compares the time to first token of a short
// prompt under 8 concurrent clients with a lone client's, on an in-memory
// model (the same as BenchmarkOffloadedThroughput's, all resident). Each
// client makes 4 streaming requests in a row and asks for a different
// length, so after the first round requests arrive one at a time and join
// a batch that is already decoding: the prompt is evaluated at the next
// pass (PrefillFirst: a pass of its own), after at most the pass under way.
// Reported: the mean TTFT alone (ttft-1-µs) and of the requests joining
// the running batch (ttft-8-µs), their ratio, and ratio-with-burst, which
// also counts the first round, where 8 prompts arrive at the same instant
// and share one pass.
func BenchmarkFirstTokenLatency(b *testing.B) {
	url, e := benchServer(b, offloadModel(b), engine.Options{Parallel: 8, Context: 256})
	prompt := []int32{1, 2, 3, 4, 5, 6}
	if e.Tok.AddBOS() {
		prompt[0] = e.Tok.BOS()
	}
	n := benchTokens(32)
	clients(b, url, 1, 1, prompt, 4, false)
	const reqs = 4
	all := func(int) bool { return true }
	joining := func(j int) bool { return j > 0 }
	var one, eight, eightJoin time.Duration
	b.ResetTimer()
	for range b.N {
		_, r1 := clients(b, url, 1, reqs, prompt, n, false)
		_, r8 := clients(b, url, 8, reqs, prompt, n, true)
		one += meanTTFT(r1, reqs, all)
		eight += meanTTFT(r8, reqs, all)
		eightJoin += meanTTFT(r8, reqs, joining)
	}
	b.ReportMetric(float64(one.Microseconds())/float64(b.N), "ttft-1-µs")
	b.ReportMetric(float64(eightJoin.Microseconds())/float64(b.N), "ttft-8-µs")
	b.ReportMetric(float64(eightJoin)/float64(one), "ratio")
	b.ReportMetric(float64(eight)/float64(one), "ratio-with-burst")
}
