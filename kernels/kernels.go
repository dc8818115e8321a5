package kernels

import (
	"encoding/binary"
	"fmt"
	"os"

	"ferry/dtype"
)

// dotFunc computes the dot product of one row (len(x) values of a type,
// stored in row) with x. row holds at least the row's bytes.
type dotFunc func(row []byte, x []float32) float32

// dequantFunc decodes len(dst) values (a whole number of blocks) from src.
type dequantFunc func(dst []float32, src []byte)

// qdotFunc computes the dot product of one row (row holds exactly the row's
// bytes) with activations prepared by prepare (see act.go).
type qdotFunc func(row, xq []byte) float32

// vecFunc computes y[i] = qdot(w[i*rb:(i+1)*rb], xq) for every i < len(y).
type vecFunc func(y []float32, w []byte, rb int, xq []byte)

// batchFunc computes a group of rows of a batched product for the first
// vectors of the batch, several vectors for each weight it loads: for
// rows = len(y)/n, i < len(w)/rb and j below the count it returns (a
// multiple of its tile of vectors, or 0 for a shape it does not take),
// y[j*rows+row0+i] = the dot product of w[i*rb:(i+1)*rb] with vector j
// (ab bytes at xq[j*ab:], of the form batchAct). compute does the vectors
// it leaves with vecBatch.
type batchFunc func(y []float32, w []byte, rb int, xq []byte, ab, n, row0 int) int

// kernel is the set of portable (or, when installed, accelerated) routines
// for one weight type.
type kernel struct {
	blockSize  int
	blockBytes int
	// unit, when above 1, is how many rows an interleaved layout keeps
	// together (see interleave.go): the loops take whole units, rb is the
	// bytes of a unit, and y holds unit values per unit.
	unit int
	act  actKind // form of the activations the dot products take
	qdot qdotFunc
	vec  vecFunc
	// vecBatch, when set, is vec for batched products (MatMul with n > 1),
	// whose weight rows come from cache after the first vector: the same
	// loop with a shorter prefetch distance, taking activations of the
	// form batchAct.
	vecBatch vecFunc
	batchAct actKind
	// batch, when set, takes batched products (n > 1) several vectors
	// at a time before vecBatch does the rest one at a time: a
	// register-blocked loop that loads and converts each weight once
	// for several vectors, where vecBatch does it again for each. Only
	// for types of plain rows (unit 1).
	batch   batchFunc
	dequant dequantFunc
}

// actFor returns the form of the activations a product of n vectors
// takes: the batch loop's for a batch, when the kernel has one.
func (k *kernel) actFor(n int) actKind {
	if n > 1 && k.vecBatch != nil {
		return k.batchAct
	}
	return k.act
}

// kernelTable is indexed by dtype.Type. An entry with dot == nil means the
// type is not supported. Architecture-specific code may overwrite the dot or
// dequant fields of an entry from an init function.
var kernelTable [numTypes]kernel

// reordered marks the types whose installed SIMD loop sums in another
// order than the portable kernel (equal within float rounding, not bit for
// bit): installers set it, registerPortable clears it.
var reordered [numTypes]bool

// portable holds the portable row dot of every type, and portableAct the
// activation form it takes, for tests.
var (
	portable    [numTypes]qdotFunc
	portableAct [numTypes]actKind
)

func register(t dtype.Type, act actKind, dot qdotFunc, dq dequantFunc) {
	portable[t], portableAct[t] = dot, act
	kernelTable[t] = kernel{
		blockSize:  t.BlockSize(),
		blockBytes: t.BlockBytes(),
		act:        act,
		qdot:       dot,
		vec:        vecOf(dot),
		dequant:    dq,
	}
}

// vecOf is the portable vecFunc of a row dot.
func vecOf(dot qdotFunc) vecFunc {
	return func(y []float32, w []byte, rb int, xq []byte) {
		for i := range y {
			y[i] = dot(w[i*rb:(i+1)*rb], xq)
		}
	}
}

