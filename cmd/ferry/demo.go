package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"

	"ferry/convert"
	"ferry/engine"
	"ferry/sample"
	"ferry/synth"
)

// cmdDemo shows what ferry is for: it synthesizes a model four times a
// memory budget, runs it under that budget, and prints the measured speed
// beside the disk bound.
func cmdDemo(args []string, stdout io.Writer) error {
	fs := newFlags("demo")
	memFlag := fs.String("mem", "256MiB", "the memory budget; the model is four times it")
	shapeName := fs.String("shape", "tinyllama-1.1b", "model shape to synthesize (see ferry synth --list)")
	typeName := fs.String("type", "Q8_0", "weight type")
	n := fs.Int("n", 16, "tokens to decode")
	dir := fs.String("dir", "", "directory for the synthesized model (default: a temporary one, removed after)")
	keep := fs.Bool("keep", false, "keep the synthesized model")
	threads := fs.Int("threads", 0, "threads for the kernels (default: all cores)")
	if err := parse(fs, args); err != nil {
		return err
	}
	setThreads(*threads)
	mem, err := ParseSize(*memFlag)
	if err != nil {
		return usageError{fmt.Errorf("--mem: %v", err)}
	}
	shape, err := synth.Lookup(*shapeName)
	if err != nil {
		return usageError{err}
	}
	ft, err := convert.ParseFileType(*typeName)
	if err != nil {
		return usageError{err}
	}
	// Scale the layer count so the model is about four times the budget.
	opts := synth.Options{Shape: shape, FileType: ft, Seed: 1}
	one, err := synth.Size(opts)
	if err != nil {
		return err
	}
	perLayer := max((one-embedAndHead(shape, opts))/int64(shape.Layers), 1)
	want := 4 * mem
	layers := int((want - embedAndHead(shape, opts)) / perLayer)
	opts.Shape.Layers = max(layers, 2)
	opts.Shape.Name = fmt.Sprintf("%s-x%d", shape.Name, opts.Shape.Layers)
	size, err := synth.Size(opts)
	if err != nil {
		return err
	}
	d := *dir
	if d == "" {
		if d, err = os.MkdirTemp("", "ferry-demo-"); err != nil {
			return err
		}
		if !*keep {
			defer os.RemoveAll(d)
		}
	}
	path := filepath.Join(d, opts.Shape.Name+"-"+ft.Name+".gguf")
	fmt.Fprintf(stdout, "ferry demo: a %s model (%s shape, %d layers) in a budget of %s\n",
		convert.FormatBytes(size), shape.Name, opts.Shape.Layers, convert.FormatBytes(mem))
	if st, err := os.Stat(path); err != nil || st.Size() != size {
		if isTerminal(os.Stderr) {
			opts.Write.Progress = convert.ProgressBar(os.Stderr, "synthesizing "+filepath.Base(path))
		}
		if err := synth.Write(context.Background(), path, opts); err != nil {
			return err
		}
	}
	e, err := engine.Load(path, engine.Options{Mem: mem})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := []int32{e.Tok.BOS()}
	for len(prompt) < 16 {
		prompt = append(prompt, int32(3+rng.IntN(e.Model.Vocab-3)))
	}
	fmt.Fprintf(stdout, "running %d tokens with %s resident and %s streamed from disk per token...\n",
		*n, convert.FormatBytes(e.Placement.ResidentBytes), convert.FormatBytes(e.Placement.StreamedBytes))
	res, err := e.Generate(context.Background(), engine.Request{
		Prompt: prompt, MaxTokens: *n, IgnoreEOS: true,
		Sampling: sample.Params{Temperature: 1, TopP: 1, Seed: 1},
	})
	if err != nil {
		e.Close()
		return err
	}
	m := measure(e, res, path, false, nil)
	fmt.Fprintf(stdout, "decode:      %.2f tok/s\n", m.DecodeTokS)
	fmt.Fprintf(stdout, "disk bound:  %.2f tok/s (disk %.2f GB/s / %s per token)\n", m.DiskBoundTokS, m.DiskBWGBs, convert.FormatBytes(m.StreamedBytes))
	if m.DiskBoundTokS > 0 {
		fmt.Fprintf(stdout, "ferry runs at %.0f%% of what the disk allows; waiting on I/O %.0f%% of the time\n", 100*m.DecodeTokS/m.DiskBoundTokS, 100*m.IOWaitFrac)
	}
	fmt.Fprintf(stdout, "peak RSS:    %s for a %s budget (%d threads)\n", convert.FormatBytes(m.PeakRSSBytes), convert.FormatBytes(mem), runtime.GOMAXPROCS(0))
	if *keep || *dir != "" {
		fmt.Fprintf(stdout, "model kept at %s\n", path)
	}
	return nil
}

// embedAndHead estimates the bytes outside the layers: embeddings and head.
func embedAndHead(s synth.Shape, opts synth.Options) int64 {
	o := opts
	o.Shape.Layers = 1
	one, err := synth.Size(o)
	if err != nil {
		return 0
	}
	o.Shape.Layers = 2
	two, err := synth.Size(o)
	if err != nil {
		return 0
	}
	return one - (two - one)
}
