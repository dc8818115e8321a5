// Package dtype names the weight types that GGUF files carry and gives the
// block geometry of each: how many values one block holds and how many bytes
// it takes. It is the one table that the file reader, the kernels and the
// quantizers share.
package dtype

import (
	"fmt"
	"math"
)

// Type is a GGML tensor type, numbered as in the GGUF format.
type Type uint32

// The GGML tensor types ferry knows. The numbers are fixed by the file format.
const (
	F32  Type = 0
	F16  Type = 1
	Q4_0 Type = 2
	Q4_1 Type = 3
	Q5_0 Type = 6
	Q5_1 Type = 7
	Q8_0 Type = 8
	Q8_1 Type = 9
	Q2_K Type = 10
	Q3_K Type = 11
	Q4_K Type = 12
	Q5_K Type = 13
	Q6_K Type = 14
	Q8_K Type = 15
	I8   Type = 24
	I16  Type = 25
	I32  Type = 26
	I64  Type = 27
	F64  Type = 28
	BF16 Type = 30
)

// QK_K is the number of values in one super-block of the K-quant types.
const QK_K = 256

type info struct {
	name       string
	blockSize  int // values per block
	blockBytes int // bytes per block
}

var table = map[Type]info{
	F32:  {"F32", 1, 4},
	F16:  {"F16", 1, 2},
	BF16: {"BF16", 1, 2},
	Q4_0: {"Q4_0", 32, 2 + 16},
	Q4_1: {"Q4_1", 32, 2 + 2 + 16},
	Q5_0: {"Q5_0", 32, 2 + 4 + 16},
	Q5_1: {"Q5_1", 32, 2 + 2 + 4 + 16},
	Q8_0: {"Q8_0", 32, 2 + 32},
	Q8_1: {"Q8_1", 32, 4 + 32},
	Q2_K: {"Q2_K", QK_K, QK_K/16 + QK_K/4 + 2 + 2},
	Q3_K: {"Q3_K", QK_K, QK_K/8 + QK_K/4 + 12 + 2},
	Q4_K: {"Q4_K", QK_K, 2 + 2 + 12 + QK_K/2},
	Q5_K: {"Q5_K", QK_K, 2 + 2 + 12 + QK_K/8 + QK_K/2},
	Q6_K: {"Q6_K", QK_K, QK_K/2 + QK_K/4 + QK_K/16 + 2},
	Q8_K: {"Q8_K", QK_K, 4 + QK_K + QK_K/16*2},
	I8:   {"I8", 1, 1},
	I16:  {"I16", 1, 2},
	I32:  {"I32", 1, 4},
	I64:  {"I64", 1, 8},
	F64:  {"F64", 1, 8},
}

// Known reports whether t is a type ferry can size.
func (t Type) Known() bool { _, ok := table[t]; return ok }

// String returns the GGML name of t, such as "Q4_K".
func (t Type) String() string {
	if i, ok := table[t]; ok {
		return i.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize returns the number of values in one block of t (1 for plain types).
func (t Type) BlockSize() int { return table[t].blockSize }

// BlockBytes returns the number of bytes one block of t occupies.
func (t Type) BlockBytes() int { return table[t].blockBytes }

// RowBytes returns the bytes needed for n values of type t, or an error when
// n is not a whole number of blocks or t is unknown.
func (t Type) RowBytes(n int) (int, error) {
	i, ok := table[t]
	if !ok {
		return 0, fmt.Errorf("unknown weight type %d", uint32(t))
	}
	if n < 0 || n%i.blockSize != 0 {
		return 0, fmt.Errorf("%s: %d values is not a whole number of %d-value blocks", i.name, n, i.blockSize)
	}
	blocks := n / i.blockSize
	if blocks > math.MaxInt/i.blockBytes {
		return 0, fmt.Errorf("%s: %d values overflow", i.name, n)
	}
	return blocks * i.blockBytes, nil
}

// Parse returns the type whose GGML name is s (case-insensitive).
func Parse(s string) (Type, error) {
	for t, i := range table {
		if equalFold(i.name, s) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown weight type %q", s)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
