package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"ferry/dtype"
)

// Limits on what the reader accepts. They are far above anything a real
// model carries and keep a hostile header from making the reader allocate
// without bound.
const (
	maxStringLen   = 64 << 20 // one metadata string or tensor name
	maxArrayDepth  = 8        // nesting of arrays inside arrays
	maxTensorCount = 1 << 20
	maxKVCount     = 1 << 20
)

// ErrFormat is wrapped by every error that describes a malformed file.
var ErrFormat = errors.New("gguf: malformed file")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// Open reads and validates the header of the GGUF file at path.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("gguf: %s is not a regular file", path)
	}
	f, err := Parse(fh, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse reads and validates a GGUF header from r, a file of size bytes.
func Parse(r io.ReaderAt, size int64) (*File, error) {
	d := &decoder{r: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16), size: size}
	return d.file()
}

type decoder struct {
	r    *bufio.Reader
	pos  int64
	size int64
}

func (d *decoder) remaining() int64 { return d.size - d.pos }

func (d *decoder) read(n int) ([]byte, error) {
	if int64(n) > d.remaining() {
		return nil, formatErr("truncated at byte %d: need %d more bytes, file has %d", d.pos, n, d.remaining())
	}
	buf, err := d.r.Peek(n)
	if err != nil {
		return nil, formatErr("truncated at byte %d: %v", d.pos, err)
	}
	d.r.Discard(n)
	d.pos += int64(n)
	return buf, nil
}

