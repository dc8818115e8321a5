package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"ferry/engine"
	"ferry/serve"
)

// serveContext returns the context whose end begins a graceful shutdown:
// SIGINT or SIGTERM. Tests replace it.
var serveContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func cmdServe(args []string, stdout io.Writer) error {
	fs := newFlags("serve")
	var mf modelFlags
	mf.register(fs, false)
	addr := fs.String("addr", "127.0.0.1:11435", "`address` to listen on (host:port)")
	parallel := fs.Int("parallel", 4, "sequences generated at once (each has its own KV cache, counted in --mem)")
	queue := fs.Int("queue", 0, "requests that may wait for a free sequence (default 4 x --parallel); beyond, 503")
	name := fs.String("name", "", "model `name` to report and accept (default: the file's base name without .gguf)")
	maxBody := fs.String("max-body", "1MiB", "largest request body; larger ones get 413")
	prefill := fs.String("prefill", "auto", "how joining prompts share forward passes: mixed (with the decode tokens: one weight read), first (a pass of their own: lower time to first token), auto (mixed when weights stream from disk, else first)")
	drain := fs.Duration("shutdown-timeout", 60*time.Second, "on SIGINT/SIGTERM, how long in-flight requests may take to finish before they are cut")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ferry serve [-m MODEL] [--mem SIZE] [--addr 127.0.0.1:11435] [--parallel N]\n\n"+
			"Serves the model over HTTP with OpenAI-compatible (/v1/completions, /v1/chat/completions, /v1/models)\n"+
			"and Ollama-compatible (/api/generate, /api/chat, /api/tags, /api/show) endpoints, /health and /metrics.\n\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *parallel < 1 {
		return usageError{fmt.Errorf("--parallel must be at least 1")}
	}
	if *queue < 0 {
		return usageError{fmt.Errorf("--queue must not be negative")}
	}
	opts, err := mf.options()
	if err != nil {
		return err
	}
	opts.Parallel = *parallel
	prefillMode, err := engine.ParsePrefillMode(*prefill)
	if err != nil {
		return usageError{fmt.Errorf("--prefill: %v", err)}
	}
	bodyLimit, err := ParseSize(*maxBody)
	if err != nil {
		return usageError{fmt.Errorf("--max-body: %v", err)}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	e, err := engine.Load(mf.model, opts)
	if err != nil {
		return err
	}
	defer e.Close()
	logger := log.New(os.Stderr, "ferry serve: ", log.LstdFlags)
	s := serve.New(e, serve.Options{Name: *name, QueueSize: *queue, MaxBodyBytes: bodyLimit, Logf: logger.Printf,
		Scheduler: engine.SchedulerOptions{Prefill: prefillMode}})
	if s.Template().Source == "" {
		logger.Printf("the model has no chat template; chat uses the %s fallback", s.Template().Fallback)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: logger}
	ctx, stop := serveContext()
	defer stop()
	fmt.Fprintf(stdout, "ferry serve: %s on http://%s (parallel %d, context %d, prefill %s, weights %s resident, %s streamed)\n",
		s.Name(), ln.Addr(), *parallel, e.Cache0Context(), s.Scheduler().Prefill(), engine.MiB(e.Placement.ResidentBytes), engine.MiB(e.Placement.StreamedBytes))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills at once
	logger.Printf("shutting down: draining in-flight requests (at most %s)", *drain)
	dctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	// Stop accepting and wait for the handlers; past the deadline, cut the
	// sequences still running (their handlers then finish) and close.
	herr := hs.Shutdown(dctx)
	serr := s.Shutdown(dctx)
	hs.Close()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if herr != nil || serr != nil {
		logger.Printf("shutdown deadline passed; unfinished requests were cut")
	}
	logger.Printf("stopped")
	return nil
}
