package serve

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"ferry/engine"
)

// openaiCommon holds the request fields /v1/completions and
// /v1/chat/completions share. Fields ferry does not use (user, metadata,
// frequency_penalty, presence_penalty, logit_bias, ...) are accepted and
// ignored. top_k, min_p, repeat_penalty and ignore_eos are llama.cpp-server
// extensions.
type openaiCommon struct {
	Model               string          `json:"model"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	TopK                *int            `json:"top_k"`
	MinP                *float64        `json:"min_p"`
	RepeatPenalty       *float64        `json:"repeat_penalty"`
	Seed                *int64          `json:"seed"`
	Stop                stringList      `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	N                   *int            `json:"n"`
	Logprobs            json.RawMessage `json:"logprobs"`
	IgnoreEOS           bool            `json:"ignore_eos"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// job validates the common fields and fills a job (all but its prompt).
// defaultMax is the token limit when the request sets none (0: the context).
func (c *openaiCommon) job(defaultMax int) (engine.Job, *apiError) {
	var j engine.Job
	max, param := c.MaxTokens, "max_tokens"
	if c.MaxCompletionTokens != nil {
		max, param = c.MaxCompletionTokens, "max_completion_tokens"
	}
	j.MaxTokens = defaultMax
	if max != nil {
		if *max < 1 {
			return j, badRequest(param, "%s must be at least 1, got %d", param, *max)
		}
		j.MaxTokens = *max
	}
	if c.N != nil && *c.N != 1 {
		return j, badRequest("n", "only n=1 is supported, got %d", *c.N)
	}
	if truthy(c.Logprobs) {
		return j, badRequest("logprobs", "logprobs are not supported")
	}
	var err *apiError
	if j.Stop, err = stops(c.Stop); err != nil {
		return j, err
	}
	s := sampling{
		temperature: orFloat(c.Temperature, 1), topP: orFloat(c.TopP, 1), topK: orInt(c.TopK, 0),
		minP: orFloat(c.MinP, 0), repeatPenalty: orFloat(c.RepeatPenalty, 1), repeatLastN: 64, seed: c.Seed,
	}
	if j.Sampling, err = s.params(); err != nil {
		return j, err
	}
	j.IgnoreEOS = c.IgnoreEOS
	return j, nil
}

func (c *openaiCommon) includeUsage() bool {
	return c.StreamOptions != nil && c.StreamOptions.IncludeUsage
}

type completionRequest struct {
	openaiCommon
	Prompt promptField `json:"prompt"`
	Echo   bool        `json:"echo"`
	Suffix *string     `json:"suffix"`
}

type chatRequest struct {
	openaiCommon
	Messages       []chatMessage   `json:"messages"`
	Tools          json.RawMessage `json:"tools"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

// chatMessage is an OpenAI chat message; content is a string, null, or an
// array of parts of which ferry takes the text ones.
type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text returns a message's content as text.
func (m chatMessage) text(i int) (string, *apiError) {
	b := bytes.TrimSpace(m.Content)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return "", nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", badRequest("messages", "messages[%d].content: %v", i, err)
		}
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return "", badRequest("messages", "messages[%d].content must be a string or an array of content parts", i)
	}
	var sb strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", badRequest("messages", "messages[%d].content: only text parts are supported, not %q", i, p.Type)
		}
		sb.WriteString(p.Text)
	}
	return sb.String(), nil
}

var chatRoles = map[string]string{"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool", "function": "tool"}

// messages converts OpenAI messages to template messages.
func openaiMessages(in []chatMessage) ([]Message, *apiError) {
	if len(in) == 0 {
		return nil, badRequest("messages", "messages must not be empty")
	}
	out := make([]Message, len(in))
	for i, m := range in {
		role, ok := chatRoles[m.Role]
		if !ok {
			return nil, badRequest("messages", "messages[%d].role %q is not one of system, developer, user, assistant, tool", i, m.Role)
		}
		text, err := m.text(i)
		if err != nil {
			return nil, err
		}
		out[i] = Message{Role: role, Content: text}
	}
	return out, nil
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func usageOf(r *engine.Result) *usage {
	return &usage{PromptTokens: r.PromptTokens, CompletionTokens: len(r.Tokens), TotalTokens: r.PromptTokens + len(r.Tokens)}
}

func (s *Server) openaiModels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{s.openaiModelObject()}})
}