func (d *decoder) u8() (uint8, error) {
	b, err := d.read(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *decoder) u16() (uint16, error) {
	b, err := d.read(2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (d *decoder) u32() (uint32, error) {
	b, err := d.read(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64() (uint64, error) {
	b, err := d.read(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (d *decoder) str() (string, error) {
	n, err := d.u64()
	if err != nil {
		return "", err
	}
	if n > maxStringLen || int64(n) > d.remaining() {
		return "", formatErr("string of %d bytes at byte %d exceeds the file (%d bytes): truncated or corrupt", n, d.pos-8, d.size)
	}
	if int(n) > d.r.Size() {
		buf := make([]byte, n)
		if _, err := io.ReadFull(d.r, buf); err != nil {
			return "", formatErr("truncated string at byte %d", d.pos)
		}
		d.pos += int64(n)
		return string(buf), nil
	}
	b, err := d.read(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (d *decoder) file() (*File, error) {
	magic, err := d.read(4)
	if err != nil {
		return nil, formatErr("file too short for a GGUF header (%d bytes)", d.size)
	}
	if string(magic) != Magic {
		return nil, formatErr("bad magic %q: not a GGUF file", magic)
	}
	f := &File{FileSize: d.size, Alignment: DefaultAlignment}
	if f.Version, err = d.u32(); err != nil {
		return nil, err
	}
	switch f.Version {
	case 2, 3:
	case 1:
		return nil, fmt.Errorf("gguf: unsupported version 1 (only versions 2 and 3 are read)")
	default:
		if f.Version&0xFFFF == 0 {
			return nil, fmt.Errorf("gguf: unsupported version %d (a big-endian file?)", f.Version)
		}
		return nil, fmt.Errorf("gguf: unsupported version %d (only versions 2 and 3 are read)", f.Version)
	}
	nTensors, err := d.u64()
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64()
	if err != nil {
		return nil, err
	}
	// Each KV takes at least 8+1+4+1 bytes and each tensor info at least 8+1+4+8+4+8.
	if nKV > maxKVCount || nKV > uint64(d.remaining()/13) {
		return nil, formatErr("metadata count %d is impossible for a file of %d bytes", nKV, d.size)
	}
	if nTensors > maxTensorCount || nTensors > uint64(d.remaining()/33) {
		return nil, formatErr("tensor count %d is impossible for a file of %d bytes", nTensors, d.size)
	}
	f.KV = make([]KV, 0, nKV)
	seen := make(map[string]bool, nKV)
	for i := uint64(0); i < nKV; i++ {
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, formatErr("duplicate metadata key %q", key)
		}
		seen[key] = true
		vt, err := d.u32()
		if err != nil {
			return nil, err
		}
		v, err := d.value(ValueType(vt), 0)
		if err != nil {
			return nil, fmt.Errorf("metadata %q: %w", key, err)
		}
		f.KV = append(f.KV, KV{Key: key, Value: Value{Type: ValueType(vt), V: v}})
	}
	f.index()
	if v, ok := f.Lookup("general.alignment"); ok {
		a, ok := asInt(v.V)
		if !ok || a <= 0 || a > 1<<30 || a&(a-1) != 0 {
			return nil, formatErr("general.alignment %v is not a positive power of two", v.V)
		}
		f.Alignment = a
	}
	f.Tensors = make([]TensorInfo, 0, nTensors)
	names := make(map[string]bool, nTensors)
	for i := uint64(0); i < nTensors; i++ {
		t, err := d.tensorInfo()
		if err != nil {
			return nil, err
		}
		if names[t.Name] {
			return nil, formatErr("duplicate tensor name %q", t.Name)
		}
		names[t.Name] = true
		f.Tensors = append(f.Tensors, t)
	}
	f.DataOffset = alignUp(d.pos, f.Alignment)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		rel := t.Offset
		if rel%f.Alignment != 0 {
			return nil, formatErr("tensor %q: offset %d is not aligned to %d", t.Name, rel, f.Alignment)
		}
		if rel > d.size || f.DataOffset > d.size-rel {
			return nil, formatErr("tensor %q: data at offset %d lies past the end of the file (%d bytes)", t.Name, rel, d.size)
		}
		t.Offset = f.DataOffset + rel
		if t.Size > d.size-t.Offset {
			return nil, formatErr("tensor %q: %d bytes of data at byte %d run past the end of the file (%d bytes)", t.Name, t.Size, t.Offset, d.size)
		}
	}
	f.index()
	return f, nil
}

func alignUp(x, a int64) int64 { return (x + a - 1) / a * a }

func (d *decoder) tensorInfo() (TensorInfo, error) {
	var t TensorInfo
	var err error
	if t.Name, err = d.str(); err != nil {
		return t, err
	}
	nd, err := d.u32()
	if err != nil {
		return t, err
	}
	if nd == 0 || nd > MaxDims {
		return t, formatErr("tensor %q: %d dimensions (1 to %d allowed)", t.Name, nd, MaxDims)
	}
	t.Shape = make([]uint64, nd)
	elems := uint64(1)
	for i := range t.Shape {
		if t.Shape[i], err = d.u64(); err != nil {
			return t, err
		}
		dim := t.Shape[i]
		if dim > math.MaxInt64 || (dim != 0 && elems > math.MaxInt64/dim) {
			return t, formatErr("tensor %q: shape %v overflows", t.Name, t.Shape[:i+1])
		}
		elems *= dim
	}
	ty, err := d.u32()
	if err != nil {
		return t, err
	}
	t.Type = dtype.Type(ty)
	if !t.Type.Known() {
		return t, formatErr("tensor %q: unknown weight type %d", t.Name, ty)
	}
	bs := uint64(t.Type.BlockSize())
	if t.Shape[0]%bs != 0 {
		return t, formatErr("tensor %q: row of %d values is not a whole number of %s blocks (%d)", t.Name, t.Shape[0], t.Type, bs)
	}
	blocks := elems / bs
	bb := uint64(t.Type.BlockBytes())
	if blocks > math.MaxInt64/bb {
		return t, formatErr("tensor %q: size overflows", t.Name)
	}
	t.Size = int64(blocks * bb)
	off, err := d.u64()
	if err != nil {
		return t, err
	}
	if off > math.MaxInt64 {
		return t, formatErr("tensor %q: offset %d overflows", t.Name, off)
	}
	t.Offset = int64(off)
	return t, nil
}

func (d *decoder) value(t ValueType, depth int) (any, error) {
	switch t {
	case TypeUint8:
		return d.u8()
	case TypeInt8:
		v, err := d.u8()
		return int8(v), err
	case TypeUint16:
		return d.u16()
	case TypeInt16:
		v, err := d.u16()
		return int16(v), err
	case TypeUint32:
		return d.u32()
	case TypeInt32:
		v, err := d.u32()
		return int32(v), err
	case TypeFloat32:
		v, err := d.u32()
		return math.Float32frombits(v), err
	case TypeBool:
		v, err := d.u8()
		if err == nil && v > 1 {
			return nil, formatErr("bool value %d at byte %d", v, d.pos-1)
		}
		return v == 1, err
	case TypeString:
		return d.str()
	case TypeUint64:
		return d.u64()
	case TypeInt64:
		v, err := d.u64()
		return int64(v), err
	case TypeFloat64:
		v, err := d.u64()
		return math.Float64frombits(v), err
	case TypeArray:
		return d.array(depth)
	}
	return nil, formatErr("unknown metadata value type %d at byte %d", uint32(t), d.pos)
}

func (d *decoder) array(depth int) (Array, error) {
	if depth >= maxArrayDepth {
		return Array{}, formatErr("arrays nested deeper than %d", maxArrayDepth)
	}
	et, err := d.u32()
	if err != nil {
		return Array{}, err
	}
	n, err := d.u64()
	if err != nil {
		return Array{}, err
	}
	elem := ValueType(et)
	minSize := int64(elem.size())
	switch elem {
	case TypeString:
		minSize = 8
	case TypeArray:
		minSize = 12
	}
	if minSize == 0 {
		return Array{}, formatErr("unknown array element type %d at byte %d", et, d.pos)
	}
	if n > uint64(d.remaining()/minSize) {
		return Array{}, formatErr("array of %d %s elements at byte %d exceeds the file (%d bytes): truncated or corrupt", n, elem, d.pos, d.size)
	}
	a := Array{Elem: elem}
	switch elem {
	case TypeString:
		v := make([]string, n)
		for i := range v {
			if v[i], err = d.str(); err != nil {
				return a, err
			}
		}
		a.Values = v
	case TypeArray:
		v := make([]Array, n)
		for i := range v {
			if v[i], err = d.array(depth + 1); err != nil {
				return a, err
			}
		}
		a.Values = v
	default:
		a.Values, err = d.scalars(elem, int(n))
	}
	return a, err
}

func (d *decoder) scalars(t ValueType, n int) (any, error) {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		b := make([]byte, n)
		if _, err := io.ReadFull(d.r, b); err != nil {
			return nil, formatErr("truncated array at byte %d", d.pos)
		}
		d.pos += int64(n)
		switch t {
		case TypeUint8:
			return b, nil
		case TypeInt8:
			v := make([]int8, n)
			for i, x := range b {
				v[i] = int8(x)
			}
			return v, nil
		default:
			v := make([]bool, n)
			for i, x := range b {
				if x > 1 {
					return nil, formatErr("bool value %d in array", x)
				}
				v[i] = x == 1
			}
			return v, nil
		}
	case TypeUint16, TypeInt16:
		u := make([]uint16, n)
		for i := range u {
			x, err := d.u16()
			if err != nil {
				return nil, err
			}
			u[i] = x
		}
		if t == TypeUint16 {
			return u, nil
		}
		v := make([]int16, n)
		for i, x := range u {
			v[i] = int16(x)
		}
		return v, nil
	case TypeUint32, TypeInt32, TypeFloat32:
		u := make([]uint32, n)
		for i := range u {
			x, err := d.u32()
			if err != nil {
				return nil, err
			}
			u[i] = x
		}
		switch t {
		case TypeUint32:
			return u, nil
		case TypeInt32:
			v := make([]int32, n)
			for i, x := range u {
				v[i] = int32(x)
			}
			return v, nil
		default:
			v := make([]float32, n)
			for i, x := range u {
				v[i] = math.Float32frombits(x)
			}
			return v, nil
		}
	default: // 64-bit
		u := make([]uint64, n)
		for i := range u {
			x, err := d.u64()
			if err != nil {
				return nil, err
			}
			u[i] = x
		}
		switch t {
		case TypeUint64:
			return u, nil
		case TypeInt64:
			v := make([]int64, n)
			for i, x := range u {
				v[i] = int64(x)
			}
			return v, nil
		default:
			v := make([]float64, n)
			for i, x := range u {
				v[i] = math.Float64frombits(x)
			}
			return v, nil
		}
	}
}
