package kernels

import (
	"fmt"
	"sync"
	"unsafe"

	"ferry/dtype"
)

// A register-blocked loop for batched products (prefill) of F16, BF16
// and F32 weights on CPUs with AVX2 but not AVX-512 (batch_amd64.s). The row
// loops that batches otherwise run once per activation vector
// (kernel.vecBatch) load and convert every weight again for every
// vector. Here a group of rows (compute's, about 128 KiB of weights, in
// the L2 cache) is decoded to float32 once per span of its values, into a
// tile, and one float loop (batchF32x4AVX2) takes that tile against four
// vectors at a time: two rows by four vectors in eight accumulators,
// each activation loaded once for two rows, each weight once for four
// vectors, so that the FMA pipes are the limit. The remaining vectors
// (n not a multiple of four) go through the row loop.
//
// On a Zen 1 core (256-bit operations split in two, one vector integer
// multiplier, FMA on two pipes), BenchmarkBatchLoop, one core, 64
// vectors: F16 34 GFLOP/s against 12 for the row loop (a loop converting
// the halves in its inner loop, one VCVTPH2PS for four FMAs, made 25, and
// 37 without the conversions). BF16 takes the same float loop, its rows
// widened to float32 by a shift (bf16ToFloats).
//
// Q8_0 has none: the same float loop over decoded Q8_0 weights and
// activations made 31 GFLOP/s against 20 for its row loop, but resident
// Q8_0 matrices are interleaved (q8X8), whose loop, once per vector, made
// prefill as fast (TinyLlama, 64 tokens: 25-26 tok/s either way), and a
// batch loop for the file's layout that summed in another order than the
// interleaved one would give streamed and resident spans different bits.
//
// The loop sums each (row, vector) pair in one accumulator of eight lanes
// in the order of its values and stores, or adds to y, the horizontal sum
// of each span (the spans start at fixed values of a row), so a result
// does not depend on which rows or groups a participant took, nor on
// whether a row went in a pair: the bits are the same however a product is
// split across the cores. They differ from the row loop's only in float
// rounding (F16 is marked reordered).

// batchCols is how many activation vectors the float loop takes at a time.
const batchCols = 4

// batchSpanF16 is the span of each row's values the loop takes at a
// time: a group's rows decoded over a span (the tile) stay in the L2
// cache while every four vectors pass over them, and four vectors' float32
// activations over the span (16 KiB) in the L1 while the rows do. Between
// spans the loop adds its sums to y, a horizontal sum per row and vector:
// shorter spans cost more of those (512 values made 32.5 GFLOP/s against
// 34.4 at 1024, and the same at 2048). A multiple of 8; a variable for
// the tests.
var batchSpanF16 = 1024

var _ = addInstaller(func(avx512 bool) {
	if avx512 {
		return // the AVX-512 loops are another CPU's; left as they are
	}
	kernelTable[dtype.F16].batch = batchF16
	kernelTable[dtype.BF16].batch = batchBF16
	kernelTable[dtype.F32].batch = batchF32
	// The batch loop sums in another order than the BF16 and F32 row
	// loops.
	reordered[dtype.BF16], reordered[dtype.F32] = true, true
})

// checkBatch panics unless the slices hold what the loops read and write
// for rows [row0, row0+rows) of a product of n vectors, reading the first
// wb bytes of each weight row and xb of each vector: the assembly trusts
// its arguments.
func checkBatch(y []float32, w []byte, rb int, xq []byte, ab, n, row0, rows, wb, xb int) {
	if len(y)%n != 0 || row0+rows > len(y)/n || len(w) < rows*rb || wb > rb || xb > ab || len(xq) < n*ab {
		panic(fmt.Sprintf("kernels: batch loop: y %d, w %d, rb %d, xq %d, ab %d, n %d, rows %d+%d, %d weight bytes, %d activation bytes",
			len(y), len(w), rb, len(xq), ab, n, row0, rows, wb, xb))
	}
}

