package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Layout is where everything lies in a GGUF file about to be written.
type Layout struct {
	// Header is the encoded header, padded to the start of the data section.
	Header []byte
	// Tensors lists the tensors with Offset (from the start of the file)
	// and Size filled in.
	Tensors []TensorInfo
	// Alignment is the data alignment (general.alignment or the default).
	Alignment int64
	// FileSize is the size of the whole file.
	FileSize int64
}

// NewLayout encodes the header of a GGUF version 3 file holding kv and
// tensors (Name, Shape and Type are used) and places the tensors as
// Writer does: each at an aligned offset, in order, the file padded to
// the alignment after each. Unlike Writer it lets the caller stream a
// tensor's bytes in pieces, so no tensor need be held whole in memory.
func NewLayout(kv []KV, tensors []TensorInfo) (*Layout, error) {
	l := &Layout{Alignment: DefaultAlignment}
	for _, e := range kv {
		if e.Key == "general.alignment" {
			a, ok := asInt(e.Value.V)
			if !ok || a <= 0 || a&(a-1) != 0 || a > 1<<20 {
				return nil, fmt.Errorf("general.alignment %v is not a power of two", e.Value.V)
			}
			l.Alignment = a
		}
	}
	e := &encoder{}
	e.raw([]byte(Magic))
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
		if len(t.Shape) == 0 || len(t.Shape) > MaxDims {
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
		l.Tensors = append(l.Tensors, TensorInfo{Name: t.Name, Shape: append([]uint64(nil), t.Shape...), Type: t.Type, Offset: off, Size: int64(size)})
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

// encoder appends GGUF encodings to b.
type encoder struct{ b []byte }

func (e *encoder) raw(p []byte) { e.b = append(e.b, p...) }
func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.b = append(e.b, s...) }

// value encodes v, whose Go type must match t as Value documents.
func (e *encoder) value(t ValueType, v any) error {
	bad := func() error { return fmt.Errorf("value of Go type %T does not match metadata type %v", v, t) }
	switch t {
	case TypeUint8:
		x, ok := v.(uint8)
		if !ok {
			return bad()
		}
		e.b = append(e.b, x)
	case TypeInt8:
		x, ok := v.(int8)
		if !ok {
			return bad()
		}
		e.b = append(e.b, byte(x))
	case TypeBool:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		if x {
			e.b = append(e.b, 1)
		} else {
			e.b = append(e.b, 0)
		}
	case TypeUint16:
		x, ok := v.(uint16)
		if !ok {
			return bad()
		}
		e.b = binary.LittleEndian.AppendUint16(e.b, x)
	case TypeInt16:
		x, ok := v.(int16)
		if !ok {
			return bad()
		}
		e.b = binary.LittleEndian.AppendUint16(e.b, uint16(x))
	case TypeUint32:
		x, ok := v.(uint32)
		if !ok {
			return bad()
		}
		e.u32(x)
	case TypeInt32:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		e.u32(uint32(x))
	case TypeFloat32:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		e.u32(math.Float32bits(x))
	case TypeUint64:
		x, ok := v.(uint64)
		if !ok {
			return bad()
		}
		e.u64(x)
	case TypeInt64:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		e.u64(uint64(x))
	case TypeFloat64:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		e.u64(math.Float64bits(x))
	case TypeString:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		e.str(x)
	case TypeArray:
		a, ok := v.(Array)
		if !ok {
			return bad()
		}
		return e.array(a)
	default:
		return fmt.Errorf("unknown metadata type %v", t)
	}
	return nil
}

func (e *encoder) array(a Array) error {
	e.u32(uint32(a.Elem))
	e.u64(uint64(a.Len()))
	bad := func() error {
		return fmt.Errorf("array of Go type %T does not match element type %v", a.Values, a.Elem)
	}
	switch v := a.Values.(type) {
	case []uint8:
		if a.Elem != TypeUint8 {
			return bad()
		}
		e.b = append(e.b, v...)
	case []int8:
		if a.Elem != TypeInt8 {
			return bad()
		}
		for _, x := range v {
			e.b = append(e.b, byte(x))
		}
	case []bool:
		if a.Elem != TypeBool {
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
		if a.Elem != TypeUint16 {
			return bad()
		}
		for _, x := range v {
			e.b = binary.LittleEndian.AppendUint16(e.b, x)
		}
	case []int16:
		if a.Elem != TypeInt16 {
			return bad()
		}
		for _, x := range v {
			e.b = binary.LittleEndian.AppendUint16(e.b, uint16(x))
		}
	case []uint32:
		if a.Elem != TypeUint32 {
			return bad()
		}
		for _, x := range v {
			e.u32(x)
		}
	case []int32:
		if a.Elem != TypeInt32 {
			return bad()
		}
		for _, x := range v {
			e.u32(uint32(x))
		}
	case []float32:
		if a.Elem != TypeFloat32 {
			return bad()
		}
		for _, x := range v {
			e.u32(math.Float32bits(x))
		}
	case []uint64:
		if a.Elem != TypeUint64 {
			return bad()
		}
		for _, x := range v {
			e.u64(x)
		}
	case []int64:
		if a.Elem != TypeInt64 {
			return bad()
		}
		for _, x := range v {
			e.u64(uint64(x))
		}
	case []float64:
		if a.Elem != TypeFloat64 {
			return bad()
		}
		for _, x := range v {
			e.u64(math.Float64bits(x))
		}
	case []string:
		if a.Elem != TypeString {
			return bad()
		}
		for _, x := range v {
			e.str(x)
		}
	case []Array:
		if a.Elem != TypeArray {
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
