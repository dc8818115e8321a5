package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"

	"ferry/engine"
	"ferry/sample"
)

func cmdRun(args []string, stdout io.Writer) error {
	fs := newFlags("run")
	var mf modelFlags
	mf.register(fs, true)
	n := fs.Int("n", 256, "maximum tokens to generate")
	def := sample.Defaults()
	temp := fs.Float64("temp", float64(def.Temperature), "sampling temperature; 0 is greedy")
	topK := fs.Int("top-k", def.TopK, "keep the K most likely tokens (0: all)")
	topP := fs.Float64("top-p", float64(def.TopP), "nucleus sampling threshold (1: off)")
	minP := fs.Float64("min-p", float64(def.MinP), "drop tokens below this fraction of the top probability (0: off)")
	rep := fs.Float64("repeat-penalty", float64(def.RepeatPenalty), "penalty for recently seen tokens (1: off)")
	repN := fs.Int("repeat-last-n", def.RepeatLastN, "how many recent tokens the penalty sees")
	seed := fs.Uint64("seed", 0, "random seed (0: a random one)")
	asJSON := fs.Bool("json", false, "end with one line of JSON: prompt_tokens, tokens, text, speeds, I/O")
	traceFile := fs.String("trace-routing", "", "record every MoE routing decision to this `file` (see ferry trace analyze)")
	stats := fs.Bool("stats", false, "print speed, I/O and memory accounting to stderr at the end")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 0 {
		return usageError{fmt.Errorf("-n must not be negative")}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	e, err := mf.load()
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			e.Close()
		}
	}()
	if mf.prompt == "" && mf.promptIDs == "" && mf.promptFile == "" {
		mf.prompt = "Once upon a time"
	}
	prompt, err := mf.promptTokens(e, false)
	if err != nil {
		return err
	}
	finishTrace := func() error { return nil }
	if *traceFile != "" {
		if finishTrace, err = startTrace(e, *traceFile); err != nil {
			return err
		}
	}
	if mf.lowbit != "" {
		fmt.Fprintf(os.Stderr, "ferry: low-bit expert copies in use (--expert-lowbit): the output is approximate\n")
	}
	s := *seed
	if s == 0 {
		s = uint64(os.Getpid())<<32 ^ uint64(nanotime())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if mf.prompt != "" && mf.promptIDs == "" {
		fmt.Fprint(stdout, mf.prompt)
	}
	res, err := e.Generate(ctx, engine.Request{
		Prompt:    prompt,
		MaxTokens: *n,
		Sampling: sample.Params{
			Temperature: float32(*temp), TopK: *topK, TopP: float32(*topP), MinP: float32(*minP),
			RepeatPenalty: float32(*rep), RepeatLastN: *repN, Seed: s,
		},
		OnToken: func(_ int32, text []byte) bool {
			stdout.Write(text)
			return true
		},
	})
	if err != nil {
		return err
	}
	if err := finishTrace(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if !*asJSON && !*stats {
		return nil
	}
	closed = true
	m := measure(e, res, mf.model, false, nil)
	if *stats {
		printStats(os.Stderr, m)
	}
	if *asJSON {
		out := map[string]any{
			"prompt_tokens":        nonNil(prompt),
			"tokens":               nonNil(res.Tokens),
			"text":                 res.Text,
			"finish_reason":        res.FinishReason,
			"prefill_tok_s":        res.PrefillTokS(),
			"decode_tok_s":         res.DecodeTokS(),
			"seed":                 s,
			"bytes_per_token":      m.BytesPerToken,
			"bytes_read_per_token": m.BytesReadPerToken,
			"io_wait_frac":         m.IOWaitFrac,
			"peak_rss_bytes":       m.PeakRSSBytes,
			"direct_io":            m.Direct,
		}
		if mf.lowbit != "" {
			out["approximate"] = true // low-bit expert copies
		}
		if m.ExpertSlots > 0 {
			out["expert_hit_rate"] = m.ExpertHitRate
			out["prefetch_accuracy"] = m.PrefetchAccuracy
			out["expert_slots"] = m.ExpertSlots
		}
		if m.MemBudget > 0 {
			out["mem_budget_bytes"] = m.MemBudget
			out["disk_bw_gbs"] = m.DiskBWGBs
			out["disk_bound_tok_s"] = m.DiskBoundTokS
			out["streamed_bytes_per_token"] = m.StreamedBytes
			out["resident_bytes"] = m.ResidentBytes
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return nil
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

// printStats writes the --stats report.
func printStats(w io.Writer, m benchResult) {
	fmt.Fprintf(w, "prefill %.1f tok/s, decode %.2f tok/s; %s of weights per token; peak RSS %s\n",
		m.PrefillTokS, m.DecodeTokS, engine.MiB(m.BytesPerToken), engine.MiB(m.PeakRSSBytes))
	if m.MemBudget > 0 {
		fmt.Fprintf(w, "budget %s: %s resident, %s streamed per token; read %s per token at %.2f GB/s (disk %.2f GB/s, bound %.2f tok/s); waiting on I/O %.0f%% of decode\n",
			engine.MiB(m.MemBudget), engine.MiB(m.ResidentBytes), engine.MiB(m.StreamedBytes),
			engine.MiB(m.BytesReadPerToken), m.ReadGBs, m.DiskBWGBs, m.DiskBoundTokS, 100*m.IOWaitFrac)
	}
	if m.ExpertSlots > 0 {
		fmt.Fprintf(w, "experts: %d cached; hit rate %.1f%%, prefetch accuracy %.1f%%, %s of experts read per token\n",
			m.ExpertSlots, 100*m.ExpertHitRate, 100*m.PrefetchAccuracy, engine.MiB(m.ExpertBytesPerToken))
	}
}

// startTrace records routing to path; the returned function flushes and
// closes it. Call it once, when generation is done.
func startTrace(e *engine.Engine, path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	flush, err := e.TraceRouting(f)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return func() error {
		err := flush()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}, nil
}
