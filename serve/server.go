// Package serve is ferry's HTTP server: OpenAI-compatible
// (/v1/completions, /v1/chat/completions, /v1/models) and Ollama-compatible
// (/api/generate, /api/chat, /api/tags, /api/show, /api/version, /api/ps)
// endpoints over one engine, with continuous batching (engine.Scheduler),
// Prometheus metrics on /metrics and a liveness check on /health.
//
// Every generation request becomes one engine.Job: it waits in a bounded
// queue for one of the engine's sequence slots (503 with Retry-After when
// the queue is full), joins the running batch between two forward passes,
// streams its tokens as they are sampled (server-sent events ending with
// "data: [DONE]" for OpenAI, NDJSON for Ollama), and leaves the batch the
// step it finishes or the step after its client disconnects.
//
// Chat prompts are rendered with the model's own tokenizer.chat_template
// (Jinja, by github.com/ardanlabs/jinja) with messages,
// add_generation_prompt, bos_token, eos_token and raise_exception. A
// template that calls raise_exception (say, "roles must alternate") fails
// the request with 400 and the template's message. A model without a
// template, or whose template does not compile or render, falls back to
// ChatML ("<|im_start|>role\ncontent<|im_end|>\n" ... "<|im_start|>assistant\n")
// when its vocabulary has <|im_start|> and <|im_end|>, else to a plain
// transcript ("role: content\n" per message, then "assistant:"); the
// X-Ferry-Chat-Format response header says which ("template", "chatml" or
// "transcript"). Ollama's /api/generate renders its prompt (and system) as
// one user turn only when the model has a template and raw is false;
// otherwise the prompt is continued as plain text.
package serve

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ferry/embedded"
	"ferry/engine"
)

// Version is the version /api/version reports (Ollama clients only check
// that it parses).
const Version = "0.12.0-ferry"

// DefaultMaxBody is the default limit on a request body.
const DefaultMaxBody = 1 << 20

// Options configures New.
type Options struct {
	// Name is the model name the server reports and accepts; default the
	// model file's base name without .gguf ("stories260k" for the embedded
	// model). Requests may also name the model by its general.name, and
	// Ollama-style names may carry a ":latest" tag. An empty model field is
	// accepted as this model.
	Name string
	// QueueSize bounds the requests waiting for a sequence slot; default 4
	// times the engine's slots (--parallel).
	QueueSize int
	// MaxBodyBytes limits a request body; default 1 MiB. Larger bodies get 413.
	MaxBodyBytes int64
	// Scheduler configures the continuous-batching scheduler (QueueSize,
	// when set above, overrides its QueueSize).
	Scheduler engine.SchedulerOptions
	// Collectors are extra Prometheus collectors served on /metrics: the
	// hook for engine-specific series (expert-cache hit rates and the like).
	Collectors []prometheus.Collector
	// Logf, when set, receives one line per notable event (template
	// fallbacks, failed requests).
	Logf func(format string, args ...any)
}

// Server serves one engine over HTTP. It owns the engine (through its
// scheduler) until Shutdown returns; the caller closes the engine after.
type Server struct {
	e        *engine.Engine
	sched    *engine.Scheduler
	opts     Options
	name     string
	aliases  []string
	tmpl     *ChatTemplate
	m        *metrics
	mux      *http.ServeMux
	loaded   time.Time
	draining atomic.Bool
}

// New starts a scheduler for e and returns the server.
func New(e *engine.Engine, opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBody
	}
	if opts.QueueSize > 0 {
		opts.Scheduler.QueueSize = opts.QueueSize
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Server{e: e, opts: opts, loaded: time.Now()}
	s.name = opts.Name
	if s.name == "" {
		s.name = ModelName(e.Path)
	}
	if gn, ok := e.File.String("general.name"); ok && gn != "" && gn != s.name {
		s.aliases = append(s.aliases, gn)
	}
	s.tmpl = NewChatTemplate(e.File, e.Tok)
	if s.tmpl.CompileErr != nil {
		opts.Logf("the model's chat template does not compile (%v); chat uses the %s fallback", s.tmpl.CompileErr, s.tmpl.Fallback)
	}
	sopts := opts.Scheduler
	sopts.OnStep = func(st engine.StepInfo) {
		s.m.batchSize.Observe(float64(st.Sequences))
		if opts.Scheduler.OnStep != nil {
			opts.Scheduler.OnStep(st)
		}
	}
	s.sched = engine.NewScheduler(e, sopts)
	s.m = newMetrics(e, s.sched, opts.Collectors)
	s.routes()
	return s
}

// ModelName returns the name a model file is served under: its base name
// without the .gguf extension ("stories260k" for the embedded model, whose
// path reads "(embedded) stories260k.gguf").
func ModelName(path string) string {
	if path == "" || strings.HasPrefix(path, "(embedded)") {
		path = embedded.Name
	}
	return strings.TrimSuffix(filepath.Base(path), ".gguf")
}

