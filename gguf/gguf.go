// Package gguf reads and writes GGUF files, the container llama.cpp and its
// ecosystem use for model weights: a header of typed key-value metadata, a
// table of tensor descriptions, and an aligned data section.
//
// The reader validates before it trusts: every count, length, shape and offset
// is checked against the file's size and against overflow, so a truncated or
// hostile file yields an error, never a panic or a huge allocation.
package gguf

import (
	"fmt"
	"sort"

	"ferry/dtype"
)

// Magic is the four bytes every GGUF file starts with.
const Magic = "GGUF"

// DefaultAlignment is the data alignment used when general.alignment is absent.
const DefaultAlignment = 32

// MaxDims is the largest number of dimensions a tensor may have.
const MaxDims = 4

// ValueType is the type tag of a metadata value.
type ValueType uint32

// Metadata value types, numbered as in the format.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"}

// String returns a short name such as "u32" or "string".
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("valuetype(%d)", uint32(t))
}

// size returns the encoded size of a scalar of type t, or 0 for strings and arrays.
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Value is one metadata value. Its Go type follows Type: uint8, int8, uint16,
// int16, uint32, int32, float32, bool, string, uint64, int64 or float64 for
// scalars; for arrays, an Array.
type Value struct {
	Type ValueType
	V    any
}

// Array is a metadata array. Values holds a typed slice ([]uint32, []string,
// []float32, ...) for scalar elements, or []Array for nested arrays.
type Array struct {
	Elem   ValueType
	Values any
}

// Len returns the number of elements in a.
func (a Array) Len() int {
	switch v := a.Values.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []Array:
		return len(v)
	}
	return 0
}

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor: its name, shape (fastest-varying dimension
// first, as GGML orders it), weight type and where its bytes lie.
type TensorInfo struct {
	Name string
	// Shape lists the dimensions, innermost (row length) first.
	Shape []uint64
	Type  dtype.Type
	// Offset is the byte offset of the tensor's data from the start of the file.
	Offset int64
	// Size is the number of bytes the tensor's data occupies.
	Size int64
}

// Elements returns the number of values in the tensor.
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed GGUF header: everything but the tensor data itself.
type File struct {
	Version   uint32
	KV        []KV
	Tensors   []TensorInfo
	Alignment int64
	// DataOffset is where the aligned data section begins.
	DataOffset int64
	// FileSize is the size of the file the header was read from.
	FileSize int64

	kvIndex     map[string]int
	tensorIndex map[string]int
}

func (f *File) index() {
	f.kvIndex = make(map[string]int, len(f.KV))
	for i, kv := range f.KV {
		f.kvIndex[kv.Key] = i
	}
	f.tensorIndex = make(map[string]int, len(f.Tensors))
	for i, t := range f.Tensors {
		f.tensorIndex[t.Name] = i
	}
}

// Lookup returns the value stored under key.
func (f *File) Lookup(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// Tensor returns the tensor named name, or nil.
func (f *File) Tensor(name string) *TensorInfo {
	i, ok := f.tensorIndex[name]
	if !ok {
		return nil
	}
	return &f.Tensors[i]
}

// Keys returns the metadata keys in sorted order.
func (f *File) Keys() []string {
	keys := make([]string, 0, len(f.KV))
	for _, kv := range f.KV {
		keys = append(keys, kv.Key)
	}
	sort.Strings(keys)
	return keys
}

// String returns the string stored under key.
func (f *File) String(key string) (string, bool) {
	v, ok := f.Lookup(key)
	if !ok {
		return "", false
	}
	s, ok := v.V.(string)
	return s, ok
}

// Int returns the integer stored under key, whatever its integer width.
// Booleans read as 0 or 1.
func (f *File) Int(key string) (int64, bool) {
	v, ok := f.Lookup(key)
	if !ok {
		return 0, false
	}
	return asInt(v.V)
}

func asInt(v any) (int64, bool) {
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
		if x > 1<<62 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Float returns the number stored under key as a float64; integers convert.
func (f *File) Float(key string) (float64, bool) {
	v, ok := f.Lookup(key)
	if !ok {
		return 0, false
	}
	switch x := v.V.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	i, ok := asInt(v.V)
	return float64(i), ok
}

// Bool returns the boolean stored under key.
func (f *File) Bool(key string) (bool, bool) {
	v, ok := f.Lookup(key)
	if !ok {
		return false, false
	}
	b, ok := v.V.(bool)
	return b, ok
}

// Array returns the array stored under key.
func (f *File) Array(key string) (Array, bool) {
	v, ok := f.Lookup(key)
	if !ok {
		return Array{}, false
	}
	a, ok := v.V.(Array)
	return a, ok
}

// Strings returns the string array stored under key.
func (f *File) Strings(key string) ([]string, bool) {
	a, ok := f.Array(key)
	if !ok {
		return nil, false
	}
	s, ok := a.Values.([]string)
	return s, ok
}

// Float32s returns the numeric array stored under key as float32 values.
func (f *File) Float32s(key string) ([]float32, bool) {
	a, ok := f.Array(key)
	if !ok {
		return nil, false
	}
	switch v := a.Values.(type) {
	case []float32:
		return v, true
	case []float64:
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out, true
	}
	ints, ok := f.Ints(key)
	if !ok {
		return nil, false
	}
	out := make([]float32, len(ints))
	for i, x := range ints {
		out[i] = float32(x)
	}
	return out, true
}

// Ints returns the integer array stored under key as int64 values.
func (f *File) Ints(key string) ([]int64, bool) {
	a, ok := f.Array(key)
	if !ok {
		return nil, false
	}
	conv := func(n int, at func(int) int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = at(i)
		}
		return out
	}
	switch v := a.Values.(type) {
	case []uint8:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), true
	case []int8:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), true
	case []uint16:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), true
	case []int16:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), true
	case []uint32:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), true
	case []int32:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), true
	case []uint64:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), true
	case []int64:
		return v, true
	case []bool:
		return conv(len(v), func(i int) int64 {
			if v[i] {
				return 1
			}
			return 0
		}), true
	}
	return nil, false
}

// Architecture returns general.architecture.
func (f *File) Architecture() string {
	s, _ := f.String("general.architecture")
	return s
}
