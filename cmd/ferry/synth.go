package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	"ferry/convert"
	"ferry/synth"
)

func cmdSynth(args []string, stdout io.Writer) error {
	fs := newFlags("synth")
	shape := fs.String("shape", "", "model `shape` to synthesize (see --list)")
	typ := fs.String("type", "Q4_K_M", "file `type`: "+convert.FileTypeNames())
	out := fs.String("o", "", "output GGUF `file`")
	seed := fs.Uint64("seed", 1, "random `seed`; the same seed gives the same file")
	vocab := fs.Int("vocab", 0, "vocabulary size in `tokens` (default: the shape's)")
	list := fs.Bool("list", false, "list the shapes with their parameter counts and file sizes at --type")
	pure := fs.Bool("pure", false, "put every quantizable weight in the base type, without llama.cpp's per-tensor rules")
	progress := fs.Bool("progress", false, "draw a progress bar on stderr even when it is not a terminal")
	threads := fs.Int("threads", 0, "encoding threads (default: all cores)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ferry synth --shape NAME [--type TYPE] -o FILE [--seed S] [--vocab N]\n       ferry synth --list [--type TYPE]\n\nWrites a GGUF model with random weights at a real model's shape.\n\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	ft, err := convert.ParseFileType(*typ)
	if err != nil {
		return usageError{err}
	}
	if *vocab != 0 && *vocab < synth.MinVocab {
		return usageError{fmt.Errorf("--vocab %d: a vocabulary needs at least %d tokens", *vocab, synth.MinVocab)}
	}
	if *list {
		return listShapes(stdout, ft, *pure, *vocab)
	}
	if *shape == "" {
		return usageError{fmt.Errorf("no --shape given (see ferry synth --list)")}
	}
	if *out == "" {
		return usageError{fmt.Errorf("no output file: give -o FILE")}
	}
	s, err := synth.Lookup(*shape)
	if err != nil {
		return usageError{err}
	}
	opts := synth.Options{
		Shape: s, FileType: ft, Types: convert.TypeOptions{Pure: *pure}, Seed: *seed, Vocab: *vocab,
		Write: convert.WriteOptions{Threads: *threads},
	}
	if *progress || isTerminal(os.Stderr) {
		opts.Write.Progress = convert.ProgressBar(os.Stderr, "synth "+s.Name+" "+ft.Name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	if err := synth.Write(ctx, *out, opts); err != nil {
		return err
	}
	elapsed := time.Since(start)
	size, err := synth.Size(opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s %s, %d parameters, %s in %.1fs\n", *out, s.Name, ft.Name,
		s.Params(*vocab), convert.FormatBytes(size), elapsed.Seconds())
	return nil
}

func listShapes(w io.Writer, ft convert.FileType, pure bool, vocab int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SHAPE\tARCH\tPARAMS\tSIZE (%s)\tDESCRIPTION\n", ft.Name)
	for _, s := range synth.Shapes() {
		size, err := synth.Size(synth.Options{Shape: s, FileType: ft, Types: convert.TypeOptions{Pure: pure}, Vocab: vocab})
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Arch, fmtParams(s.Params(vocab)), convert.FormatBytes(size), s.Description)
	}
	return tw.Flush()
}

// fmtParams formats a parameter count such as 1.10B or 262.3M.
func fmtParams(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%d", n)
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && st.Mode()&os.ModeDevice != 0
}

// parseInterleaved parses flags that may come before, between or after
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil // everything after -- is positional
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
