// Package trace records, replays and analyses MoE routing traces: which
// experts every token used at every MoE layer.
//
// # Format
//
// A trace is JSON lines. The first line is the header:
//
//	{"format":"ferry-moe-trace","version":1,"model":"mixtral-8x7b","layers":32,"experts":8,"top_k":2,"synthetic":false}
//
// and every further line is one token, in the order the model processed
// them:
//
//	{"req":0,"tok":12,"layers":[{"e":[3,5],"w":[0.61,0.39],"spec":[3,1]}, ...]}
//
// req identifies the request (a prompt and its continuation) and tok the
// token's position in it; a request's tokens are contiguous in the file
// and their tok values increase. layers has one entry per MoE layer: e the
// selected experts (1 to top_k distinct ids in [0, experts)), w their gate
// weights (optional, same length), and spec (optional) the speculative
// guess for the next layer: the experts that layer's router picks when
// applied to this layer's hidden state; the last layer has none. Blank
// lines are ignored; unknown fields are ignored for forward compatibility.
//
// Synthetic traces (Synth) say so in the header, and every Report made from
// one carries Synthetic: true.
package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Format is the header's "format" value, and Version its "version".
const (
	Format  = "ferry-moe-trace"
	Version = 1
)

// Limits on what a trace may declare; Read refuses more.
const (
	MaxLayers  = 4096
	MaxExperts = 65536
	MaxTopK    = 1024
	MaxKeys    = 1 << 20 // layers * experts
	// MaxLine is the longest line Read accepts, in bytes.
	MaxLine = 64 << 20
)

// Header describes the model a trace was recorded from.
type Header struct {
	Format    string `json:"format"`    // Format
	Version   int    `json:"version"`   // Version
	Model     string `json:"model"`     // the model's name, free text
	Layers    int    `json:"layers"`    // MoE layers
	Experts   int    `json:"experts"`   // routed experts per layer
	TopK      int    `json:"top_k"`     // experts selected per token
	Synthetic bool   `json:"synthetic"` // made by Synth, not recorded from a model
	// Generator describes how a synthetic trace was made (Synth's options).
	Generator *SynthOptions `json:"generator,omitempty"`
}

// Route is one token's routing at one MoE layer.
type Route struct {
	Experts []int     `json:"e"`              // selected experts, best first
	Weights []float32 `json:"w,omitempty"`    // their gate weights
	Spec    []int     `json:"spec,omitempty"` // guess for the next layer
}

// Token is one token's routing at every MoE layer.
type Token struct {
	Req    int     `json:"req"`    // request id
	Tok    int     `json:"tok"`    // position in the request
	Layers []Route `json:"layers"` // one per MoE layer
}

// Trace is a header and tokens in processing order.
type Trace struct {
	Header Header  // the model
	Tokens []Token // in processing order
}

// Requests returns the number of requests (runs of tokens with one req).
func (t *Trace) Requests() int {
	n := 0
	for i, tok := range t.Tokens {
		if i == 0 || tok.Req != t.Tokens[i-1].Req {
			n++
		}
	}
	return n
}

// HasSpec reports whether any token carries a speculative guess.
func (t *Trace) HasSpec() bool {
	for _, tok := range t.Tokens {
		for _, r := range tok.Layers {
			if len(r.Spec) > 0 {
				return true
			}
		}
	}
	return false
}

// Check validates a header: format, version and sizes.
func (h *Header) Check() error {
	if h.Format != Format {
		return fmt.Errorf("format is %q, not %q", h.Format, Format)
	}
	if h.Version != Version {
		return fmt.Errorf("version %d is not supported (this reader knows version %d)", h.Version, Version)
	}
	switch {
	case h.Layers < 1 || h.Layers > MaxLayers:
		return fmt.Errorf("layers %d is outside [1, %d]", h.Layers, MaxLayers)
	case h.Experts < 1 || h.Experts > MaxExperts:
		return fmt.Errorf("experts %d is outside [1, %d]", h.Experts, MaxExperts)
	case h.Layers*h.Experts > MaxKeys:
		return fmt.Errorf("layers x experts = %d is more than %d", h.Layers*h.Experts, MaxKeys)
	case h.TopK < 1 || h.TopK > h.Experts || h.TopK > MaxTopK:
		return fmt.Errorf("top_k %d is outside [1, min(experts=%d, %d)]", h.TopK, h.Experts, MaxTopK)
	}
	return nil
}

// checker validates tokens against a header and the tokens before them.
type checker struct {
	h       Header
	n       int // tokens so far
	req     int
	tok     int
	seen    map[int]bool // finished requests
	scratch []int32      // per-expert marks for duplicate checks
	mark    int32
}

func newChecker(h Header) *checker {
	return &checker{h: h, seen: map[int]bool{}, scratch: make([]int32, h.Experts)}
}

// distinct checks that ids are in range and distinct.
func (c *checker) distinct(what string, ids []int) error {
	c.mark++
	if c.mark == math.MaxInt32 {
		clear(c.scratch)
		c.mark = 1
	}
	for _, e := range ids {
		if e < 0 || e >= c.h.Experts {
			return fmt.Errorf("%s expert %d is outside [0, %d)", what, e, c.h.Experts)
		}
		if c.scratch[e] == c.mark {
			return fmt.Errorf("%s expert %d appears twice", what, e)
		}
		c.scratch[e] = c.mark
	}
	return nil
}

