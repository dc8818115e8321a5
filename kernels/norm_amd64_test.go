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

// TestGroupedAVX2 runs TestDotsF16TGroup and TestAxpysF16Group with the
// AVX2 grouped loops installed, which AVX-512 machines otherwise replace.
func TestGroupedAVX2(t *testing.T) {
	if !simdActive {
		t.Skip("no AVX2 (or FERRY_NOSIMD set)")
	}
	d8, d4, a8, a4, a64 := dotsF16TG8SIMD, dotsF16TG4SIMD, axpysF16G8SIMD, axpysF16G4SIMD, axpysF16G4x64SIMD
	defer func() {
		dotsF16TG8SIMD, dotsF16TG4SIMD, axpysF16G8SIMD, axpysF16G4SIMD, axpysF16G4x64SIMD = d8, d4, a8, a4, a64
	}()
	installGroupedAVX2()
	axpysF16G4x64SIMD = nil
	if !GroupedScores(8) || !GroupedScores(4) {
		t.Fatal("GroupedScores false with the AVX2 loops installed")
	}
	t.Run("scores", TestDotsF16TGroup)
	t.Run("values", TestAxpysF16Group)
}
