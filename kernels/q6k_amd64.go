package kernels

import "ferry/dtype"

// The Q6_K row loop for CPUs with GFNI (q6k_amd64.s).

//go:noescape
func vecQ6_KGFNI(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

var _ = addInstaller(func(avx512 bool) {
	if avx512 && hasGFNI {
		setVecPF(dtype.Q6_K, vecQ6_KGFNI)
		reordered[dtype.Q6_K] = true
	}
})
