package kernels

import "ferry/dtype"

// Installs the assembly row loops of q4q5_amd64.s for Q4_1, Q5_0 and Q5_1
// weights: the AVX-512 ones (VPDPBUSD, two blocks per register) where
// AVX-512 VNNI is usable, the AVX2 ones otherwise. The AVX-512 loops keep
// float accumulators across blocks, so the types are then marked
// reordered (their results equal the portable kernels' within float
// rounding). The AVX2 loops keep the portable kernels' order (as the
// interleaved loops do: streamed and resident spans give the same bits).
var _ = addInstaller(func(avx512 bool) {
	if avx512 {
		setVec(dtype.Q4_1, vecQ4_1AVX512)
		setVec(dtype.Q5_0, vecQ5_0AVX512)
		setVec(dtype.Q5_1, vecQ5_1AVX512)
		reordered[dtype.Q4_1], reordered[dtype.Q5_0], reordered[dtype.Q5_1] = true, true, true
		return
	}
	setVecPF(dtype.Q4_1, vecQ4_1AVX2)
	setVecPF(dtype.Q5_0, vecQ5_0AVX2)
	setVecPF(dtype.Q5_1, vecQ5_1AVX2)
})

// The row loops of q4q5_amd64.s, with the signature and conventions of
// those of kernels_amd64.s: y[i] for i < rows is the dot product of the
// row at w + i*rb, nb blocks, with the actQ8_0 activations at xq. They
// read nothing outside the rows' and activations' blocks.

// vecQ4_1AVX2 is the AVX2 row loop of Q4_1 weights, in the portable
// kernel's order, with the prefetch setting pf (see rowLoopPF).
//
//go:noescape
func vecQ4_1AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

// vecQ5_0AVX2 is the AVX2 row loop of Q5_0 weights, in the portable
// kernel's order, with the prefetch setting pf (see rowLoopPF).
//
//go:noescape
func vecQ5_0AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

// vecQ5_1AVX2 is the AVX2 row loop of Q5_1 weights, in the portable
// kernel's order, with the prefetch setting pf (see rowLoopPF).
//
//go:noescape
func vecQ5_1AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

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
