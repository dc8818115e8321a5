package kernels

// AVX512 reports whether the AVX-512 VNNI loops are installed.
func AVX512() bool { return simdActive && hasAVX512VNNI }
