package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"ferry/engine"
	"ferry/sample"
)

// batchInput is one line of the prompts file.
type batchInput struct {
	Prompt      string   `json:"prompt"`
	PromptIDs   []int32  `json:"prompt_ids"`
	MaxTokens   *int     `json:"max_tokens"`
	Temperature *float64 `json:"temperature"`
	Seed        *uint64  `json:"seed"`
}

// batchOutput is one line of the output file.
type batchOutput struct {
	Index        int     `json:"index"`
	PromptTokens []int32 `json:"prompt_tokens"`
	Tokens       []int32 `json:"tokens"`
	Text         string  `json:"text"`
	FinishReason string  `json:"finish_reason"`
}

func cmdBatch(args []string, stdout io.Writer) error {
	fs := newFlags("batch")
	var mf modelFlags
	mf.register(fs, false)
	in := fs.String("i", "", "prompts `file`: JSON lines with \"prompt\" (text) or \"prompt_ids\", optional \"max_tokens\", \"temperature\", \"seed\"")
	out := fs.String("o", "", "output `file` for JSON lines (default: standard output)")
	b := fs.Int("batch", 8, "sequences generated together, sharing one pass of the weights per step")
	n := fs.Int("n", 64, "default maximum tokens per prompt")
	temp := fs.Float64("temp", 0, "default sampling temperature (0: greedy)")
	ignoreEOS := fs.Bool("ignore-eos", false, "generate the full -n tokens even past end-of-generation (benchmarks)")
	traceFile := fs.String("trace-routing", "", "record every MoE routing decision to this `file` (see ferry trace analyze)")
	asJSON := fs.Bool("json", false, "print the throughput summary as JSON on standard error")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *in == "" {
		return usageError{fmt.Errorf("-i prompts.jsonl is required")}
	}
	if *b < 1 {
		return usageError{fmt.Errorf("--batch must be at least 1")}
	}
	inputs, err := readBatchInputs(*in)
	if err != nil {
		return err
	}
	opts, err := mf.options()
	if err != nil {
		return err
	}
	opts.Parallel = *b
	e, err := engine.Load(mf.model, opts)
	if err != nil {
		return err
	}
	defer e.Close()
	finishTrace := func() error { return nil }
	if *traceFile != "" {
		if finishTrace, err = startTrace(e, *traceFile); err != nil {
			return err
		}
	}
	w := stdout
	var outFile *os.File
	var bw *bufio.Writer
	if *out != "" {
		if outFile, err = os.Create(*out); err != nil {
			return err
		}
		defer outFile.Close()
		bw = bufio.NewWriter(outFile)
		w = bw
	}
	enc := json.NewEncoder(w)
	var total engine.BatchStats
	start := time.Now()
	for first := 0; first < len(inputs); first += *b {
		group := inputs[first:min(first+*b, len(inputs))]
		reqs := make([]engine.Request, len(group))
		for i, in := range group {
			prompt := in.PromptIDs
			if len(prompt) == 0 {
				prompt = e.Tok.Encode(in.Prompt, true, true)
			}
			max := *n
			if in.MaxTokens != nil {
				max = *in.MaxTokens
			}
			if max < 0 {
				return fmt.Errorf("prompt %d: max_tokens must not be negative", first+i)
			}
			t := *temp
			if in.Temperature != nil {
				t = *in.Temperature
			}
			seed := uint64(first + i + 1)
			if in.Seed != nil {
				seed = *in.Seed
			}
			reqs[i] = engine.Request{Prompt: prompt, MaxTokens: max, IgnoreEOS: *ignoreEOS,
				Sampling: sample.Params{Temperature: float32(t), TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1, Seed: seed}}
		}
		res, st, err := e.GenerateBatch(context.Background(), reqs)
		if err != nil {
			return fmt.Errorf("prompts %d..%d: %w", first, first+len(group)-1, err)
		}
		total.Sequences += st.Sequences
		total.Generated += st.Generated
		total.Steps += st.Steps
		total.PromptTokens += st.PromptTokens
		total.PrefillTime += st.PrefillTime
		total.DecodeTime += st.DecodeTime
		for i, r := range res {
			if err := enc.Encode(batchOutput{Index: first + i, PromptTokens: nonNil(reqs[i].Prompt), Tokens: nonNil(r.Tokens), Text: r.Text, FinishReason: r.FinishReason}); err != nil {
				return err
			}
		}
	}
	if err := finishTrace(); err != nil {
		return err
	}
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("writing %s: %w", *out, err)
		}
		if err := outFile.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", *out, err)
		}
	}
	wall := time.Since(start)
	summary := map[string]any{
		"sequences": total.Sequences, "batch": *b, "generated_tokens": total.Generated,
		"decode_steps": total.Steps, "decode_tok_s": total.DecodeTokS(),
		"prefill_tok_s": float64(total.PromptTokens) / total.PrefillTime.Seconds(),
		"wall_s":        wall.Seconds(), "bytes_read": e.Store().Stats().BytesRead,
	}
	if *asJSON {
		bs, _ := json.Marshal(summary)
		fmt.Fprintf(os.Stderr, "%s\n", bs)
	} else {
		fmt.Fprintf(os.Stderr, "batch %d: %d sequences, %d tokens in %d steps, decode %.2f tok/s, %.1fs wall\n",
			*b, total.Sequences, total.Generated, total.Steps, total.DecodeTokS(), wall.Seconds())
	}
	return nil
}

func readBatchInputs(path string) ([]batchInput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []batchInput
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var in batchInput
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if in.Prompt == "" && len(in.PromptIDs) == 0 {
			return nil, fmt.Errorf("%s:%d: no \"prompt\" or \"prompt_ids\"", path, line)
		}
		out = append(out, in)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no prompts", path)
	}
	return out, nil
}
