package kernels

// The AVX2 helpers of norm_amd64.s.

//go:noescape
func f32ToF16AVX2(dst *uint16, src *float32, n int)

//go:noescape
func scaleMulAVX2(dst, x, w *float32, s float32, n int)

//go:noescape
func scaleMaxAVX2(x *float32, n int, s float32) float32

//go:noescape
func scaleAVX2(x *float32, n int, s float32)

var _ = addInstaller(func(bool) {
	scaleMaxSIMD = func(x []float32, s float32) float32 { return scaleMaxAVX2(&x[0], len(x), s) }
	scaleSIMD = func(x []float32, s float32) { scaleAVX2(&x[0], len(x), s) }
	f32ToF16SIMD = func(dst []uint16, src []float32) { f32ToF16AVX2(&dst[0], &src[0], len(src)) }
	scaleMulSIMD = func(dst, x, w []float32, s float32) { scaleMulAVX2(&dst[0], &x[0], &w[0], s, len(x)) }
})
