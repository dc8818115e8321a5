package kernels

import "ferry/dtype"

// Installs vecQ4_0AVX512 (q40_amd64.s) as the row loop of Q4_0 weights
// where AVX-512 VNNI is usable, in place of the AVX2 loop that useSIMD
// installs; elsewhere the AVX2 loop stays. It keeps float accumulators
// across blocks, so Q4_0 is then marked reordered (its results equal the
// portable kernel's within float rounding).
var _ = addInstaller(func(avx512 bool) {
	if avx512 {
		setVec(dtype.Q4_0, vecQ4_0AVX512)
		reordered[dtype.Q4_0] = true
	}
})

// vecQ4_0AVX512 is the AVX-512 VNNI row loop of Q4_0 weights, with the
// signature and conventions of the loops of kernels_amd64.s: y[i] for
// i < rows is the dot product of the row at w + i*rb, nb blocks, with the
// actQ8_0 activations at xq. It reads nothing outside the rows' and
// activations' blocks.
//
//go:noescape
func vecQ4_0AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
