package kernels

// The AVX-512 loops of the packed types (pack_amd64.s).

//go:noescape
func vecQ8_0XAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

var _ = addInstaller(func(avx512 bool) {
	if !avx512 {
		return
	}
	kernelTable[q8Packed].act = actQ8_0P
	setVecPF(q8Packed, vecQ8_0XAVX512)
	reordered[q8Packed] = true
	packedFast[q8Packed] = true
})