// registerPortable fills kernelTable with the portable kernels.
func registerPortable() {
	reordered = [numTypes]bool{}
	register(dtype.F32, actF32, fdot(dotF32), dequantF32)
	register(dtype.F16, actF16, fdot(dotF16), dequantF16)
	register(dtype.BF16, actBF16, fdot(dotBF16), dequantBF16)
	register(dtype.Q8_0, actQ8_0, qdotQ8_0, dequantQ8_0)
	register(dtype.Q4_0, actQ8_0, qdotQ4_0, dequantQ4_0)
	register(dtype.Q4_1, actQ8_0, qdotQ4_1, dequantQ4_1)
	register(dtype.Q5_0, actQ8_0, qdotQ5_0, dequantQ5_0)
	register(dtype.Q5_1, actQ8_0, qdotQ5_1, dequantQ5_1)
	register(dtype.Q2_K, actQ8_K, qdotQ2_K, dequantQ2_K)
	register(dtype.Q3_K, actQ8_K, qdotQ3_K, dequantQ3_K)
	register(dtype.Q4_K, actQ8_K, qdotQ4_K, dequantQ4_K)
	register(dtype.Q5_K, actQ8_K, qdotQ5_K, dequantQ5_K)
	register(dtype.Q6_K, actQ8_K, qdotQ6_K, dequantQ6_K)
	register(dtype.Q8_K, actF32, fdot(dotQ8_K), dequantQ8_K)
	registerInterleaved()
	quantizeQ8_0 = quantizeQ8_0Go
	quantizeQ8_K = quantizeQ8_KGo
	quantizeQ8_KR = quantizeQ8_KRVia
	quantizeQ8_0P = quantizeQ8_0PVia
	spreadQ8_KB = spreadQ8_KBGo
	spreadQ8_0B = spreadQ8_0BGo
}

func init() {
	registerPortable()
	if os.Getenv("FERRY_NOSIMD") == "" {
		useSIMD()
	}
}

// SIMD reports whether accelerated (assembly) kernels are in use. They are
// chosen at start-up from the CPU's features; setting the environment
// variable FERRY_NOSIMD to a non-empty value forces the portable kernels.
func SIMD() bool { return simdActive }

// Supported reports whether kernels can compute with type t (dequantize it
// and take dot products with it).
func Supported(t dtype.Type) bool {
	return int(t) < len(kernelTable) && kernelTable[t].qdot != nil
}

// lookup returns the kernel of t, panicking when t is not supported.
func lookup(t dtype.Type) *kernel {
	if !Supported(t) {
		panic(fmt.Sprintf("kernels: unsupported weight type %v", t))
	}
	return &kernelTable[t]
}

// unitRows returns how many rows the kernel's loops take at a time.
func (k *kernel) unitRows() int { return max(k.unit, 1) }

// rowBytes returns the bytes of n values of the kernel's type, panicking when
// n is not a whole number of blocks.
func (k *kernel) rowBytes(n int) int {
	if n < 0 || n%k.blockSize != 0 {
		panic(fmt.Sprintf("kernels: %d values is not a whole number of %d-value blocks", n, k.blockSize))
	}
	return n / k.blockSize * k.blockBytes
}

// Dequantize decodes len(dst) values of type t from src into dst. len(dst)
// must be a whole number of blocks of t and src must hold at least
// t.RowBytes(len(dst)) bytes; it panics otherwise or when t is not supported.
func Dequantize(dst []float32, src []byte, t dtype.Type) {
	k := lookup(t)
	nb := k.rowBytes(len(dst))
	if len(src) < nb {
		panic(fmt.Sprintf("kernels: Dequantize %v: %d values need %d bytes, have %d", t, len(dst), nb, len(src)))
	}
	if len(dst) == 0 {
		return
	}
	k.dequant(dst, src[:nb])
}

// Dot returns the dot product of one row of type t, len(x) values stored in
// row, with x. len(x) must be a whole number of blocks of t and row must hold
// at least t.RowBytes(len(x)) bytes; it panics otherwise or when t is not
// supported. Like MatVec, and like llama.cpp, it first converts x to the
// form the type's kernel takes (8-bit blocks for quantized types, half or
// bfloat16 precision for F16 and BF16), and its result equals the
// corresponding element of MatVec's. It does not allocate.
func Dot(t dtype.Type, row []byte, x []float32) float32 {
	k := lookup(t)
	nb := k.rowBytes(len(x))
	if len(row) < nb {
		panic(fmt.Sprintf("kernels: Dot %v: %d values need %d bytes, have %d", t, len(x), nb, len(row)))
	}
	if len(x) == 0 {
		return 0
	}
	if k.unit > 1 {
		panic(fmt.Sprintf("kernels: Dot %v: an interleaved layout has no single rows", t))
	}
	s := scratchPool.Get().(*scratch)
	buf := s.bytes(8 + actBytes(k.act, len(x)))
	y, xq := f32view(buf[:8])[:1], buf[8:]
	prepare(k.act, xq, x)
	k.vec(y, row[:nb], nb, xq)
	r := y[0]
	scratchPool.Put(s)
	return r
}

// f16at reads the IEEE half at b[0:2] as float32.
func f16at(b []byte) float32 { return f16Table[binary.LittleEndian.Uint16(b)] }
