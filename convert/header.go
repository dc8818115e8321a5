package convert

import (
	"encoding/binary"
	"fmt"
	"math"

	"ferry/dtype"
	"ferry/gguf"
)

// Layout is where everything lies in a GGUF file about to be written.
type Layout struct {
	// Header is the encoded header, padded to the start of the data section.
	Header []byte
	// Tensors lists the tensors with Offset (from the start of the file)
	// and Size filled in.
	Tensors []gguf.TensorInfo
	// Alignment is the data alignment (general.alignment or the default).
	Alignment int64
	// FileSize is the size of the whole file.
	FileSize int64
}

// NewLayout encodes the header of a GGUF version 3 file holding kv and
// tensors (Name, Shape and Type are used) and places the tensors as
// gguf.Writer does: each at an aligned offset, in order, the file padded to
// the alignment after each. Unlike gguf.Writer it lets the caller stream a
// tensor's bytes in pieces, so no tensor need be held whole in memory.
func NewLayout(kv []gguf.KV, tensors []gguf.TensorInfo) (*Layout, error) {
	l := &Layout{Alignment: gguf.DefaultAlignment}
	for _, e := range kv {
		if e.Key == "general.alignment" {
			a, ok := intValue(e.Value.V)
			if !ok || a <= 0 || a&(a-1) != 0 || a > 1<<20 {
				return nil, fmt.Errorf("general.alignment %v is not a power of two", e.Value.V)
			}
			l.Alignment = a
		}
	}
	e := &encoder{}
	e.raw([]byte(gguf.Magic))
	e.u32(3)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kv)))
	for _, kv := range kv {
		e.str(kv.Key)
		e.u32(uint32(kv.Value.Type))
		if err := e.value(kv.Value.Type, kv.Value.V); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", kv.Key, err)
		}
	}
	var off int64
	for _, t := range tensors {
		if len(t.Shape) == 0 || len(t.Shape) > gguf.MaxDims {
			return nil, fmt.Errorf("tensor %q has %d dimensions", t.Name, len(t.Shape))
		}
		n := uint64(1)
		for _, d := range t.Shape {
			if d == 0 || n > math.MaxInt64/d {
				return nil, fmt.Errorf("tensor %q: bad shape %v", t.Name, t.Shape)
			}
			n *= d
		}
		if !t.Type.Known() {
			return nil, fmt.Errorf("tensor %q: unknown type %v", t.Name, t.Type)
		}
		if t.Shape[0]%uint64(t.Type.BlockSize()) != 0 {
			return nil, fmt.Errorf("tensor %q: a row of %d values is not a whole number of %s blocks", t.Name, t.Shape[0], t.Type)
		}
		size, err := t.Type.RowBytes(int(n))
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		e.str(t.Name)
		e.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			e.u64(d)
		}
		e.u32(uint32(t.Type))
		e.u64(uint64(off))
		l.Tensors = append(l.Tensors, gguf.TensorInfo{Name: t.Name, Shape: append([]uint64(nil), t.Shape...), Type: t.Type, Offset: off, Size: int64(size)})
		off = alignUp(off+int64(size), l.Alignment)
	}
	start := alignUp(int64(len(e.b)), l.Alignment)
	l.Header = append(e.b, make([]byte, start-int64(len(e.b)))...)
	for i := range l.Tensors {
		l.Tensors[i].Offset += start
	}
	l.FileSize = start + off
	return l, nil
}

func alignUp(n, a int64) int64 { return (n + a - 1) / a * a }

func intValue(v any) (int64, bool) {
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// encoder appends GGUF encodings to b.
type encoder struct{ b []byte }

func (e *encoder) raw(p []byte) { e.b = append(e.b, p...) }
func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.b = append(e.b, s...) }

