package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"ferry/dtype"
	"ferry/engine"
	"ferry/gguf"
)

// ollamaOptions is the "options" object of Ollama's generate and chat
// requests; the fields ferry does not use (num_ctx, num_gpu, mirostat, ...)
// are accepted and ignored. Defaults are Ollama's.
type ollamaOptions struct {
	Temperature   *float64   `json:"temperature"`
	TopP          *float64   `json:"top_p"`
	TopK          *int       `json:"top_k"`
	MinP          *float64   `json:"min_p"`
	RepeatPenalty *float64   `json:"repeat_penalty"`
	RepeatLastN   *int       `json:"repeat_last_n"`
	Seed          *int64     `json:"seed"`
	NumPredict    *int       `json:"num_predict"`
	Stop          stringList `json:"stop"`
}

// job fills a job (all but its prompt) from the options.
func (o *ollamaOptions) job() (engine.Job, *apiError) {
	var j engine.Job
	if o.NumPredict != nil && *o.NumPredict > 0 {
		j.MaxTokens = *o.NumPredict // 0 and negative: until the context is full
	}
	var err *apiError
	if j.Stop, err = stops(o.Stop); err != nil {
		return j, err
	}
	s := sampling{
		temperature: orFloat(o.Temperature, 0.8), topP: orFloat(o.TopP, 0.9), topK: orInt(o.TopK, 40),
		minP: orFloat(o.MinP, 0), repeatPenalty: orFloat(o.RepeatPenalty, 1.1), repeatLastN: orInt(o.RepeatLastN, 64), seed: o.Seed,
	}
	j.Sampling, err = s.params()
	return j, err
}

type ollamaGenerateRequest struct {
	Model   string          `json:"model"`
	Prompt  string          `json:"prompt"`
	Suffix  string          `json:"suffix"`
	System  string          `json:"system"`
	Context []int32         `json:"context"`
	Stream  *bool           `json:"stream"`
	Raw     bool            `json:"raw"`
	Format  json.RawMessage `json:"format"`
	Images  []string        `json:"images"`
	Options ollamaOptions   `json:"options"`
}

type ollamaChatRequest struct {
	Model    string          `json:"model"`
	Messages []ollamaMessage `json:"messages"`
	Stream   *bool           `json:"stream"`
	Format   json.RawMessage `json:"format"`
	Tools    json.RawMessage `json:"tools"`
	Options  ollamaOptions   `json:"options"`
}

type ollamaMessage struct {
	Role    string   `json:"role"`
	Content string   `json:"content"`
	Images  []string `json:"images,omitempty"`
}

// ollamaResponse is one line of Ollama's NDJSON stream (or its one answer).
type ollamaResponse struct {
	Model              string         `json:"model"`
	CreatedAt          time.Time      `json:"created_at"`
	Response           *string        `json:"response,omitempty"`
	Message            *ollamaMessage `json:"message,omitempty"`
	Done               bool           `json:"done"`
	DoneReason         string         `json:"done_reason,omitempty"`
	Context            []int32        `json:"context,omitempty"`
	TotalDuration      int64          `json:"total_duration,omitempty"`
	LoadDuration       int64          `json:"load_duration,omitempty"`
	PromptEvalCount    int            `json:"prompt_eval_count,omitempty"`
	PromptEvalDuration int64          `json:"prompt_eval_duration,omitempty"`
	EvalCount          int            `json:"eval_count,omitempty"`
	EvalDuration       int64          `json:"eval_duration,omitempty"`
}

