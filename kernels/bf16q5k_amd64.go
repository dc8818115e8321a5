package kernels

import "ferry/dtype"

// The BF16 and Q5_K row loops of bf16q5k_amd64.s, installed at the end of
// useSIMD: BF16 gets the AVX2 loop, or the AVX-512 one where AVX-512 is
// usable; Q5_K keeps useSIMD's AVX2 loop unless AVX-512 is usable, when it
// gets the AVX-512 loop and its activation form actQ8_KP.
var _ = addInstaller(func(avx512 bool) {
	if !avx512 {
		setVec(dtype.BF16, vecBF16AVX2)
		return
	}
	setVec(dtype.BF16, vecBF16AVX512)
	kernelTable[dtype.Q5_K].act = actQ8_KP // before setVec, which checks it
	setVec(dtype.Q5_K, vecQ5_KAVX512)
	reordered[dtype.Q5_K] = true
})

// vecBF16AVX2 computes y[i] for i < rows: the BF16 row at w + i*rb (nb
// values) against nb float32 activations at xq.
//
//go:noescape
func vecBF16AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecBF16AVX512 is vecBF16AVX2 with AVX-512 registers.
//
//go:noescape
func vecBF16AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ5_KAVX512 computes y[i] for i < rows: the Q5_K row at w + i*rb (nb
// blocks) against actQ8_KP activations at xq.
//
//go:noescape
func vecQ5_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
