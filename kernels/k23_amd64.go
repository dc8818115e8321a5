package kernels

import "ferry/dtype"

// Installs the Q2_K and Q3_K row loops of k23_amd64.s: the AVX-512 ones
// where AVX-512 VNNI is usable (they sum in another order than the
// portable kernels), the AVX2 ones (bit-identical) otherwise.
var _ = addInstaller(func(avx512 bool) {
	if avx512 {
		setVec(dtype.Q2_K, vecQ2_KAVX512)
		setVec(dtype.Q3_K, vecQ3_KAVX512)
		reordered[dtype.Q2_K], reordered[dtype.Q3_K] = true, true
		return
	}
	setVec(dtype.Q2_K, vecQ2_KAVX2)
	setVec(dtype.Q3_K, vecQ3_KAVX2)
})

// The row loops (k23_amd64.s). Each sets y[i], i < rows, to the dot
// product of the weight row at w + i*rb (nb 256-value blocks) with the
// actQ8_K activations at xq.

// vecQ2_KAVX2 is the AVX2 Q2_K loop, bit-identical to qdotQ2_K.
//
//go:noescape
func vecQ2_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ3_KAVX2 is the AVX2 Q3_K loop, bit-identical to qdotQ3_K.
//
//go:noescape
func vecQ3_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ2_KAVX512 is the AVX-512 VNNI Q2_K loop: qdotQ2_K's sums in
// another order.
//
//go:noescape
func vecQ2_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ3_KAVX512 is the AVX-512 VNNI Q3_K loop: qdotQ3_K's sums in
// another order.
//
//go:noescape
func vecQ3_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
