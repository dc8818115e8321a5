package kernels

import "ferry/dtype"

// The BF16 and Q5_K row loops of bf16q5k_amd64.s, installed at the end of
// useSIMD: BF16 gets the AVX2 loop, or the AVX-512 one where AVX-512 is
// usable; Q5_K keeps useSIMD's AVX2 loop unless AVX-512 is usable, when it
// gets the AVX-512 loop and its activation form actQ8_KP.
var _ = addInstaller(func(avx512 bool) {
	installBF16(avx512)
	if avx512 {
		installQ5_K()
	}
})

// installBF16 installs the BF16 row loop.
func installBF16(avx512 bool) {
	k := &kernelTable[dtype.BF16]
	bs, bb, act := k.blockSize, k.blockBytes, k.act
	if avx512 {
		k.vec = func(y []float32, w []byte, rb int, xq []byte) {
			if len(y) == 0 || rb == 0 {
				return
			}
			nb := rb / bb
			_ = w[len(y)*rb-1]
			_ = xq[actBytes(act, nb*bs)-1]
			vecBF16AVX512(&y[0], &w[0], rb, len(y), &xq[0], nb)
		}
		return
	}
	k.vec = func(y []float32, w []byte, rb int, xq []byte) {
		if len(y) == 0 || rb == 0 {
			return
		}
		nb := rb / bb
		_ = w[len(y)*rb-1]
		_ = xq[actBytes(act, nb*bs)-1]
		vecBF16AVX2(&y[0], &w[0], rb, len(y), &xq[0], nb)
	}
}

// installQ5_K installs the AVX-512 Q5_K row loop with the actQ8_KP
// activation form it takes; it sums in another order than the portable
// kernel.
func installQ5_K() {
	k := &kernelTable[dtype.Q5_K]
	k.act = actQ8_KP
	reordered[dtype.Q5_K] = true
	bs, bb, act := k.blockSize, k.blockBytes, k.act
	k.vec = func(y []float32, w []byte, rb int, xq []byte) {
		if len(y) == 0 || rb == 0 {
			return
		}
		nb := rb / bb
		_ = w[len(y)*rb-1]
		_ = xq[actBytes(act, nb*bs)-1]
		vecQ5_KAVX512(&y[0], &w[0], rb, len(y), &xq[0], nb)
	}
}

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
