package kernels

// The AVX-512 loops of the interleaved types (interleave_amd64.s).

//go:noescape
func vecQ4_KX16AVX512(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ6_KX16AVX512(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecF16X16AVX512(y *float32, w *byte, rb, units int, xq *byte, nb, xh int)

//go:noescape
func vecQ8_0X16AVX512(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

var _ = addInstaller(func(avx512 bool) {
	if !avx512 {
		return
	}
	kernelTable[q4KX16].act = actQ8_KP
	setVecPF(q4KX16, vecQ4_KX16AVX512)
	packedFast[q4KX16] = true
	kernelTable[q8X16].act = actQ8_0X
	setVecPF(q8X16, vecQ8_0X16AVX512)
	reordered[q8X16] = true
	packedFast[q8X16] = true
	kernelTable[q6KX16].act = actQ8_K6
	setVecPF(q6KX16, vecQ6_KX16AVX512)
	packedFast[q6KX16] = true
	// F16: the activations of the plain F16 loop, whose bits these are
	// (the loop takes no prefetch setting).
	setVecHalves(f16X16, func(y *float32, w *byte, rb, units int, xq *byte, nb, pf, xh int) {
		vecF16X16AVX512(y, w, rb, units, xq, nb, xh)
	})
	packedFast[f16X16] = true
})