// Name returns the model name the server reports.
func (s *Server) Name() string { return s.name }

// Scheduler returns the server's continuous-batching scheduler (for its
// Stats).
func (s *Server) Scheduler() *engine.Scheduler { return s.sched }

// Template returns the chat template the server renders chats with.
func (s *Server) Template() *ChatTemplate { return s.tmpl }

// Registry returns the Prometheus registry /metrics serves.
func (s *Server) Registry() *prometheus.Registry { return s.m.reg }

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Shutdown stops accepting generation requests (they get 503 and /health
// reports 503), lets queued and running ones finish, and stops the metrics.
// When ctx ends first, what is left is cancelled and ctx.Err() returned.
// Call it after http.Server.Shutdown has stopped the listener (or while it
// waits for handlers); close the engine after it returns.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	err := s.sched.Shutdown(ctx)
	s.m.close()
	return err
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /v1/models", s.openaiModels)
	mux.HandleFunc("GET /v1/models/{model...}", s.openaiModel)
	mux.HandleFunc("POST /v1/completions", s.openaiCompletions)
	mux.HandleFunc("POST /v1/chat/completions", s.openaiChat)
	mux.HandleFunc("POST /api/generate", s.ollamaGenerate)
	mux.HandleFunc("POST /api/chat", s.ollamaChat)
	mux.HandleFunc("GET /api/tags", s.ollamaTags)
	mux.HandleFunc("POST /api/show", s.ollamaShow)
	mux.HandleFunc("GET /api/version", s.ollamaVersion)
	mux.HandleFunc("GET /api/ps", s.ollamaPs)
	mux.HandleFunc("GET /{$}", s.root)
	mux.HandleFunc("/", s.notFound)
	s.mux = mux
}

// root answers Ollama clients' heartbeat (HEAD /).
func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ferry is running\n")
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	st := s.sched.Stats()
	body := map[string]any{"status": "ok", "model": s.name, "active": st.Active, "queued": st.Queued, "slots": s.sched.Slots()}
	code := http.StatusOK
	if s.draining.Load() {
		body["status"], code = "shutting down", http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

var knownPaths = map[string]string{
	"/health": "GET", "/metrics": "GET", "/v1/models": "GET", "/v1/completions": "POST",
	"/v1/chat/completions": "POST", "/api/generate": "POST", "/api/chat": "POST",
	"/api/tags": "GET", "/api/show": "POST", "/api/version": "GET", "/api/ps": "GET",
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if m, ok := knownPaths[r.URL.Path]; ok {
		w.Header().Set("Allow", m)
		s.fail(w, r, errorf(http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "", "%s %s: use %s", r.Method, r.URL.Path, m))
		return
	}
	s.fail(w, r, errorf(http.StatusNotFound, "invalid_request_error", "not_found", "", "no endpoint %s %s", r.Method, r.URL.Path))
}

// modelOK reports whether a request's model field names the served model.
func (s *Server) modelOK(name string) bool {
	if name == "" {
		return true
	}
	name = strings.TrimSuffix(name, ":latest")
	if name == s.name || strings.EqualFold(name, s.name) {
		return true
	}
	for _, a := range s.aliases {
		if name == a {
			return true
		}
	}
	return false
}

func (s *Server) checkModel(name string) *apiError {
	if s.modelOK(name) {
		return nil
	}
	return errorf(http.StatusNotFound, "invalid_request_error", "model_not_found", "model",
		"the model %q does not exist; this server serves %q", name, s.name)
}

// apiError is an error answer: an HTTP status and OpenAI's error fields.
type apiError struct {
	Status  int
	Type    string
	Code    string
	Param   string
	Message string
}

func (e *apiError) Error() string { return e.Message }

func errorf(status int, typ, code, param, format string, args ...any) *apiError {
	return &apiError{Status: status, Type: typ, Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

func badRequest(param, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "invalid_request_error", "invalid_value", param, format, args...)
}

// fail writes e in the shape the endpoint's clients expect: Ollama's
// {"error": "..."} under /api/, OpenAI's {"error": {...}} elsewhere.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if e.Status >= 500 {
		s.opts.Logf("%s %s: %d %s", r.Method, r.URL.Path, e.Status, e.Message)
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, e.Status, map[string]string{"error": e.Message})
		return
	}
	writeJSON(w, e.Status, openaiErrorBody(e))
}

