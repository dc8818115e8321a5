package kernels

//go:noescape
func maxF32AVX2(x *float32, n int) float32

var _ = addInstaller(func(bool) {
	maxF32SIMD = func(x []float32) float32 { return maxF32AVX2(&x[0], len(x)) }
})
