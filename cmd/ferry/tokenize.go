package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

func cmdTokenize(args []string, stdout io.Writer) error {
	fs := newFlags("tokenize")
	var mf modelFlags
	mf.register(fs, false)
	noBOS := fs.Bool("no-bos", false, "do not add BOS (or EOS) even if the model asks for it")
	special := fs.Bool("parse-special", false, "match special-token text such as <s> as special tokens")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{fmt.Errorf("no text: ferry tokenize [-m MODEL] [--] TEXT")}
	}
	e, err := mf.load()
	if err != nil {
		return err
	}
	defer e.Close()
	ids := e.Tok.Encode(strings.Join(fs.Args(), " "), !*noBOS, *special)
	b, err := json.Marshal(nonNil(ids))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}