func openaiErrorBody(e *apiError) any {
	var param, code any
	if e.Param != "" {
		param = e.Param
	}
	if e.Code != "" {
		code = e.Code
	}
	return map[string]any{"error": map[string]any{"message": e.Message, "type": e.Type, "param": param, "code": code}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// decode reads r's JSON body into v, within the body limit.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) *apiError {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	if err == nil {
		// Nothing but white space may follow; reading it also enforces the limit.
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			return nil
		} else if err == nil {
			err = errors.New("more than one JSON value in the body")
		}
	}
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large", "",
			"the request body exceeds the limit of %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return badRequest("", "the request body is empty; expected a JSON object")
	case errors.As(err, &ute):
		field := ute.Field[strings.LastIndex(ute.Field, ".")+1:] // without the embedded struct's name
		if field == "" {
			return errorf(http.StatusBadRequest, "invalid_request_error", "invalid_type", "", "invalid JSON: the body is %s, expected an object", ute.Value)
		}
		return errorf(http.StatusBadRequest, "invalid_request_error", "invalid_type", field,
			"invalid JSON: %s is %s, expected %s", field, ute.Value, ute.Type)
	}
	return errorf(http.StatusBadRequest, "invalid_request_error", "invalid_json", "", "invalid JSON body: %v", err)
}

// newID returns a random response id with prefix.
func newID(prefix string) string { return prefix + strings.ToLower(crand.Text()) }

// generation is one job submitted to the scheduler, read by a handler.
type generation struct {
	s        *Server
	endpoint string
	start    time.Time
	events   <-chan engine.Event
	cancel   context.CancelFunc
	first    bool
	res      *engine.Result
}

// submit queues job for the request r, mapping the scheduler's refusals to
// HTTP errors: 503 when the queue is full or the server is shutting down,
// 400 for a prompt that does not fit the context or is invalid.
func (s *Server) submit(r *http.Request, endpoint string, start time.Time, job engine.Job) (*generation, *apiError) {
	if s.draining.Load() {
		return nil, errorf(http.StatusServiceUnavailable, "server_error", "shutting_down", "", "the server is shutting down")
	}
	ctx, cancel := context.WithCancel(r.Context())
	ch, err := s.sched.Submit(ctx, job)
	if err != nil {
		cancel()
		switch {
		case errors.Is(err, engine.ErrQueueFull):
			return nil, errorf(http.StatusServiceUnavailable, "server_error", "server_overloaded", "",
				"the server is busy: %d requests are queued for %d sequence slots; retry later", s.sched.Stats().Queued, s.sched.Slots())
		case errors.Is(err, engine.ErrClosed):
			return nil, errorf(http.StatusServiceUnavailable, "server_error", "shutting_down", "", "the server is shutting down")
		case errors.Is(err, engine.ErrContext):
			return nil, errorf(http.StatusBadRequest, "invalid_request_error", "context_length_exceeded", "",
				"the prompt is %d tokens, more than the context of %d tokens", len(job.Prompt), s.sched.Context())
		}
		return nil, badRequest("", "%v", err)
	}
	return &generation{s: s, endpoint: endpoint, start: start, events: ch, cancel: cancel}, nil
}

// next returns the next event; the stream always ends with a Done event
// (after a cancel, at the scheduler's next step).
func (g *generation) next() engine.Event {
	ev := <-g.events
	if !ev.Done && !g.first {
		g.first = true
		g.s.m.ttft.WithLabelValues(g.endpoint).Observe(time.Since(g.start).Seconds())
	}
	if ev.Done {
		g.res = ev.Result
	}
	return ev
}

// stop cancels the job (the client went away) and records the request.
func (g *generation) stop() {
	g.cancel()
	g.done()
}

// done records the finished request's metrics.
func (g *generation) done() {
	reason := "cancelled"
	if g.res != nil {
		reason = g.res.FinishReason
	}
	g.cancel()
	g.s.m.requests.WithLabelValues(g.endpoint, reason).Inc()
	g.s.m.latency.WithLabelValues(g.endpoint).Observe(time.Since(g.start).Seconds())
}

// reject records a request refused before generating.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, endpoint string, e *apiError) {
	s.m.rejected.WithLabelValues(endpoint, fmt.Sprint(e.Status)).Inc()
	s.fail(w, r, e)
}

// flusher flushes a streamed response after each message.
type flusher struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func newFlusher(w http.ResponseWriter) *flusher {
	return &flusher{w: w, rc: http.NewResponseController(w)}
}

// write writes b and flushes; an error means the client is gone.
func (f *flusher) write(b []byte) error {
	if _, err := f.w.Write(b); err != nil {
		return err
	}
	return f.rc.Flush()
}

// read decodes a request body into req and checks the model it names (model
// reads it once decoded); on failure it answers the client and returns false.
func (s *Server) read(w http.ResponseWriter, r *http.Request, endpoint string, req any, model func() string) bool {
	if err := s.decode(w, r, req); err != nil {
		s.reject(w, r, endpoint, err)
		return false
	}
	if err := s.checkModel(model()); err != nil {
		s.reject(w, r, endpoint, err)
		return false
	}
	return true
}
