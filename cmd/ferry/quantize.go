package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"ferry/convert"
	"ferry/dtype"
)

func cmdQuantize(args []string, stdout io.Writer) error {
	fs := newFlags("quantize")
	pure := fs.Bool("pure", false, "put every quantizable weight in the base type, without llama.cpp's per-tensor rules")
	progress := fs.Bool("progress", false, "draw a progress bar on stderr even when it is not a terminal")
	threads := fs.Int("threads", 0, "encoding threads (default: all cores)")
	lowbit := fs.String("expert-lowbit", "", "instead of converting, write a low-bit `TYPE` copy of a MoE model's experts beside it (IN.lowbit-TYPE.gguf), for --expert-lowbit-threshold")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ferry quantize [flags] IN.gguf OUT.gguf TYPE\n\nConverts a GGUF model's weights to TYPE, as llama-quantize does.\nTYPE: %s\n\n", convert.FileTypeNames())
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *lowbit != "" {
		return lowBit(pos, *lowbit, *threads, *progress, stdout)
	}
	if len(pos) != 3 {
		return usageError{fmt.Errorf("want IN OUT TYPE, got %d arguments", len(pos))}
	}
	in, out := pos[0], pos[1]
	ft, err := convert.ParseFileType(pos[2])
	if err != nil {
		return usageError{err}
	}
	opts := convert.Options{FileType: ft, Types: convert.TypeOptions{Pure: *pure}, Write: convert.WriteOptions{Threads: *threads}}
	if *progress || isTerminal(os.Stderr) {
		opts.Write.Progress = convert.ProgressBar(os.Stderr, "quantize "+ft.Name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	if err := convert.Convert(ctx, in, out, opts); err != nil {
		return err
	}
	size := int64(-1)
	if st, err := os.Stat(out); err == nil {
		size = st.Size()
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %s in %.1fs\n", out, ft.Name, convert.FormatBytes(size), time.Since(start).Seconds())
	return nil
}

// lowBit writes the low-bit expert copy of a MoE model (HOBBIT).
func lowBit(pos []string, typeName string, threads int, progress bool, stdout io.Writer) error {
	if len(pos) < 1 || len(pos) > 2 {
		return usageError{fmt.Errorf("--expert-lowbit wants IN [OUT], got %d arguments", len(pos))}
	}
	t, err := dtype.Parse(typeName)
	if err != nil {
		return usageError{err}
	}
	out := convert.LowBitPath(pos[0], t)
	if len(pos) == 2 {
		out = pos[1]
	}
	w := convert.WriteOptions{Threads: threads}
	if progress || isTerminal(os.Stderr) {
		w.Progress = convert.ProgressBar(os.Stderr, "experts to "+t.String())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := convert.LowBitExperts(ctx, pos[0], out, t, w); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: the experts of %s as %s\n", out, pos[0], t)
	return nil
}
