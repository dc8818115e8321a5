package kernels

import "ferry/dtype"

// Installs the Q2_K and Q3_K row loops of k23_amd64.s: the AVX-512 ones
// where AVX-512 VNNI is usable (they sum in another order than the
// portable kernels), the AVX2 ones (bit-identical) otherwise.
var _ = addInstaller(func(avx512 bool) {
	k2 := &kernelTable[dtype.Q2_K]
	bs2, bb2, act2 := k2.blockSize, k2.blockBytes, k2.act
	if avx512 {
		k2.vec = func(y []float32, w []byte, rb int, xq []byte) {
			if len(y) == 0 || rb == 0 {
				return
			}
			nb := rb / bb2
			_ = w[len(y)*rb-1]
			_ = xq[actBytes(act2, nb*bs2)-1]
			vecQ2_KAVX512(&y[0], &w[0], rb, len(y), &xq[0], nb)
		}
		reordered[dtype.Q2_K] = true
	} else {
		k2.vec = func(y []float32, w []byte, rb int, xq []byte) {
			if len(y) == 0 || rb == 0 {
				return
			}
			nb := rb / bb2
			_ = w[len(y)*rb-1]
			_ = xq[actBytes(act2, nb*bs2)-1]
			vecQ2_KAVX2(&y[0], &w[0], rb, len(y), &xq[0], nb)
		}
	}

	k3 := &kernelTable[dtype.Q3_K]
	bs3, bb3, act3 := k3.blockSize, k3.blockBytes, k3.act
	if avx512 {
		k3.vec = func(y []float32, w []byte, rb int, xq []byte) {
			if len(y) == 0 || rb == 0 {
				return
			}
			nb := rb / bb3
			_ = w[len(y)*rb-1]
			_ = xq[actBytes(act3, nb*bs3)-1]
			vecQ3_KAVX512(&y[0], &w[0], rb, len(y), &xq[0], nb)
		}
		reordered[dtype.Q3_K] = true
	} else {
		k3.vec = func(y []float32, w []byte, rb int, xq []byte) {
			if len(y) == 0 || rb == 0 {
				return
			}
			nb := rb / bb3
			_ = w[len(y)*rb-1]
			_ = xq[actBytes(act3, nb*bs3)-1]
			vecQ3_KAVX2(&y[0], &w[0], rb, len(y), &xq[0], nb)
		}
	}
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
