package gguf

import (
	"bufio"
	"fmt"
	"io"
)

// Writer writes a GGUF version 3 file: NewWriter writes the header, then
// WriteTensor is called once for each tensor, in the order given, with its data.
type Writer struct {
	w      *bufio.Writer
	layout *Layout
	next   int
	pos    int64
	err    error
}

// NewWriter writes the header for kv and tensors to w. Only Name, Shape and
// Type of each tensor are used; sizes and offsets are computed (NewLayout).
// The alignment is general.alignment when kv sets it, else DefaultAlignment.
func NewWriter(w io.Writer, kv []KV, tensors []TensorInfo) (*Writer, error) {
	l, err := NewLayout(kv, tensors)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	gw := &Writer{w: bufio.NewWriterSize(w, 1<<20), layout: l}
	gw.raw(l.Header)
	return gw, gw.err
}

// Tensors returns the tensor table as it is written, offsets relative to the
// data section.
func (w *Writer) Tensors() []TensorInfo {
	out := append([]TensorInfo(nil), w.layout.Tensors...)
	for i := range out {
		out[i].Offset -= int64(len(w.layout.Header))
	}
	return out
}

// WriteTensor writes the data of the next tensor. len(data) must equal its size.
func (w *Writer) WriteTensor(data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.next >= len(w.layout.Tensors) {
		return fmt.Errorf("gguf: more tensors written than declared")
	}
	t := w.layout.Tensors[w.next]
	if int64(len(data)) != t.Size {
		return fmt.Errorf("gguf: tensor %q: got %d bytes, want %d", t.Name, len(data), t.Size)
	}
	w.next++
	w.raw(data)
	w.pad()
	return w.err
}

// Close flushes the file; it fails if some declared tensor was not written.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.next != len(w.layout.Tensors) {
		return fmt.Errorf("gguf: %d of %d tensors written", w.next, len(w.layout.Tensors))
	}
	return w.w.Flush()
}

func (w *Writer) raw(b []byte) {
	if w.err != nil {
		return
	}
	_, w.err = w.w.Write(b)
	w.pos += int64(len(b))
}

func (w *Writer) pad() {
	var zero [64]byte
	for n := alignUp(w.pos, w.layout.Alignment) - w.pos; n > 0; {
		k := min(n, int64(len(zero)))
		w.raw(zero[:k])
		n -= k
	}
}

// Scalar helpers build metadata values.

// String makes a string metadata value.
func String(s string) Value { return Value{TypeString, s} }

// Uint32 makes a u32 metadata value.
func Uint32(v uint32) Value { return Value{TypeUint32, v} }

// Float32 makes an f32 metadata value.
func Float32(v float32) Value { return Value{TypeFloat32, v} }

// Bool makes a bool metadata value.
func Bool(v bool) Value { return Value{TypeBool, v} }

// ArrayOf makes an array metadata value of element type elem holding values,
// a typed slice matching elem.
func ArrayOf(elem ValueType, values any) Value {
	return Value{TypeArray, Array{Elem: elem, Values: values}}
}