func (c *checker) check(t *Token) error {
	if t.Req < 0 || t.Tok < 0 {
		return fmt.Errorf("req %d, tok %d: neither may be negative", t.Req, t.Tok)
	}
	if c.n > 0 && t.Req == c.req {
		if t.Tok <= c.tok {
			return fmt.Errorf("request %d: tok %d does not follow tok %d", t.Req, t.Tok, c.tok)
		}
	} else {
		if c.n > 0 {
			c.seen[c.req] = true
		}
		if c.seen[t.Req] {
			return fmt.Errorf("request %d resumes after other requests: a request's tokens must be contiguous", t.Req)
		}
	}
	if len(t.Layers) != c.h.Layers {
		return fmt.Errorf("%d layers, the header says %d", len(t.Layers), c.h.Layers)
	}
	for l, r := range t.Layers {
		if len(r.Experts) < 1 || len(r.Experts) > c.h.TopK {
			return fmt.Errorf("layer %d: %d experts selected, not 1 to top_k=%d", l, len(r.Experts), c.h.TopK)
		}
		if err := c.distinct(fmt.Sprintf("layer %d:", l), r.Experts); err != nil {
			return err
		}
		if len(r.Weights) > 0 && len(r.Weights) != len(r.Experts) {
			return fmt.Errorf("layer %d: %d weights for %d experts", l, len(r.Weights), len(r.Experts))
		}
		for _, w := range r.Weights {
			if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
				return fmt.Errorf("layer %d: weight %v is not finite", l, w)
			}
		}
		if len(r.Spec) > 0 {
			if l == c.h.Layers-1 {
				return fmt.Errorf("layer %d is the last but has a spec (a guess for the next layer)", l)
			}
			if len(r.Spec) > c.h.Experts {
				return fmt.Errorf("layer %d: spec has %d experts, more than the %d there are", l, len(r.Spec), c.h.Experts)
			}
			if err := c.distinct(fmt.Sprintf("layer %d: spec", l), r.Spec); err != nil {
				return err
			}
		}
	}
	c.n++
	c.req, c.tok = t.Req, t.Tok
	return nil
}

// Read reads and validates a trace. Errors name the line and what is wrong
// with it: malformed JSON, a header with an unknown format or sizes past the
// limits, expert ids out of range or repeated, a layer count that differs
// from the header's, requests that interleave.
func Read(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	line := 0
	var tr *Trace
	var ck *checker
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if tr == nil {
			var h Header
			if err := json.Unmarshal(b, &h); err != nil {
				return nil, fmt.Errorf("trace: line %d: header: %v", line, jsonErr(err))
			}
			if err := h.Check(); err != nil {
				return nil, fmt.Errorf("trace: line %d: header: %v", line, err)
			}
			tr, ck = &Trace{Header: h}, newChecker(h)
			continue
		}
		if b[0] != '{' {
			return nil, fmt.Errorf("trace: line %d: not a JSON object", line)
		}
		var t Token
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("trace: line %d: %v", line, jsonErr(err))
		}
		if err := ck.check(&t); err != nil {
			return nil, fmt.Errorf("trace: line %d: %v", line, err)
		}
		tr.Tokens = append(tr.Tokens, t)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("trace: line %d is longer than %d bytes", line+1, MaxLine)
		}
		return nil, fmt.Errorf("trace: %v", err)
	}
	if tr == nil {
		return nil, errors.New("trace: empty: no header line")
	}
	return tr, nil
}

// jsonErr shortens encoding/json's errors.
func jsonErr(err error) error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		if ute.Field != "" {
			return fmt.Errorf("field %q: %s is not a valid %s", ute.Field, ute.Value, ute.Type)
		}
		return fmt.Errorf("%s is not a valid %s", ute.Value, ute.Type)
	}
	return err
}

// Writer writes a trace, checking every token as Read would.
type Writer struct {
	bw  *bufio.Writer
	ck  *checker
	buf []byte
}

// NewWriter checks h, fills in its Format and Version if empty, and writes
// it as the first line.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.Format == "" {
		h.Format = Format
	}
	if h.Version == 0 {
		h.Version = Version
	}
	if err := h.Check(); err != nil {
		return nil, fmt.Errorf("trace: header: %v", err)
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	tw := &Writer{bw: bufio.NewWriterSize(w, 256<<10), ck: newChecker(h)}
	tw.bw.Write(b)
	if err := tw.bw.WriteByte('\n'); err != nil {
		return nil, err
	}
	return tw, nil
}

// Write appends one token.
func (w *Writer) Write(t Token) error {
	if err := w.ck.check(&t); err != nil {
		return fmt.Errorf("trace: token %d: %v", w.ck.n, err)
	}
	w.buf = appendToken(w.buf[:0], &t)
	_, err := w.bw.Write(w.buf)
	return err
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }

// WriteTo writes t (header and tokens) to w.
func (t *Trace) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	tw, err := NewWriter(cw, t.Header)
	if err != nil {
		return cw.n, err
	}
	for _, tok := range t.Tokens {
		if err := tw.Write(tok); err != nil {
			return cw.n, err
		}
	}
	err = tw.Flush()
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// appendToken formats t as one JSON line (what encoding/json would write,
// without its reflection cost).
func appendToken(b []byte, t *Token) []byte {
	b = append(b, `{"req":`...)
	b = appendInt(b, t.Req)
	b = append(b, `,"tok":`...)
	b = appendInt(b, t.Tok)
	b = append(b, `,"layers":[`...)
	for l, r := range t.Layers {
		if l > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"e":`...)
		b = appendInts(b, r.Experts)
		if len(r.Weights) > 0 {
			b = append(b, `,"w":[`...)
			for i, w := range r.Weights {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendFloat(b, float64(w), 'g', -1, 32)
			}
			b = append(b, ']')
		}
		if len(r.Spec) > 0 {
			b = append(b, `,"spec":`...)
			b = appendInts(b, r.Spec)
		}
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

func appendInts(b []byte, v []int) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, x)
	}
	return append(b, ']')
}

func appendInt(b []byte, x int) []byte { return strconv.AppendInt(b, int64(x), 10) }