func (s *Server) ollamaGenerate(w http.ResponseWriter, r *http.Request) {
	const endpoint = "generate"
	start := time.Now()
	var req ollamaGenerateRequest
	if !s.read(w, r, endpoint, &req, func() string { return req.Model }) {
		return
	}
	job, aerr := req.Options.job()
	switch {
	case aerr != nil:
	case truthy(req.Format):
		aerr = badRequest("format", "format is not supported")
	case len(req.Images) > 0:
		aerr = badRequest("images", "images are not supported")
	case req.Suffix != "":
		aerr = badRequest("suffix", "suffix is not supported")
	}
	if aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	text := func(p string) *string { return &p }
	if req.Prompt == "" && len(req.Context) == 0 {
		// Ollama clients load a model with an empty prompt.
		writeJSON(w, http.StatusOK, ollamaResponse{Model: s.name, CreatedAt: time.Now().UTC(), Response: text(""), Done: true, DoneReason: "load"})
		return
	}
	switch {
	case len(req.Context) > 0:
		// A continuation of an earlier answer: its tokens, then the new text as is.
		job.Prompt = append(append([]int32(nil), req.Context...), s.e.Tok.Encode(req.Prompt, false, true)...)
	case req.Raw || s.tmpl.tmpl == nil:
		// Without a model template the prompt is plain text to continue.
		job.Prompt = s.e.Tok.Encode(req.System+req.Prompt, true, true)
	default:
		var msgs []Message
		if req.System != "" {
			msgs = append(msgs, Message{Role: "system", Content: req.System})
		}
		msgs = append(msgs, Message{Role: "user", Content: req.Prompt})
		if job.Prompt, aerr = s.chatPrompt(w, msgs); aerr != nil {
			s.reject(w, r, endpoint, aerr)
			return
		}
		job.StripPrefixSpace = true
	}
	g, aerr := s.submit(r, endpoint, start, job)
	if aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	s.ollamaRun(w, r, g, req.Stream, func(piece string, res *engine.Result) ollamaResponse {
		out := ollamaResponse{Model: s.name, CreatedAt: time.Now().UTC(), Response: text(piece)}
		if res != nil {
			out.Context = append(append([]int32(nil), job.Prompt...), res.Tokens...)
		}
		return out
	})
}

func (s *Server) ollamaChat(w http.ResponseWriter, r *http.Request) {
	const endpoint = "chat"
	start := time.Now()
	var req ollamaChatRequest
	if !s.read(w, r, endpoint, &req, func() string { return req.Model }) {
		return
	}
	job, aerr := req.Options.job()
	switch {
	case aerr != nil:
	case truthy(req.Format):
		aerr = badRequest("format", "format is not supported")
	case truthy(req.Tools):
		aerr = badRequest("tools", "tools are not supported")
	}
	if aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	if len(req.Messages) == 0 {
		writeJSON(w, http.StatusOK, ollamaResponse{Model: s.name, CreatedAt: time.Now().UTC(),
			Message: &ollamaMessage{Role: "assistant"}, Done: true, DoneReason: "load"})
		return
	}
	msgs := make([]Message, len(req.Messages))
	for i, m := range req.Messages {
		role, ok := chatRoles[m.Role]
		if !ok {
			s.reject(w, r, endpoint, badRequest("messages", "messages[%d].role %q is not one of system, user, assistant, tool", i, m.Role))
			return
		}
		if len(m.Images) > 0 {
			s.reject(w, r, endpoint, badRequest("messages", "messages[%d]: images are not supported", i))
			return
		}
		msgs[i] = Message{Role: role, Content: m.Content}
	}
	if job.Prompt, aerr = s.chatPrompt(w, msgs); aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	job.StripPrefixSpace = true
	g, aerr := s.submit(r, endpoint, start, job)
	if aerr != nil {
		s.reject(w, r, endpoint, aerr)
		return
	}
	s.ollamaRun(w, r, g, req.Stream, func(piece string, _ *engine.Result) ollamaResponse {
		return ollamaResponse{Model: s.name, CreatedAt: time.Now().UTC(), Message: &ollamaMessage{Role: "assistant", Content: piece}}
	})
}