func (s *Server) openaiModel(w http.ResponseWriter, r *http.Request) {
	if name := r.PathValue("model"); name == "" || !s.modelOK(name) {
		s.fail(w, r, errorf(http.StatusNotFound, "invalid_request_error", "model_not_found", "model",
			"the model %q does not exist; this server serves %q", name, s.name))
		return
	}
	writeJSON(w, http.StatusOK, s.openaiModelObject())
}

func (s *Server) openaiModelObject() map[string]any {
	return map[string]any{"id": s.name, "object": "model", "created": s.loaded.Unix(), "owned_by": "ferry"}
}

type completionChoice struct {
	Text         string  `json:"text"`
	Index        int     `json:"index"`
	Logprobs     any     `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
}

type completionResponse struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []completionChoice `json:"choices"`
	Usage             *usage             `json:"usage,omitempty"`
}

// finishReason maps ferry's reasons to OpenAI's: stop, length (a
// cancelled request never reaches a client).
func finishReason(r *engine.Result) *string {
	reason := r.FinishReason
	if reason != "length" {
		reason = "stop"
	}
	return &reason
}

const fingerprint = "ferry"

func (s *Server) openaiCompletions(w http.ResponseWriter, r *http.Request) {
	const endpoint = "completions"
	start := time.Now()
	var req completionRequest
	if !s.read(w, r, endpoint, &req, func() string { return req.Model }) {
		return
	}
	job, aerr := req.job(16) // OpenAI's default for legacy completions
	if aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	switch {
	case !req.Prompt.set:
		aerr = badRequest("prompt", "prompt is required")
	case req.Prompt.many > 1:
		aerr = badRequest("prompt", "only one prompt per request is supported, got %d", req.Prompt.many)
	case req.Suffix != nil && *req.Suffix != "":
		aerr = badRequest("suffix", "suffix is not supported")
	}
	if aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	echo := ""
	if req.Prompt.isText {
		job.Prompt = s.e.Tok.Encode(req.Prompt.text, true, true)
		echo = req.Prompt.text
	} else {
		job.Prompt = req.Prompt.tokens
		echo = s.e.Tok.Detokenize(job.Prompt, true, false)
	}
	if len(job.Prompt) == 0 {
		s.reject(w, r, endpoint, badRequest("prompt", "the prompt is empty"))
		return
	}
	if !req.Echo {
		echo = ""
	}
	g, aerr := s.submit(r, endpoint, start, job)
	if aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	id, created := newID("cmpl-"), time.Now().Unix()
	chunk := func(text string, fin *string) completionResponse {
		return completionResponse{ID: id, Object: "text_completion", Created: created, Model: s.name, SystemFingerprint: fingerprint,
			Choices: []completionChoice{{Text: text, FinishReason: fin}}}
	}
	if !req.Stream {
		res, aerr := g.wait()
		if aerr != nil {
			s.fail(w, r, aerr)
			return
		}
		out := chunk(echo+res.Text, finishReason(res))
		out.Usage = usageOf(res)
		writeJSON(w, http.StatusOK, out)
		return
	}
	sse := startSSE(w)
	if echo != "" && sse.send(chunk(echo, nil)) != nil {
		g.stop()
		return
	}
	g.stream(sse, func(text string) any { return chunk(text, nil) }, func(res *engine.Result) []any {
		out := []any{chunk("", finishReason(res))}
		if req.includeUsage() {
			u := chunk("", nil)
			u.Choices, u.Usage = []completionChoice{}, usageOf(res)
			out = append(out, u)
		}
		return out
	})
}

type chatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chatChoice struct {
	Index        int        `json:"index"`
	Message      *chatReply `json:"message,omitempty"`
	Delta        *chatDelta `json:"delta,omitempty"`
	Logprobs     any        `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

type chatReply struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Refusal any    `json:"refusal"`
}

type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []chatChoice `json:"choices"`
	Usage             *usage       `json:"usage,omitempty"`
}

// chatPrompt renders and tokenizes msgs, saying which format rendered them
// in a response header.
func (s *Server) chatPrompt(w http.ResponseWriter, msgs []Message) ([]int32, *apiError) {
	text, format, err := s.tmpl.Render(msgs, true)
	if err != nil {
		return nil, badRequest("messages", "%v", err)
	}
	w.Header().Set("X-Ferry-Chat-Format", format)
	if format != "template" && s.tmpl.Source != "" {
		s.opts.Logf("the model's chat template failed to render; used the %s fallback", format)
	}
	return Tokenize(s.e.Tok, text), nil
}

