package kernels

import "testing"

// TestDotsF16TAVX2 runs TestDotsF16T with the AVX2 loop installed, which
// AVX-512 machines otherwise replace.
func TestDotsF16TAVX2(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	saved := dotsF16TSIMD
	defer func() { dotsF16TSIMD = saved }()
	dotsF16TSIMD = func(dst, q []float32, kt []uint16, stride int) {
		dotsF16TAVX2(&dst[0], &q[0], &kt[0], len(dst), len(q), stride)
	}
	TestDotsF16T(t)
}
