package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeGracefulShutdown starts `ferry serve` on a loopback port, begins
// a streaming request, then signals shutdown: the request must still finish
// in full, the command exit 0, and the port stop answering.
func TestServeGracefulShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := serveContext
	serveContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { serveContext = old }()
	pr, pw := io.Pipe()
	exit := make(chan int, 1)
	var errb strings.Builder
	go func() {
		exit <- Main([]string{"serve", "--addr", "127.0.0.1:0", "--parallel", "2", "--ctx", "512"}, pw, &errb)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v (%s)", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`ferry serve: stories260k on (http://127\.0\.0\.1:\d+) `).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("listening line %q", line)
	}
	url := m[1]
	resp, err := http.Get(url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"id":"stories260k"`) {
		t.Fatalf("/v1/models: %s", b)
	}

	resp, err = http.Post(url+"/v1/completions", "application/json",
		strings.NewReader(`{"prompt":"Once upon a time","max_tokens":300,"ignore_eos":true,"temperature":0,"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "data: {") {
		t.Fatalf("first event %q", sc.Text())
	}
	cancel() // SIGINT
	events, last, finish := 1, "", ""
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events++
			last = d
			if i := strings.Index(d, `"finish_reason":"`); i >= 0 {
				finish = d[i+17 : i+17+strings.IndexByte(d[i+17:], '"')]
			}
		}
	}
	if last != "[DONE]" || finish != "length" || events < 250 {
		t.Fatalf("the in-flight stream ended with %q after %d events (finish %q)", last, events, finish)
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit after the shutdown signal")
	}
	if _, err := http.Get(url + "/health"); err == nil {
		t.Fatal("the server still answers after exiting")
	}
}

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{{"serve", "--parallel", "0"}, {"serve", "--max-body", "lots"}, {"serve", "--prefill", "sometimes"}, {"serve", "extra"}} {
		if code, _, errs := ferry(t, args...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errs)
		}
	}
	if code, _, errs := ferry(t, "serve", "--addr", "256.0.0.1:99999"); code != 1 {
		t.Errorf("a bad address: exit %d (%s), want 1", code, errs)
	}
}
