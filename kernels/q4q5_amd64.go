package kernels

import "ferry/dtype"

// Installs the assembly row loops of q4q5_amd64.s for Q4_1, Q5_0 and Q5_1
// weights: the AVX-512 ones (VPDPBUSD, two blocks per register) where
// AVX-512 VNNI is usable, the AVX2 ones otherwise. Both keep float
// accumulators across blocks, so the types are marked reordered (their
// results equal the portable kernels' within float rounding).
var _ = addInstaller(func(avx512 bool) {
	setVecQ4_1(avx512)
	setVecQ5_0(avx512)
	setVecQ5_1(avx512)
})

// vecArgs marks t reordered and returns its kernel, block size, block
// bytes and activation form, for the vecFuncs below.
func vecArgs(t dtype.Type) (k *kernel, bs, bb int, act actKind) {
	k = &kernelTable[t]
	reordered[t] = true
	return k, k.blockSize, k.blockBytes, k.act
}

// setVecQ4_1 installs vecQ4_1AVX512 (avx512) or vecQ4_1AVX2 as the
// vecFunc of Q4_1, as setVec does.
func setVecQ4_1(avx512 bool) {
	k, bs, bb, act := vecArgs(dtype.Q4_1)
	k.vec = func(y []float32, w []byte, rb int, xq []byte) {
		if len(y) == 0 || rb == 0 {
			return
		}
		nb := rb / bb
		_ = w[len(y)*rb-1]
		_ = xq[actBytes(act, nb*bs)-1]
		if avx512 {
			vecQ4_1AVX512(&y[0], &w[0], rb, len(y), &xq[0], nb)
		} else {
			vecQ4_1AVX2(&y[0], &w[0], rb, len(y), &xq[0], nb)
		}
	}
}

// setVecQ5_0 installs vecQ5_0AVX512 (avx512) or vecQ5_0AVX2 as the
// vecFunc of Q5_0, as setVec does.
func setVecQ5_0(avx512 bool) {
	k, bs, bb, act := vecArgs(dtype.Q5_0)
	k.vec = func(y []float32, w []byte, rb int, xq []byte) {
		if len(y) == 0 || rb == 0 {
			return
		}
		nb := rb / bb
		_ = w[len(y)*rb-1]
		_ = xq[actBytes(act, nb*bs)-1]
		if avx512 {
			vecQ5_0AVX512(&y[0], &w[0], rb, len(y), &xq[0], nb)
		} else {
			vecQ5_0AVX2(&y[0], &w[0], rb, len(y), &xq[0], nb)
		}
	}
}

// setVecQ5_1 installs vecQ5_1AVX512 (avx512) or vecQ5_1AVX2 as the
// vecFunc of Q5_1, as setVec does.
func setVecQ5_1(avx512 bool) {
	k, bs, bb, act := vecArgs(dtype.Q5_1)
	k.vec = func(y []float32, w []byte, rb int, xq []byte) {
		if len(y) == 0 || rb == 0 {
			return
		}
		nb := rb / bb
		_ = w[len(y)*rb-1]
		_ = xq[actBytes(act, nb*bs)-1]
		if avx512 {
			vecQ5_1AVX512(&y[0], &w[0], rb, len(y), &xq[0], nb)
		} else {
			vecQ5_1AVX2(&y[0], &w[0], rb, len(y), &xq[0], nb)
		}
	}
}

// The row loops of q4q5_amd64.s, with the signature and conventions of
// those of kernels_amd64.s: y[i] for i < rows is the dot product of the
// row at w + i*rb, nb blocks, with the actQ8_0 activations at xq. They
// read nothing outside the rows' and activations' blocks.

// vecQ4_1AVX2 is the AVX2 row loop of Q4_1 weights.
//
//go:noescape
func vecQ4_1AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ5_0AVX2 is the AVX2 row loop of Q5_0 weights.
//
//go:noescape
func vecQ5_0AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ5_1AVX2 is the AVX2 row loop of Q5_1 weights.
//
//go:noescape
func vecQ5_1AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ4_1AVX512 is the AVX-512 VNNI row loop of Q4_1 weights.
//
//go:noescape
func vecQ4_1AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ5_0AVX512 is the AVX-512 VNNI row loop of Q5_0 weights.
//
//go:noescape
func vecQ5_0AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ5_1AVX512 is the AVX-512 VNNI row loop of Q5_1 weights.
//
//go:noescape
func vecQ5_1AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
