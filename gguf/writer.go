package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Writer writes a GGUF version 3 file: NewWriter writes the header, then
// WriteTensor is called once for each tensor, in the order given, with its data.
type Writer struct {
	w       *bufio.Writer
	tensors []TensorInfo
	next    int
	pos     int64
	align   int64
	err     error
}

// NewWriter writes the header for kv and tensors to w. Only Name, Shape and
// Type of each tensor are used; sizes and offsets are computed. The alignment
// is general.alignment when kv sets it, else DefaultAlignment.
func NewWriter(w io.Writer, kv []KV, tensors []TensorInfo) (*Writer, error) {
	gw := &Writer{w: bufio.NewWriterSize(w, 1<<20), align: DefaultAlignment}
	for _, e := range kv {
		if e.Key == "general.alignment" {
			a, ok := asInt(e.Value.V)
			if !ok || a <= 0 || a&(a-1) != 0 {
				return nil, fmt.Errorf("gguf: general.alignment %v is not a power of two", e.Value.V)
			}
			gw.align = a
		}
	}
	gw.tensors = make([]TensorInfo, len(tensors))
	var off int64
	for i, t := range tensors {
		if len(t.Shape) == 0 || len(t.Shape) > MaxDims {
			return nil, fmt.Errorf("gguf: tensor %q has %d dimensions", t.Name, len(t.Shape))
		}
		n := uint64(1)
		for _, d := range t.Shape {
			n *= d
		}
		if t.Shape[0]%uint64(t.Type.BlockSize()) != 0 {
			return nil, fmt.Errorf("gguf: tensor %q: row of %d is not a whole number of %s blocks", t.Name, t.Shape[0], t.Type)
		}
		size, err := t.Type.RowBytes(int(n))
		if err != nil {
			return nil, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
		}
		gw.tensors[i] = TensorInfo{Name: t.Name, Shape: append([]uint64(nil), t.Shape...), Type: t.Type, Offset: off, Size: int64(size)}
		off = alignUp(off+int64(size), gw.align)
	}
	gw.raw([]byte(Magic))
	gw.u32(3)
	gw.u64(uint64(len(tensors)))
	gw.u64(uint64(len(kv)))
	for _, e := range kv {
		gw.str(e.Key)
		gw.u32(uint32(e.Value.Type))
		gw.value(e.Value.Type, e.Value.V)
	}
	for _, t := range gw.tensors {
		gw.str(t.Name)
		gw.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			gw.u64(d)
		}
		gw.u32(uint32(t.Type))
		gw.u64(uint64(t.Offset))
	}
	gw.pad()
	return gw, gw.err
}

// Tensors returns the tensor table as it is written, offsets relative to the
// data section.
func (w *Writer) Tensors() []TensorInfo { return w.tensors }

// WriteTensor writes the data of the next tensor. len(data) must equal its size.
func (w *Writer) WriteTensor(data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.next >= len(w.tensors) {
		return fmt.Errorf("gguf: more tensors written than declared")
	}
	t := w.tensors[w.next]
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
	if w.next != len(w.tensors) {
		return fmt.Errorf("gguf: %d of %d tensors written", w.next, len(w.tensors))
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
	for n := alignUp(w.pos, w.align) - w.pos; n > 0; {
		k := min(n, int64(len(zero)))
		w.raw(zero[:k])
		n -= k
	}
}

func (w *Writer) u32(v uint32) { w.raw(binary.LittleEndian.AppendUint32(nil, v)) }
func (w *Writer) u64(v uint64) { w.raw(binary.LittleEndian.AppendUint64(nil, v)) }
func (w *Writer) str(s string) { w.u64(uint64(len(s))); w.raw([]byte(s)) }

func (w *Writer) value(t ValueType, v any) {
	if w.err != nil {
		return
	}
	switch x := v.(type) {
	case uint8:
		w.raw([]byte{x})
	case int8:
		w.raw([]byte{byte(x)})
	case bool:
		if x {
			w.raw([]byte{1})
		} else {
			w.raw([]byte{0})
		}
	case uint16:
		w.raw(binary.LittleEndian.AppendUint16(nil, x))
	case int16:
		w.raw(binary.LittleEndian.AppendUint16(nil, uint16(x)))
	case uint32:
		w.u32(x)
	case int32:
		w.u32(uint32(x))
	case float32:
		w.u32(math.Float32bits(x))
	case uint64:
		w.u64(x)
	case int64:
		w.u64(uint64(x))
	case float64:
		w.u64(math.Float64bits(x))
	case string:
		w.str(x)
	case Array:
		w.u32(uint32(x.Elem))
		w.u64(uint64(x.Len()))
		w.arrayValues(x)
	default:
		w.err = fmt.Errorf("gguf: cannot write metadata value of Go type %T", v)
		return
	}
	_ = t
}

func (w *Writer) arrayValues(a Array) {
	switch v := a.Values.(type) {
	case []uint8:
		w.raw(v)
	case []int8:
		for _, x := range v {
			w.value(TypeInt8, x)
		}
	case []bool:
		for _, x := range v {
			w.value(TypeBool, x)
		}
	case []uint16:
		for _, x := range v {
			w.value(TypeUint16, x)
		}
	case []int16:
		for _, x := range v {
			w.value(TypeInt16, x)
		}
	case []uint32:
		for _, x := range v {
			w.u32(x)
		}
	case []int32:
		for _, x := range v {
			w.u32(uint32(x))
		}
	case []float32:
		for _, x := range v {
			w.u32(math.Float32bits(x))
		}
	case []uint64:
		for _, x := range v {
			w.u64(x)
		}
	case []int64:
		for _, x := range v {
			w.u64(uint64(x))
		}
	case []float64:
		for _, x := range v {
			w.u64(math.Float64bits(x))
		}
	case []string:
		for _, x := range v {
			w.str(x)
		}
	case []Array:
		for _, x := range v {
			w.u32(uint32(x.Elem))
			w.u64(uint64(x.Len()))
			w.arrayValues(x)
		}
	default:
		w.err = fmt.Errorf("gguf: cannot write array of Go type %T", a.Values)
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
