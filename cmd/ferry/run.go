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
	asJSON := fs.Bool("json", false, "end with one line of JSON: prompt_tokens, tokens, text, speeds")
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
	defer e.Close()
	if mf.prompt == "" && mf.promptIDs == "" {
		mf.prompt = "Once upon a time"
	}
	prompt, err := mf.promptTokens(e, false)
	if err != nil {
		return err
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
	fmt.Fprintln(stdout)
	if *asJSON {
		out := map[string]any{
			"prompt_tokens": nonNil(prompt),
			"tokens":        nonNil(res.Tokens),
			"text":          res.Text,
			"finish_reason": res.FinishReason,
			"prefill_tok_s": res.PrefillTokS(),
			"decode_tok_s":  res.DecodeTokS(),
			"seed":          s,
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