// value encodes v, whose Go type must match t as gguf.Value documents.
func (e *encoder) value(t gguf.ValueType, v any) error {
	bad := func() error { return fmt.Errorf("value of Go type %T does not match metadata type %v", v, t) }
	switch t {
	case gguf.TypeUint8:
		x, ok := v.(uint8)
		if !ok {
			return bad()
		}
		e.b = append(e.b, x)
	case gguf.TypeInt8:
		x, ok := v.(int8)
		if !ok {
			return bad()
		}
		e.b = append(e.b, byte(x))
	case gguf.TypeBool:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		if x {
			e.b = append(e.b, 1)
		} else {
			e.b = append(e.b, 0)
		}
	case gguf.TypeUint16:
		x, ok := v.(uint16)
		if !ok {
			return bad()
		}
		e.b = binary.LittleEndian.AppendUint16(e.b, x)
	case gguf.TypeInt16:
		x, ok := v.(int16)
		if !ok {
			return bad()
		}
		e.b = binary.LittleEndian.AppendUint16(e.b, uint16(x))
	case gguf.TypeUint32:
		x, ok := v.(uint32)
		if !ok {
			return bad()
		}
		e.u32(x)
	case gguf.TypeInt32:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		e.u32(uint32(x))
	case gguf.TypeFloat32:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		e.u32(math.Float32bits(x))
	case gguf.TypeUint64:
		x, ok := v.(uint64)
		if !ok {
			return bad()
		}
		e.u64(x)
	case gguf.TypeInt64:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		e.u64(uint64(x))
	case gguf.TypeFloat64:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		e.u64(math.Float64bits(x))
	case gguf.TypeString:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		e.str(x)
	case gguf.TypeArray:
		a, ok := v.(gguf.Array)
		if !ok {
			return bad()
		}
		return e.array(a)
	default:
		return fmt.Errorf("unknown metadata type %v", t)
	}
	return nil
}

func (e *encoder) array(a gguf.Array) error {
	e.u32(uint32(a.Elem))
	e.u64(uint64(a.Len()))
	bad := func() error {
		return fmt.Errorf("array of Go type %T does not match element type %v", a.Values, a.Elem)
	}
	switch v := a.Values.(type) {
	case []uint8:
		if a.Elem != gguf.TypeUint8 {
			return bad()
		}
		e.b = append(e.b, v...)
	case []int8:
		if a.Elem != gguf.TypeInt8 {
			return bad()
		}
		for _, x := range v {
			e.b = append(e.b, byte(x))
		}
	case []bool:
		if a.Elem != gguf.TypeBool {
			return bad()
		}
		for _, x := range v {
			if x {
				e.b = append(e.b, 1)
			} else {
				e.b = append(e.b, 0)
			}
		}
	case []uint16:
		if a.Elem != gguf.TypeUint16 {
			return bad()
		}
		for _, x := range v {
			e.b = binary.LittleEndian.AppendUint16(e.b, x)
		}
	case []int16:
		if a.Elem != gguf.TypeInt16 {
			return bad()
		}
		for _, x := range v {
			e.b = binary.LittleEndian.AppendUint16(e.b, uint16(x))
		}
	case []uint32:
		if a.Elem != gguf.TypeUint32 {
			return bad()
		}
		for _, x := range v {
			e.u32(x)
		}
	case []int32:
		if a.Elem != gguf.TypeInt32 {
			return bad()
		}
		for _, x := range v {
			e.u32(uint32(x))
		}
	case []float32:
		if a.Elem != gguf.TypeFloat32 {
			return bad()
		}
		for _, x := range v {
			e.u32(math.Float32bits(x))
		}
	case []uint64:
		if a.Elem != gguf.TypeUint64 {
			return bad()
		}
		for _, x := range v {
			e.u64(x)
		}
	case []int64:
		if a.Elem != gguf.TypeInt64 {
			return bad()
		}
		for _, x := range v {
			e.u64(uint64(x))
		}
	case []float64:
		if a.Elem != gguf.TypeFloat64 {
			return bad()
		}
		for _, x := range v {
			e.u64(math.Float64bits(x))
		}
	case []string:
		if a.Elem != gguf.TypeString {
			return bad()
		}
		for _, x := range v {
			e.str(x)
		}
	case []gguf.Array:
		if a.Elem != gguf.TypeArray {
			return bad()
		}
		for _, x := range v {
			if err := e.array(x); err != nil {
				return err
			}
		}
	default:
		return bad()
	}
	return nil
}

// rowsOf returns the row length and row count of a tensor shape.
func rowsOf(shape []uint64) (cols, rows int) {
	rows = 1
	for _, d := range shape[1:] {
		rows *= int(d)
	}
	return int(shape[0]), rows
}

// rowBytes returns the bytes of one row of cols values of type t.
func rowBytes(t dtype.Type, cols int) int {
	n, _ := t.RowBytes(cols)
	return n
}