// batchF16 is the batchFunc of F16 weights over actF16 activations
// (float32 values rounded to halves): each span of the group's rows
// converted to float32 once (halvesToFloats), then the float loop over
// the tile for every four vectors.
func batchF16(y []float32, w []byte, rb int, xq []byte, ab, n, row0 int) int {
	return batchFloatRows(y, w, rb, xq, ab, n, row0, 2, halvesToFloats)
}

// batchBF16 is batchF16 for BF16 weights over actBF16 activations
// (float32 values rounded to bfloat16), the rows widened by bf16ToFloats.
func batchBF16(y []float32, w []byte, rb int, xq []byte, ab, n, row0 int) int {
	return batchFloatRows(y, w, rb, xq, ab, n, row0, 2, bf16ToFloats)
}

// batchF32 is the batch loop of F32 weights over actF32 activations:
// the float loop straight over the group's rows, a span at a time, with
// nothing to decode.
func batchF32(y []float32, w []byte, rb int, xq []byte, ab, n, row0 int) int {
	return batchFloatRows(y, w, rb, xq, ab, n, row0, 4, nil)
}

// batchFloatRows is the batch loop of a float type of size bytes a
// value: when widen is set (a 16-bit type), each span of the group's rows
// is widened to float32 into a tile (halvesToFloats' arguments) and the
// float loop takes the tile; when it is not (F32), the loop takes the
// rows where they lie.
func batchFloatRows(y []float32, w []byte, rb int, xq []byte, ab, n, row0, size int, widen func(dst *float32, src *byte, rb, rows, nk int)) int {
	vals := rb / size
	if n < batchCols || vals%8 != 0 || vals == 0 {
		return 0
	}
	rows := len(w) / rb
	if rows == 0 {
		return 0
	}
	checkBatch(y, w, rb, xq, ab, n, row0, rows, size*vals, 4*vals)
	ys := len(y) / n
	n4 := n - n%batchCols
	span := min(batchSpanF16, vals)
	var s *scratch
	var tile []float32
	if widen != nil {
		s = floatTiles.Get().(*scratch)
		tile = alignedFloats(s, rows*span)
	}
	for k0 := 0; k0 < vals; k0 += span {
		nk := min(span, vals-k0)
		var src *float32
		ws := rb
		if widen != nil {
			widen(&tile[0], &w[size*k0], rb, rows, nk)
			src, ws = &tile[0], 4*nk
		} else {
			src = (*float32)(unsafe.Pointer(&w[size*k0]))
		}
		for j := 0; j < n4; j += batchCols {
			batchF32x4AVX2(&y[j*ys+row0], ys, src, ws, rows, &xq[j*ab+4*k0], ab, nk, k0)
		}
	}
	if s != nil {
		floatTiles.Put(s)
	}
	return n4
}

// floatTiles holds the buffers the batch loop decodes weights into, one
// for each product running at a time; a buffer, once grown to the largest
// tile (a group's rows over a span: at most twice rowGroupBytes), is
// reused without allocating.
var floatTiles = sync.Pool{New: func() any { return new(scratch) }}

// alignedFloats returns n float32 of s starting on a cache line (so that
// the loops' 32-byte loads never straddle two).
func alignedFloats(s *scratch, n int) []float32 {
	b := s.bytes(4*n + 64)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & 63)
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[off])), n)
}

// batchF32x4AVX2 computes, for rows i < rows (row i's values at w +
// i*ws, float32) and the four vectors v < 4 (vector v's at x + v*xs,
// float32), the dot product of nk values, nk a multiple of 8, and stores
// it at y[v*ys+i] when add is 0, or adds it there when not. It takes rows
// two at a time, each vector's activations loaded once for both.
//
//go:noescape
func batchF32x4AVX2(y *float32, ys int, w *float32, ws, rows int, x *byte, xs, nk, add int)

// halvesToFloats converts nk halves (a multiple of 8) of each of rows
// rows, rb bytes apart at src, into float32 rows of nk values one after
// another at dst.
//
//go:noescape
func halvesToFloats(dst *float32, src *byte, rb, rows, nk int)

// bf16ToFloats is halvesToFloats for bfloat16 values: each widened to
// float32 by a shift of 16 bits, exactly.
//
//go:noescape
func bf16ToFloats(dst *float32, src *byte, rb, rows, nk int)