func (s *Server) openaiChat(w http.ResponseWriter, r *http.Request) {
	const endpoint = "chat"
	start := time.Now()
	var req chatRequest
	if !s.read(w, r, endpoint, &req, func() string { return req.Model }) {
		return
	}
	job, aerr := req.job(0)
	if aerr == nil && truthy(req.Tools) {
		aerr = badRequest("tools", "tools are not supported")
	}
	if aerr == nil && req.ResponseFormat != nil && req.ResponseFormat.Type != "" && req.ResponseFormat.Type != "text" {
		aerr = badRequest("response_format", "response_format %q is not supported (only text)", req.ResponseFormat.Type)
	}
	var msgs []Message
	if aerr == nil {
		msgs, aerr = openaiMessages(req.Messages)
	}
	if aerr == nil {
		job.Prompt, aerr = s.chatPrompt(w, msgs)
	}
	if aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	job.StripPrefixSpace = true
	g, aerr := s.submit(r, endpoint, start, job)
	if aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	id, created := newID("chatcmpl-"), time.Now().Unix()
	resp := func(choice chatChoice) chatResponse {
		return chatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: s.name, SystemFingerprint: fingerprint, Choices: []chatChoice{choice}}
	}
	if !req.Stream {
		res, aerr := g.wait()
		if aerr != nil {
			s.fail(w, r, aerr)
			return
		}
		out := resp(chatChoice{Message: &chatReply{Role: "assistant", Content: res.Text}, FinishReason: finishReason(res)})
		out.Object, out.Usage = "chat.completion", usageOf(res)
		writeJSON(w, http.StatusOK, out)
		return
	}
	sse := startSSE(w)
	empty := ""
	if sse.send(resp(chatChoice{Delta: &chatDelta{Role: "assistant", Content: &empty}})) != nil {
		g.stop()
		return
	}
	g.stream(sse, func(text string) any {
		return resp(chatChoice{Delta: &chatDelta{Content: &text}})
	}, func(res *engine.Result) []any {
		out := []any{resp(chatChoice{Delta: &chatDelta{}, FinishReason: finishReason(res)})}
		if req.includeUsage() {
			u := resp(chatChoice{})
			u.Choices, u.Usage = []chatChoice{}, usageOf(res)
			out = append(out, u)
		}
		return out
	})
}

// wait reads the generation to its end.
func (g *generation) wait() (*engine.Result, *apiError) {
	for {
		ev := g.next()
		if !ev.Done {
			continue
		}
		g.done()
		if ev.Err != nil {
			return nil, errorf(http.StatusInternalServerError, "server_error", "generation_failed", "", "generation failed: %v", ev.Err)
		}
		return ev.Result, nil
	}
}

// sseWriter writes server-sent events, several per write when tokens
// arrive faster than the client reads.
type sseWriter struct {
	f   *flusher
	buf []byte
}

func startSSE(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &sseWriter{f: newFlusher(w)}
}

// add queues the event with data v.
func (s *sseWriter) add(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(openaiErrorBody(errorf(http.StatusInternalServerError, "server_error", "", "", "%v", err)))
	}
	s.buf = append(s.buf, "data: "...)
	s.buf = append(s.buf, b...)
	s.buf = append(s.buf, "\n\n"...)
}

// flush writes the queued events; an error means the client is gone.
func (s *sseWriter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	err := s.f.write(s.buf)
	s.buf = s.buf[:0]
	return err
}

func (s *sseWriter) send(v any) error {
	s.add(v)
	return s.flush()
}

// stream sends each piece of text as an SSE chunk, then the final chunks
// and [DONE]. Events that are already waiting go out in one write. A failed
// write (the client left) cancels the job.
func (g *generation) stream(sse *sseWriter, piece func(string) any, final func(*engine.Result) []any) {
	for {
		ev := g.next()
		for {
			if ev.Text != "" {
				sse.add(piece(ev.Text))
			}
			if ev.Done || len(g.events) == 0 {
				break
			}
			ev = g.next()
		}
		if !ev.Done {
			if sse.flush() != nil {
				g.stop()
				return
			}
			continue
		}
		g.done()
		if ev.Err != nil {
			sse.add(openaiErrorBody(errorf(http.StatusInternalServerError, "server_error", "generation_failed", "", "generation failed: %v", ev.Err)))
		} else {
			for _, c := range final(ev.Result) {
				sse.add(c)
			}
		}
		sse.buf = append(sse.buf, "data: [DONE]\n\n"...)
		sse.flush()
		return
	}
}
