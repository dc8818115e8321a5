package kernels

// The vector helpers of norm_amd64.s (AVX2, and AVX-512 for DotsF16T and
// the grouped attention).

//go:noescape
func f32ToF16AVX2(dst *uint16, src *float32, n int)

//go:noescape
func scaleMulAVX2(dst, x, w *float32, s float32, n int)

//go:noescape
func scaleMaxAVX2(x *float32, n int, s float32) float32

//go:noescape
func scaleAVX2(x *float32, n int, s float32)

//go:noescape
func dotsF16TAVX512(dst *float32, q *float32, kt *uint16, n, hd, stride int)

//go:noescape
func dotsF16TAVX2(dst *float32, q *float32, kt *uint16, n, hd, stride int)

//go:noescape
func axpysF16G4x64AVX512(out *float32, p *float32, n int, v *uint16, stride int)

//go:noescape
func dotsF16TG4AVX512(dst *float32, n int, q *float32, kt *uint16, hd, stride int)

//go:noescape
func dotsF16TG8AVX512(dst *float32, n int, q *float32, kt *uint16, hd, stride int)

//go:noescape
func dotsF16TG8AVX2(dst *float32, n int, q *float32, kt *uint16, hd, stride int)

//go:noescape
func dotsF16TG4AVX2(dst *float32, n int, q *float32, kt *uint16, hd, stride int)

//go:noescape
func axpysF16G8AVX2(out *float32, p *float32, n int, v *uint16, hd, stride int)

//go:noescape
func axpysF16G4AVX2(out *float32, p *float32, n int, v *uint16, hd, stride int)

// installGroupedAVX2 installs the AVX2 loops of the grouped attention
// (DotsF16TGroup, AxpysF16Group), which AVX-512 machines replace with
// their own (the tests install them there too).
func installGroupedAVX2() {
	dotsF16TG8SIMD = func(dst []float32, n int, q []float32, kt []uint16, stride int) {
		dotsF16TG8AVX2(&dst[0], n, &q[0], &kt[0], len(q)/8, stride)
	}
	dotsF16TG4SIMD = func(dst []float32, n int, q []float32, kt []uint16, stride int) {
		dotsF16TG4AVX2(&dst[0], n, &q[0], &kt[0], len(q)/4, stride)
	}
	axpysF16G8SIMD = func(out, p []float32, n int, v []uint16, stride int) {
		axpysF16G8AVX2(&out[0], &p[0], n, &v[0], len(out)/8, stride)
	}
	axpysF16G4SIMD = func(out, p []float32, n int, v []uint16, stride int) {
		axpysF16G4AVX2(&out[0], &p[0], n, &v[0], len(out)/4, stride)
	}
}

var _ = addInstaller(func(avx512 bool) {
	dotsF16TSIMD = func(dst, q []float32, kt []uint16, stride int) {
		dotsF16TAVX2(&dst[0], &q[0], &kt[0], len(dst), len(q), stride)
	}
	if avx512 {
		axpysF16G4x64SIMD = func(out, p []float32, n int, v []uint16, stride int) {
			axpysF16G4x64AVX512(&out[0], &p[0], n, &v[0], stride)
		}
		dotsF16TG4SIMD = func(dst []float32, n int, q []float32, kt []uint16, stride int) {
			dotsF16TG4AVX512(&dst[0], n, &q[0], &kt[0], len(q)/4, stride)
		}
		dotsF16TG8SIMD = func(dst []float32, n int, q []float32, kt []uint16, stride int) {
			dotsF16TG8AVX512(&dst[0], n, &q[0], &kt[0], len(q)/8, stride)
		}
		dotsF16TSIMD = func(dst, q []float32, kt []uint16, stride int) {
			dotsF16TAVX512(&dst[0], &q[0], &kt[0], len(dst), len(q), stride)
		}
	} else {
		installGroupedAVX2()
	}
	scaleMaxSIMD = func(x []float32, s float32) float32 { return scaleMaxAVX2(&x[0], len(x), s) }
	scaleSIMD = func(x []float32, s float32) { scaleAVX2(&x[0], len(x), s) }
	f32ToF16SIMD = func(dst []uint16, src []float32) { f32ToF16AVX2(&dst[0], &src[0], len(src)) }
	f32ToF16StridedSIMD = func(dst []uint16, stride int, src []float32) {
		var h [16]uint16
		for i := 0; i < len(src); i += 16 {
			f32ToF16AVX2(&h[0], &src[i], 16)
			for j, v := range h {
				dst[(i+j)*stride] = v
			}
		}
	}
	scaleMulSIMD = func(dst, x, w []float32, s float32) { scaleMulAVX2(&dst[0], &x[0], &w[0], s, len(x)) }
})

//go:noescape
func ropePairsAVX2(x *float32, heads, headDim int, cos, sin *float32, half int)

//go:noescape
func ropeHalvesAVX2(x *float32, heads, headDim int, cos, sin *float32, half int)

var _ = addInstaller(func(bool) {
	ropePairsSIMD = func(x []float32, headDim int, cos, sin []float32) {
		ropePairsAVX2(&x[0], len(x)/headDim, headDim, &cos[0], &sin[0], len(cos))
	}
	ropeHalvesSIMD = func(x []float32, headDim int, cos, sin []float32) {
		ropeHalvesAVX2(&x[0], len(x)/headDim, headDim, &cos[0], &sin[0], len(cos))
	}
})
