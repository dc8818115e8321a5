package kernels

// The AVX-512 loop of packed Q4_K (pack_amd64.s).

//go:noescape
func vecQ4_KXAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)

var _ = addInstaller(func(avx512 bool) {
	if !avx512 || !hasGFNI {
		return
	}
	kernelTable[q4KPacked].act = actQ8_KP
	setVec(q4KPacked, vecQ4_KXAVX512)
	reordered[q4KPacked] = true
	packedFast[q4KPacked] = true
})
