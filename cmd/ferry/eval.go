package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

func cmdEval(args []string, stdout io.Writer) error {
	fs := newFlags("eval")
	var mf modelFlags
	mf.register(fs, true)
	out := fs.String("logits", "", "write little-endian float32 logits [n_tokens][n_vocab] to this `file`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{fmt.Errorf("--logits OUT.f32 is required")}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	e, err := mf.load()
	if err != nil {
		return err
	}
	defer e.Close()
	prompt, err := mf.promptTokens(e, true)
	if err != nil {
		return err
	}
	logits, err := e.Eval(prompt)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var b [4]byte
	for _, v := range logits {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d x %d logits to %s\n", len(prompt), e.Model.Vocab, *out)
	return nil
}
