package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"ferry/engine"
	"ferry/internal/fixtures"
)

// testServer is a server for the embedded stories260k on a loopback port,
// and an OpenAI SDK client pointed at it.
type testServer struct {
	*Server
	e      *engine.Engine
	url    string
	client openai.Client
}

func newTestServer(t testing.TB, parallel int, opts Options) *testServer {
	t.Helper()
	e, err := engine.Load("", engine.Options{Parallel: parallel, Context: 512})
	if err != nil {
		t.Fatal(err)
	}
	s := New(e, opts)
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		e.Close()
	})
	client := openai.NewClient(option.WithBaseURL(hs.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	return &testServer{Server: s, e: e, url: hs.URL, client: client}
}

// alone returns the greedy continuation of prompt by a separate engine,
// the reference every served answer must equal.
func alone(t testing.TB, prompt []int32, n int) *engine.Result {
	t.Helper()
	e, err := engine.Load("", engine.Options{Context: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Generate(context.Background(), engine.Request{Prompt: prompt, MaxTokens: n})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func completionParams(prompt string, n int64) openai.CompletionNewParams {
	return openai.CompletionNewParams{
		Model:       "stories260k",
		Prompt:      openai.CompletionNewParamsPromptUnion{OfString: openai.String(prompt)},
		MaxTokens:   openai.Int(n),
		Temperature: openai.Float(0),
	}
}

func TestOpenAICompletions(t *testing.T) {
	ts := newTestServer(t, 2, Options{})
	ctx := context.Background()
	const prompt = "Once upon a time"
	want := alone(t, ts.e.Tok.Encode(prompt, true, true), 24)

	c, err := ts.client.Completions.New(ctx, completionParams(prompt, 24))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Choices) != 1 || c.Choices[0].Text != want.Text || c.Choices[0].FinishReason != "length" {
		t.Fatalf("completion %+v, want text %q", c.Choices, want.Text)
	}
	if c.Model != "stories260k" || c.Object != "text_completion" || !strings.HasPrefix(c.ID, "cmpl-") {
		t.Fatalf("completion header: id %q object %q model %q", c.ID, c.Object, c.Model)
	}
	if u := c.Usage; u.PromptTokens != int64(want.PromptTokens) || u.CompletionTokens != 24 || u.TotalTokens != u.PromptTokens+24 {
		t.Fatalf("usage %+v", u)
	}

	p := completionParams(prompt, 24)
	p.StreamOptions.IncludeUsage = openai.Bool(true)
	stream := ts.client.Completions.NewStreaming(ctx, p)
	var text strings.Builder
	var finish string
	var usage openai.CompletionUsage
	chunks := 0
	for stream.Next() {
		ch := stream.Current()
		chunks++
		for _, c := range ch.Choices {
			text.WriteString(c.Text)
			if c.FinishReason != "" {
				finish = string(c.FinishReason)
			}
		}
		if ch.Usage.TotalTokens > 0 {
			usage = ch.Usage
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != want.Text || finish != "length" || chunks < 10 {
		t.Fatalf("streamed %q in %d chunks (%s), want %q", text.String(), chunks, finish, want.Text)
	}
	if usage.CompletionTokens != 24 || usage.PromptTokens != int64(want.PromptTokens) {
		t.Fatalf("streamed usage %+v", usage)
	}

	// A stop sequence cuts the text and ends with "stop".
	stop := want.Text[10:16]
	p = completionParams(prompt, 24)
	p.Stop = openai.CompletionNewParamsStopUnion{OfStringArray: []string{"zzzz", stop}}
	c, err = ts.client.Completions.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if cut := want.Text[:strings.Index(want.Text, stop)]; c.Choices[0].Text != cut || c.Choices[0].FinishReason != "stop" {
		t.Fatalf("stop %q: %q (%s), want %q", stop, c.Choices[0].Text, c.Choices[0].FinishReason, cut)
	}

	// A seed makes sampling reproducible.
	p = completionParams(prompt, 24)
	p.Temperature, p.Seed = openai.Float(0.9), openai.Int(42)
	c1, err1 := ts.client.Completions.New(ctx, p)
	c2, err2 := ts.client.Completions.New(ctx, p)
	if err1 != nil || err2 != nil || c1.Choices[0].Text != c2.Choices[0].Text {
		t.Fatalf("seeded completions differ: %v %v %q %q", err1, err2, c1.Choices[0].Text, c2.Choices[0].Text)
	}

	// echo puts the prompt before the completion.
	p = completionParams(prompt, 24)
	p.Echo = openai.Bool(true)
	if c, err = ts.client.Completions.New(ctx, p); err != nil || c.Choices[0].Text != prompt+want.Text {
		t.Fatalf("echo: %v %q", err, c.Choices[0].Text)
	}

	// Token-id prompts are taken as they are.
	p = completionParams("", 24)
	ids := ts.e.Tok.Encode(prompt, true, true)
	p.Prompt = openai.CompletionNewParamsPromptUnion{OfArrayOfTokens: toInt64(ids)}
	if c, err = ts.client.Completions.New(ctx, p); err != nil || c.Choices[0].Text != want.Text {
		t.Fatalf("token prompt: %v %+v", err, c)
	}
}

func toInt64(ids []int32) []int64 {
	out := make([]int64, len(ids))
	for i, v := range ids {
		out[i] = int64(v)
	}
	return out
}

func TestOpenAIChat(t *testing.T) {
	ts := newTestServer(t, 2, Options{})
	ctx := context.Background()
	msgs := []Message{{Role: "system", Content: "You tell stories."}, {Role: "user", Content: "Tell me about a cat."}}
	text, format, err := ts.Template().Render(msgs, true)
	if err != nil || format != FallbackTranscript {
		t.Fatalf("render: %v, format %q", err, format)
	}
	if text != "system: You tell stories.\nuser: Tell me about a cat.\nassistant:" {
		t.Fatalf("transcript %q", text)
	}
	want := strings.TrimPrefix(alone(t, Tokenize(ts.e.Tok, text), 30).Text, " ")

	params := openai.ChatCompletionNewParams{
		Model:               "stories260k",
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(msgs[0].Content), openai.UserMessage(msgs[1].Content)},
		MaxCompletionTokens: openai.Int(30),
		Temperature:         openai.Float(0),
	}
	c, err := ts.client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Choices) != 1 || c.Choices[0].Message.Content != want || c.Choices[0].FinishReason != "length" || c.Object != "chat.completion" {
		t.Fatalf("chat %+v, want %q", c.Choices, want)
	}
	if c.Usage.CompletionTokens != 30 {
		t.Fatalf("usage %+v", c.Usage)
	}

	params.StreamOptions.IncludeUsage = openai.Bool(true)
	stream := ts.client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != want || acc.Choices[0].FinishReason != "length" {
		t.Fatalf("streamed chat %+v, want %q", acc.Choices, want)
	}
	if acc.Usage.CompletionTokens != 30 || acc.Usage.TotalTokens != acc.Usage.PromptTokens+30 {
		t.Fatalf("streamed usage %+v", acc.Usage)
	}

	models, err := ts.client.Models.List(ctx)
	if err != nil || len(models.Data) != 1 || models.Data[0].ID != "stories260k" {
		t.Fatalf("models: %v %+v", err, models)
	}
	if m, err := ts.client.Models.Get(ctx, "stories260k"); err != nil || m.ID != "stories260k" {
		t.Fatalf("model: %v %+v", err, m)
	}
}

// TestConcurrentClients runs 16 clients at once against 4 slots (the rest
// queue), mixing endpoints and streaming: each must get exactly the answer
// it gets alone.
func TestConcurrentClients(t *testing.T) {
	ts := newTestServer(t, 4, Options{})
	ctx := context.Background()
	prompts := []string{"Once upon a time", "The dog", "Lily wanted to", "One day, a big", "Tom and Sue", "The sun was", "A little fish", "Mom said"}
	type request struct {
		prompt string
		chat   bool
		stream bool
		n      int64
	}
	run := func(r request) (string, error) {
		if r.chat {
			p := openai.ChatCompletionNewParams{Model: "stories260k", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(r.prompt)},
				MaxTokens: openai.Int(r.n), Temperature: openai.Float(0)}
			if !r.stream {
				c, err := ts.client.Chat.Completions.New(ctx, p)
				if err != nil {
					return "", err
				}
				return c.Choices[0].Message.Content + "|" + string(c.Choices[0].FinishReason), nil
			}
			s := ts.client.Chat.Completions.NewStreaming(ctx, p)
			var acc openai.ChatCompletionAccumulator
			for s.Next() {
				acc.AddChunk(s.Current())
			}
			if s.Err() != nil {
				return "", s.Err()
			}
			return acc.Choices[0].Message.Content + "|" + acc.Choices[0].FinishReason, nil
		}
		p := completionParams(r.prompt, r.n)
		if !r.stream {
			c, err := ts.client.Completions.New(ctx, p)
			if err != nil {
				return "", err
			}
			return c.Choices[0].Text + "|" + string(c.Choices[0].FinishReason), nil
		}
		s := ts.client.Completions.NewStreaming(ctx, p)
		var b strings.Builder
		var fin string
		for s.Next() {
			for _, c := range s.Current().Choices {
				b.WriteString(c.Text)
				if c.FinishReason != "" {
					fin = string(c.FinishReason)
				}
			}
		}
		return b.String() + "|" + fin, s.Err()
	}
	var reqs []request
	for i := range 16 {
		reqs = append(reqs, request{prompt: prompts[i%len(prompts)], chat: i%4 >= 2, stream: i%2 == 1, n: int64(20 + 5*(i%5))})
	}
	want := make([]string, len(reqs))
	for i, r := range reqs {
		var err error
		if want[i], err = run(r); err != nil {
			t.Fatal(err)
		}
	}
	steps := ts.Scheduler().Stats().Steps
	got := make([]string, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { got[i], errs[i] = run(r) })
	}
	wg.Wait()
	for i := range reqs {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		if got[i] != want[i] {
			t.Errorf("client %d (%+v): concurrent %q, alone %q", i, reqs[i], got[i], want[i])
		}
	}
	st := ts.Scheduler().Stats()
	t.Logf("16 concurrent clients: %d steps (alone: %d)", st.Steps-steps, steps)
	if st.Steps-steps >= steps {
		t.Fatalf("batching saved no steps: %d concurrent, %d alone", st.Steps-steps, steps)
	}
}

// sseLines reads a streaming response's data lines.
func sseLines(t *testing.T, body io.Reader, n int) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(body)
	for len(out) < n && sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

// TestDisconnectStopsDecoding checks that a client that goes away
// mid-stream stops its sequence within a few steps and frees its slot.
func TestDisconnectStopsDecoding(t *testing.T) {
	ts := newTestServer(t, 2, Options{Scheduler: engine.SchedulerOptions{OnStep: func(engine.StepInfo) { time.Sleep(2 * time.Millisecond) }}})
	ctx, cancel := context.WithCancel(context.Background())
	body := `{"prompt":"Once upon a time","max_tokens":400,"temperature":0,"ignore_eos":true,"stream":true}`
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.url+"/v1/completions", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := sseLines(t, resp.Body, 5); len(got) != 5 {
		t.Fatalf("read %d events", len(got))
	}
	cancel()
	resp.Body.Close()
	at := ts.Scheduler().Stats()
	deadline := time.Now().Add(5 * time.Second)
	for ts.Scheduler().Stats().Active != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the sequence is still active 5 s after its client left")
		}
		time.Sleep(time.Millisecond)
	}
	st := ts.Scheduler().Stats()
	t.Logf("client left after 5 tokens; %d tokens were generated in all, %d steps after it left", st.Generated, st.Steps-at.Steps)
	if st.Finished["cancelled"] != 1 || st.Generated > 5+50 || st.Steps-at.Steps > 50 {
		t.Fatalf("after the disconnect: %+v (steps then %d)", st, at.Steps)
	}
	// The metrics say so too.
	m := get(t, ts.url+"/metrics")
	if !strings.Contains(m, `ferry_requests_total{endpoint="completions",finish_reason="cancelled"} 1`) {
		t.Fatalf("metrics lack the cancelled request:\n%s", grep(m, "ferry_requests_total"))
	}
	if !strings.Contains(m, fmt.Sprintf("ferry_tokens_generated_total %d\n", st.Generated)) {
		t.Fatalf("metrics: %s", grep(m, "ferry_tokens_generated_total"))
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// post sends body and returns the status, headers and decoded JSON answer.
func post(t *testing.T, url, body string) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: answer is not JSON: %q", url, b)
	}
	return resp.StatusCode, resp.Header, v
}