// ollamaRun answers with NDJSON lines as tokens arrive (the default), or
// one JSON object when stream is false. line makes a response line from a
// piece of text, and, on the last line, the result.
func (s *Server) ollamaRun(w http.ResponseWriter, r *http.Request, g *generation, stream *bool, line func(string, *engine.Result) ollamaResponse) {
	final := func(text string, res *engine.Result) ollamaResponse {
		out := line(text, res)
		out.Done, out.DoneReason = true, res.FinishReason
		if out.DoneReason != "length" {
			out.DoneReason = "stop"
		}
		out.TotalDuration = int64(time.Since(g.start))
		out.PromptEvalCount, out.PromptEvalDuration = res.PromptTokens, int64(res.PromptTime)
		out.EvalCount, out.EvalDuration = len(res.Tokens), int64(res.GenerateTime)
		return out
	}
	if stream != nil && !*stream {
		res, aerr := g.wait()
		if aerr != nil {
			s.fail(w, r, aerr)
			return
		}
		writeJSON(w, http.StatusOK, final(res.Text, res))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	f := newFlusher(w)
	var buf []byte
	add := func(v any) {
		b, _ := json.Marshal(v)
		buf = append(append(buf, b...), '\n')
	}
	for {
		ev := g.next()
		for {
			if !ev.Done && ev.Text != "" {
				add(line(ev.Text, nil))
			}
			if ev.Done || len(g.events) == 0 {
				break
			}
			ev = g.next()
		}
		if !ev.Done {
			if len(buf) > 0 && f.write(buf) != nil {
				g.stop()
				return
			}
			buf = buf[:0]
			continue
		}
		g.done()
		if ev.Err != nil {
			add(map[string]string{"error": fmt.Sprintf("generation failed: %v", ev.Err)})
		} else {
			add(final(ev.Text, ev.Result))
		}
		f.write(buf)
		return
	}
}

// ollamaDetails is the "details" object of /api/tags and /api/show.
func (s *Server) ollamaDetails() map[string]any {
	arch := s.e.File.Architecture()
	return map[string]any{
		"parent_model": "", "format": "gguf", "family": arch, "families": []string{arch},
		"parameter_size": paramSize(s.params()), "quantization_level": s.quantization(),
	}
}

// params counts the model's parameters.
func (s *Server) params() int64 {
	var n int64
	for i := range s.e.File.Tensors {
		n += int64(s.e.File.Tensors[i].Elements())
	}
	return n
}

func paramSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// quantization names the weight type holding most of the model's bytes.
func (s *Server) quantization() string {
	bytes := map[dtype.Type]int64{}
	for _, t := range s.e.File.Tensors {
		if len(t.Shape) >= 2 {
			bytes[t.Type] += t.Size
		}
	}
	best, most := dtype.Type(0), int64(-1)
	for t, n := range bytes {
		if n > most || n == most && t < best {
			best, most = t, n
		}
	}
	return best.String()
}

// fileInfo returns the model file's size and modification time (those of
// the process start for the embedded model).
func (s *Server) fileInfo() (int64, time.Time) {
	if st, err := os.Stat(s.e.Path); err == nil {
		return st.Size(), st.ModTime()
	}
	return s.e.File.FileSize, s.loaded
}

func (s *Server) ollamaModel() map[string]any {
	size, mod := s.fileInfo()
	return map[string]any{
		"name": s.name + ":latest", "model": s.name + ":latest", "modified_at": mod.UTC(), "size": size,
		"digest": fmt.Sprintf("%064x", size), "details": s.ollamaDetails(),
	}
}

func (s *Server) ollamaTags(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"models": []any{s.ollamaModel()}})
}

func (s *Server) ollamaPs(w http.ResponseWriter, r *http.Request) {
	m := s.ollamaModel()
	m["size_vram"] = 0
	m["expires_at"] = time.Now().Add(24 * time.Hour).UTC()
	writeJSON(w, http.StatusOK, map[string]any{"models": []any{m}})
}

func (s *Server) ollamaVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": Version})
}

func (s *Server) ollamaShow(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model string `json:"model"`
		Name  string `json:"name"`
	}
	if err := s.decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	name := req.Model
	if name == "" {
		name = req.Name
	}
	if err := s.checkModel(name); err != nil {
		s.fail(w, r, err)
		return
	}
	_, mod := s.fileInfo()
	writeJSON(w, http.StatusOK, map[string]any{
		"license":      "",
		"modelfile":    fmt.Sprintf("# served by ferry\nFROM %s\n", s.e.Path),
		"parameters":   "",
		"template":     s.tmpl.Source,
		"details":      s.ollamaDetails(),
		"model_info":   modelInfo(s.e.File, s.params()),
		"capabilities": []string{"completion"},
		"modified_at":  mod.UTC(),
	})
}

// modelInfo lists the model's scalar metadata (arrays, such as the
// vocabulary, are left out, as Ollama leaves them out without verbose).
func modelInfo(g *gguf.File, params int64) map[string]any {
	info := map[string]any{"general.parameter_count": params}
	keys := g.Keys()
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := g.Lookup(k)
		if _, isArray := v.V.(gguf.Array); isArray || strings.HasPrefix(k, "tokenizer.chat_template") {
			continue
		}
		info[k] = v.V
	}
	return info
}