// TestErrors checks that bad requests get 4xx answers with OpenAI-shaped
// error bodies, and that the server keeps serving after each.
func TestErrors(t *testing.T) {
	ts := newTestServer(t, 1, Options{})
	ctx := context.Background()
	long := strings.Repeat("the cat and the dog ", 200) // well over 512 tokens
	cases := []struct {
		name, path, body string
		status           int
		code, param      string
	}{
		{"malformed JSON", "/v1/completions", `{"prompt": "x",`, 400, "invalid_json", ""},
		{"not an object", "/v1/chat/completions", `[1,2]`, 400, "invalid_type", ""},
		{"wrong type", "/v1/completions", `{"prompt":"x","max_tokens":"ten"}`, 400, "invalid_type", "max_tokens"},
		{"empty body", "/v1/completions", ``, 400, "invalid_value", ""},
		{"unknown model", "/v1/completions", `{"model":"gpt-4o","prompt":"x"}`, 404, "model_not_found", "model"},
		{"unknown chat model", "/v1/chat/completions", `{"model":"llama3","messages":[{"role":"user","content":"x"}]}`, 404, "model_not_found", "model"},
		{"negative max_tokens", "/v1/completions", `{"prompt":"x","max_tokens":-5}`, 400, "invalid_value", "max_tokens"},
		{"zero max_completion_tokens", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":0}`, 400, "invalid_value", "max_completion_tokens"},
		{"negative temperature", "/v1/completions", `{"prompt":"x","temperature":-1}`, 400, "invalid_value", "temperature"},
		{"top_p above 1", "/v1/completions", `{"prompt":"x","top_p":1.5}`, 400, "invalid_value", "top_p"},
		{"no prompt", "/v1/completions", `{"model":"stories260k"}`, 400, "invalid_value", "prompt"},
		{"no messages", "/v1/chat/completions", `{"messages":[]}`, 400, "invalid_value", "messages"},
		{"bad role", "/v1/chat/completions", `{"messages":[{"role":"wizard","content":"x"}]}`, 400, "invalid_value", "messages"},
		{"image part", "/v1/chat/completions", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400, "invalid_value", "messages"},
		{"n=2", "/v1/completions", `{"prompt":"x","n":2}`, 400, "invalid_value", "n"},
		{"token out of vocabulary", "/v1/completions", `{"prompt":[1, 99999]}`, 400, "invalid_value", ""},
		{"prompt over the context", "/v1/completions", `{"prompt":"` + long + `"}`, 400, "context_length_exceeded", ""},
		{"chat over the context", "/v1/chat/completions", `{"messages":[{"role":"user","content":"` + long + `"}]}`, 400, "context_length_exceeded", ""},
		{"body over 1 MiB", "/v1/completions", `{"prompt":"` + strings.Repeat("a", 1<<20) + `"}`, 413, "request_too_large", ""},
		{"unknown endpoint", "/v1/embeddings", `{}`, 404, "not_found", ""},
	}
	for _, c := range cases {
		status, _, v := post(t, ts.url+c.path, c.body)
		e, _ := v["error"].(map[string]any)
		if status != c.status || e == nil || e["code"] != c.code || e["message"] == "" || e["type"] == nil {
			t.Errorf("%s: %d %v, want %d with code %s", c.name, status, v, c.status, c.code)
			continue
		}
		if param, _ := e["param"].(string); param != c.param {
			t.Errorf("%s: param %q, want %q", c.name, param, c.param)
		}
		if _, ok := e["param"]; !ok {
			t.Errorf("%s: no param field", c.name)
		}
	}
	resp, err := http.Get(ts.url + "/v1/completions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /v1/completions: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// The SDK sees the error fields.
	_, err = ts.client.Completions.New(ctx, openai.CompletionNewParams{Model: "gpt-4o", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("x")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" || apiErr.Param != "model" {
		t.Fatalf("SDK error for an unknown model: %v", err)
	}
	// Ollama endpoints answer in Ollama's shape.
	status, _, v := post(t, ts.url+"/api/generate", `{"model":"nope","prompt":"x"}`)
	if msg, _ := v["error"].(string); status != 404 || msg == "" {
		t.Fatalf("/api/generate with an unknown model: %d %v", status, v)
	}
	status, _, v = post(t, ts.url+"/api/chat", `{"model":"stories260k","messages":[{"role":"user","content":"x"}],"options":{"temperature":-2}}`)
	if msg, _ := v["error"].(string); status != 400 || msg == "" {
		t.Fatalf("/api/chat with a negative temperature: %d %v", status, v)
	}
	// And the server still serves.
	if c, err := ts.client.Completions.New(ctx, completionParams("Once upon a time", 5)); err != nil || c.Usage.CompletionTokens != 5 {
		t.Fatalf("after the errors: %v %+v", err, c)
	}
	if get(t, ts.url+"/health") == "" {
		t.Fatal("no health answer")
	}
}

// TestQueueFull checks that requests beyond the slots and the queue get 503
// with Retry-After, and are served once there is room.
func TestQueueFull(t *testing.T) {
	gate := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(gate) }) }
	ts := newTestServer(t, 1, Options{QueueSize: 1, Scheduler: engine.SchedulerOptions{OnStep: func(engine.StepInfo) { <-gate }}})
	defer open()
	body := `{"prompt":"Once upon a time","max_tokens":3,"temperature":0}`
	results := make(chan int, 2)
	for range 2 {
		go func() {
			resp, err := http.Post(ts.url+"/v1/completions", "application/json", strings.NewReader(body))
			if err != nil {
				results <- 0
				return
			}
			resp.Body.Close()
			results <- resp.StatusCode
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for st := ts.Scheduler().Stats(); st.Active != 1 || st.Queued != 1; st = ts.Scheduler().Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("requests did not take the slot and the queue: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
	status, h, v := post(t, ts.url+"/v1/completions", body)
	if e, _ := v["error"].(map[string]any); status != 503 || h.Get("Retry-After") == "" || e == nil {
		t.Fatalf("a request past the queue: %d %v (Retry-After %q)", status, v, h.Get("Retry-After"))
	}
	open()
	for range 2 {
		if code := <-results; code != 200 {
			t.Fatalf("a queued request got %d", code)
		}
	}
	m := get(t, ts.url+"/metrics")
	if !strings.Contains(m, `ferry_requests_rejected_total{code="503",endpoint="completions"} 1`) {
		t.Fatalf("metrics: %s", grep(m, "rejected"))
	}
}

func TestOllama(t *testing.T) {
	ts := newTestServer(t, 2, Options{})
	const prompt = "Once upon a time"
	want := alone(t, ts.e.Tok.Encode(prompt, true, true), 20)
	opts := `"options":{"temperature":0,"repeat_penalty":1,"num_predict":20}`

	// Streaming (the default): NDJSON lines, then a done line with counts.
	resp, err := http.Post(ts.url+"/api/generate", "application/json", strings.NewReader(`{"model":"stories260k:latest","prompt":"`+prompt+`",`+opts+`}`))
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q", ct)
	}
	var text strings.Builder
	var last map[string]any
	lines := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		text.WriteString(v["response"].(string))
		last = v
		lines++
	}
	resp.Body.Close()
	if text.String() != want.Text || last["done"] != true || last["done_reason"] != "length" || last["eval_count"] != 20.0 || lines < 10 {
		t.Fatalf("generate streamed %q in %d lines, last %v; want %q", text.String(), lines, last, want.Text)
	}
	if ctx, _ := last["context"].([]any); len(ctx) != want.PromptTokens+20 {
		t.Fatalf("context of %d tokens", len(ctx))
	}

	status, _, v := post(t, ts.url+"/api/generate", `{"model":"stories260k","prompt":"`+prompt+`","stream":false,`+opts+`}`)
	if status != 200 || v["response"] != want.Text || v["done"] != true || v["prompt_eval_count"] != float64(want.PromptTokens) {
		t.Fatalf("generate: %d %v", status, v)
	}
	status, _, v = post(t, ts.url+"/api/generate", `{"model":"stories260k"}`)
	if status != 200 || v["done_reason"] != "load" {
		t.Fatalf("load: %d %v", status, v)
	}

	chatWant := strings.TrimPrefix(alone(t, Tokenize(ts.e.Tok, "user: Hello\nassistant:"), 20).Text, " ")
	status, _, v = post(t, ts.url+"/api/chat", `{"model":"stories260k","messages":[{"role":"user","content":"Hello"}],"stream":false,`+opts+`}`)
	if msg, _ := v["message"].(map[string]any); status != 200 || msg["content"] != chatWant || msg["role"] != "assistant" || v["done"] != true {
		t.Fatalf("chat: %d %v, want %q", status, v, chatWant)
	}
	resp, err = http.Post(ts.url+"/api/chat", "application/json", strings.NewReader(`{"model":"stories260k","messages":[{"role":"user","content":"Hello"}],`+opts+`}`))
	if err != nil {
		t.Fatal(err)
	}
	text.Reset()
	sc = bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var v struct {
			Message struct{ Content string }
			Done    bool
		}
		json.Unmarshal(sc.Bytes(), &v)
		text.WriteString(v.Message.Content)
	}
	resp.Body.Close()
	if text.String() != chatWant {
		t.Fatalf("streamed chat %q, want %q", text.String(), chatWant)
	}

	var tags struct {
		Models []struct {
			Name    string
			Details struct {
				Format, Family string
			}
		}
	}
	json.Unmarshal([]byte(get(t, ts.url+"/api/tags")), &tags)
	if len(tags.Models) != 1 || tags.Models[0].Name != "stories260k:latest" || tags.Models[0].Details.Format != "gguf" || tags.Models[0].Details.Family != "llama" {
		t.Fatalf("tags %+v", tags)
	}
	status, _, v = post(t, ts.url+"/api/show", `{"model":"stories260k"}`)
	if info, _ := v["model_info"].(map[string]any); status != 200 || info["general.architecture"] != "llama" || info["llama.context_length"] != 2048.0 {
		t.Fatalf("show: %d %v", status, v)
	}
	if status, _, _ = post(t, ts.url+"/api/show", `{"model":"other"}`); status != 404 {
		t.Fatalf("show of another model: %d", status)
	}
	if !strings.Contains(get(t, ts.url+"/api/version"), `"version"`) {
		t.Fatal("no version")
	}
	if r, err := http.Head(ts.url + "/"); err != nil || r.StatusCode != 200 {
		t.Fatalf("HEAD /: %v %v", err, r)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	ts := newTestServer(t, 2, Options{})
	if _, err := ts.client.Completions.New(context.Background(), completionParams("Once upon a time", 8)); err != nil {
		t.Fatal(err)
	}
	m := get(t, ts.url+"/metrics")
	for _, series := range []string{
		"ferry_tokens_generated_total 8", "ferry_tokens_per_second", "ferry_queue_depth 0",
		"ferry_active_sequences 0", "ferry_disk_read_bytes_total", "ferry_request_duration_seconds_bucket",
		"ferry_time_to_first_token_seconds_bucket", `ferry_time_to_first_token_seconds_count{endpoint="completions"} 1`,
		"ferry_decode_steps_total", "ferry_batch_sequences_bucket", "go_goroutines",
	} {
		if !strings.Contains(m, series) {
			t.Errorf("/metrics lacks %q", series)
		}
	}
	var h map[string]any
	json.Unmarshal([]byte(get(t, ts.url+"/health")), &h)
	if h["status"] != "ok" || h["slots"] != 2.0 {
		t.Fatalf("health %v", h)
	}
	ts.Shutdown(context.Background())
	resp, err := http.Get(ts.url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("health while shutting down: %d", resp.StatusCode)
	}
	status, h2, _ := post(t, ts.url+"/v1/completions", `{"prompt":"x"}`)
	if status != 503 || h2.Get("Retry-After") == "" {
		t.Fatalf("a request after shutdown: %d", status)
	}
}

// TestCurl drives the server with curl, as a person would, where curl is
// installed.
func TestCurl(t *testing.T) {
	curl, err := lookCurl()
	if err != nil {
		t.Skip("skipped: curl is not installed")
	}
	ts := newTestServer(t, 1, Options{})
	out, err := curl(ts.url+"/v1/chat/completions", `{"model":"stories260k","messages":[{"role":"user","content":"Hi"}],"max_tokens":5,"stream":true}`)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(bytes.TrimSpace(out), []byte("data: [DONE]")) || !bytes.Contains(out, []byte(`"finish_reason":"length"`)) {
		t.Fatalf("curl got %s", out)
	}
}

// lookCurl returns a function posting JSON with curl -sN.
func lookCurl() (func(url, body string) ([]byte, error), error) {
	path, err := exec.LookPath("curl")
	if err != nil {
		return nil, err
	}
	return func(url, body string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return exec.CommandContext(ctx, path, "-sN", "-H", "Content-Type: application/json", "-d", body, url).Output()
	}, nil
}

// TestExpertMetrics serves a Mixtral-style model whose experts do not fit
// the weight budget and checks the expert cache's series on /metrics.
func TestExpertMetrics(t *testing.T) {
	path := filepath.Join(fixtures.Dir(t), "models", "moe-mixtral-q4_k_m.gguf")
	probe, err := engine.Load(path, engine.Options{PlanOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var weights int64
	for _, ti := range probe.File.Tensors {
		weights += ti.Size
	}
	probe.Close()
	e, err := engine.Load(path, engine.Options{Parallel: 2, Context: 128, WeightBudget: weights / 2})
	if err != nil {
		t.Fatal(err)
	}
	s := New(e, Options{})
	hs := httptest.NewServer(s)
	defer func() {
		hs.Close()
		s.Shutdown(context.Background())
		e.Close()
	}()
	if e.Experts == nil || s.Scheduler().Prefill() != engine.PrefillMixed {
		t.Fatalf("experts %v, prefill %s", e.Experts, s.Scheduler().Prefill())
	}
	status, _, v := post(t, hs.URL+"/v1/completions", `{"model":"moe-mixtral-q4_k_m","prompt":[1,7,9,11],"max_tokens":8,"temperature":0,"ignore_eos":true}`)
	if status != 200 {
		t.Fatalf("%d %v", status, v)
	}
	m := get(t, hs.URL+"/metrics")
	for _, series := range []string{"ferry_expert_cache_hits_total", "ferry_expert_cache_misses_total", "ferry_expert_cache_hit_ratio", "ferry_expert_read_bytes_total"} {
		if !strings.Contains(m, series+" ") {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if strings.Contains(m, "ferry_expert_cache_misses_total 0\n") && strings.Contains(m, "ferry_expert_cache_hits_total 0\n") {
		t.Errorf("the expert cache saw no use:\n%s", grep(m, "ferry_expert"))
	}
}
