package kernels

import (
	"fmt"
	"math"
)

// Float32 vector helpers for attention: q·k scores and the weighted sum of
// values. They run on whatever vectors the model hands them (no quantized
// blocks), so they sit beside the block kernels rather than in the type table.

// DotF32 returns the dot product of a and b (len(b) >= len(a)).
func DotF32(a, b []float32) float32 {
	if len(a) >= 16 && dotF32SIMD != nil {
		n := len(a) &^ 15
		s := dotF32SIMD(a[:n], b[:n])
		for i := n; i < len(a); i++ {
			s += a[i] * b[i]
		}
		return s
	}
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// AxpyF32 adds alpha*x to y (len(y) >= len(x)).
func AxpyF32(y []float32, alpha float32, x []float32) {
	i := 0
	if len(x) >= 16 && axpyF32SIMD != nil {
		i = len(x) &^ 15
		axpyF32SIMD(y[:i], alpha, x[:i])
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}

// dotF32SIMD and axpyF32SIMD take lengths that are multiples of 16; nil
// when the CPU has no vector path.
var (
	dotF32SIMD  func(a, b []float32) float32
	axpyF32SIMD func(y []float32, alpha float32, x []float32)
)

// DotF16 returns the dot product of a with the half-precision vector b
// (len(b) >= len(a)): attention scores against an F16 KV cache.
func DotF16(a []float32, b []uint16) float32 {
	i := 0
	var s float32
	if len(a) >= 16 && dotF16SIMD != nil {
		i = len(a) &^ 15
		s = dotF16SIMD(a[:i], b[:i])
	}
	for ; i < len(a); i++ {
		s += a[i] * F16ToF32(b[i])
	}
	return s
}

// AxpyF16 adds alpha times the half-precision vector x to y.
func AxpyF16(y []float32, alpha float32, x []uint16) {
	i := 0
	if len(x) >= 16 && axpyF16SIMD != nil {
		i = len(x) &^ 15
		axpyF16SIMD(y[:i], alpha, x[:i])
	}
	for ; i < len(x); i++ {
		y[i] += alpha * F16ToF32(x[i])
	}
}

// F32ToF16Slice converts src into dst (len(dst) >= len(src)), rounding to
// nearest even.
func F32ToF16Slice(dst []uint16, src []float32) {
	i := 0
	if f32ToF16SIMD != nil && len(src) >= 16 {
		i = len(src) &^ 15
		_ = dst[i-1]
		f32ToF16SIMD(dst[:i], src[:i])
	}
	for ; i < len(src); i++ {
		dst[i] = F32ToF16(src[i])
	}
}

// F32ToF16Strided sets dst[i*stride] to src[i] rounded to half precision
// (as F32ToF16) for i < len(src): a vector written across a transposed
// layout, such as one position's keys in kv.Cache's blocks.
func F32ToF16Strided(dst []uint16, stride int, src []float32) {
	if len(src) == 0 {
		return
	}
	_ = dst[(len(src)-1)*stride]
	i := 0
	if f32ToF16StridedSIMD != nil {
		i = len(src) &^ 15
		if i > 0 {
			f32ToF16StridedSIMD(dst, stride, src[:i])
		}
	}
	for ; i < len(src); i++ {
		dst[i*stride] = F32ToF16(src[i])
	}
}

// DotsF16T sets dst[j] to the dot product of q with the key at position
// j, for j < len(dst), the keys stored as kv.Cache keeps them: in blocks of
// 16 positions, block b at kt[b*stride:], holding for each of the len(q)
// channels that channel's halves at the block's 16 positions. (For one
// head of a cache of Dim channels: kt starts at the head's first channel
// times 16, and stride is Dim*16.) Positions past len(dst) in the last
// block are read but not stored. The sums are in another order than
// DotF16's, equal within float rounding.
func DotsF16T(dst []float32, q []float32, kt []uint16, stride int) {
	if len(dst) == 0 {
		return
	}
	if need := (len(dst)-1)/16*stride + 16*len(q); stride < 16*len(q) || len(kt) < need {
		panic("kernels: DotsF16T: keys shorter than the blocks of len(dst) positions")
	}
	if dotsF16TSIMD != nil && len(q) >= 8 && len(q)%8 == 0 {
		dotsF16TSIMD(dst, q, kt, stride)
		return
	}
	for j := range dst {
		blk := kt[j/16*stride+j%16:]
		var s float32
		for d, v := range q {
			s += v * F16ToF32(blk[16*d])
		}
		dst[j] = s
	}
}

// GroupedScores reports whether DotsF16TGroup has a vector path for g
// query heads per KV head (and so beats g calls of DotsF16T).
func GroupedScores(g int) bool {
	return g == 8 && dotsF16TG8SIMD != nil || g == 4 && dotsF16TG4SIMD != nil
}

// DotsF16TGroup is DotsF16T for g query heads that share a KV head: row r
// of dst (dst[r*n:(r+1)*n]) gets the n scores of head r, whose query is
// q[r*hd:(r+1)*hd] (hd = len(q)/g); each block of keys is read and
// converted once for all of them.
func DotsF16TGroup(dst []float32, n int, q []float32, g int, kt []uint16, stride int) {
	if n == 0 {
		return
	}
	hd := len(q) / g
	if len(dst) < g*n || len(q) != g*hd || stride < 16*hd || len(kt) < (n-1)/16*stride+16*hd {
		panic("kernels: DotsF16TGroup: buffers too short")
	}
	if g == 8 && hd%2 == 0 && dotsF16TG8SIMD != nil {
		dotsF16TG8SIMD(dst, n, q, kt, stride)
		return
	}
	if g == 4 && hd%4 == 0 && dotsF16TG4SIMD != nil {
		dotsF16TG4SIMD(dst, n, q, kt, stride)
		return
	}
	for r := 0; r < g; r++ {
		row := dst[r*n : (r+1)*n]
		for j := range row {
			blk := kt[j/16*stride+j%16:]
			var s float32
			for c := 0; c < hd; c++ {
				s += q[r*hd+c] * F16ToF32(blk[16*c])
			}
			row[j] = s
		}
	}
}

// AxpysF16Group is AxpysF16 for g heads that share a KV head: for each r
// < g, out[r*hd:(r+1)*hd] += p[r*n+j] * values[j*stride:j*stride+hd] for
// every j < n, in order, with hd = len(out)/g. The vector paths convert
// each value once for several heads: with AVX-512, for four heads of
// width 64 (g a multiple of 4); with AVX2, for eight heads (g a multiple
// of 8) or four (g a multiple of 4) of a width that is a multiple of 16.
// The sums are AxpysF16's, bit for bit.
func AxpysF16Group(out, p []float32, n, g int, values []uint16, stride int) {
	if n == 0 || g == 0 {
		return
	}
	hd := len(out) / g
	if len(out) != g*hd || len(p) < g*n || stride < hd || len(values) < (n-1)*stride+hd {
		panic("kernels: AxpysF16Group: buffers too short")
	}
	if hd == 64 && g%4 == 0 && axpysF16G4x64SIMD != nil {
		for r := 0; r < g; r += 4 {
			axpysF16G4x64SIMD(out[r*64:(r+4)*64], p[r*n:(r+4)*n], n, values, stride)
		}
		return
	}
	// AxpysF16's vector path, which these sum as, takes such widths.
	if hd > 0 && hd%16 == 0 && g%4 == 0 && axpysF16G8SIMD != nil {
		r := 0
		for ; r+8 <= g; r += 8 {
			axpysF16G8SIMD(out[r*hd:(r+8)*hd], p[r*n:(r+8)*n], n, values, stride)
		}
		if r < g {
			axpysF16G4SIMD(out[r*hd:(r+4)*hd], p[r*n:(r+4)*n], n, values, stride)
		}
		return
	}
	for r := 0; r < g; r++ {
		AxpysF16(out[r*hd:(r+1)*hd], p[r*n:(r+1)*n], values, stride)
	}
}

// ScaleMax multiplies every x[i] by s and returns the largest result (-Inf
// for an empty x; NaNs are passed over): the scaled scores of attention
// and the maximum softmax subtracts, in one pass.
func ScaleMax(x []float32, s float32) float32 {
	m := float32(math.Inf(-1))
	i := 0
	if scaleMaxSIMD != nil && len(x) >= 16 {
		i = len(x) &^ 15
		m = scaleMaxSIMD(x[:i], s)
	}
	for ; i < len(x); i++ {
		x[i] *= s
		if x[i] > m {
			m = x[i]
		}
	}
	return m
}

// Scale multiplies every x[i] by s.
func Scale(x []float32, s float32) {
	i := 0
	if scaleSIMD != nil && len(x) >= 16 {
		i = len(x) &^ 15
		scaleSIMD(x[:i], s)
	}
	for ; i < len(x); i++ {
		x[i] *= s
	}
}

// ScaleMul sets dst[i] = x[i] * s * w[i] (in that order) for i < len(x):
// the last step of an RMS norm. dst and w are at least as long as x; dst
// may be x.
func ScaleMul(dst, x, w []float32, s float32) {
	i := 0
	if scaleMulSIMD != nil && len(x) >= 16 {
		i = len(x) &^ 15
		_, _ = dst[i-1], w[i-1]
		scaleMulSIMD(dst[:i], x[:i], w[:i], s)
	}
	for ; i < len(x); i++ {
		dst[i] = x[i] * s * w[i]
	}
}

// DotsF16 sets dst[j] = DotF16(a, b[j*stride:]) for each j < len(dst): one
// query against a run of cached keys stored stride halves apart, in one
// call (a decode step scores every cached position of every head).
func DotsF16(dst []float32, a []float32, b []uint16, stride int) {
	if len(dst) == 0 {
		return
	}
	if need := (len(dst)-1)*stride + len(a); stride < len(a) || len(b) < need {
		panic("kernels: DotsF16: keys shorter than len(dst) strides")
	}
	if n := len(a); n >= 16 && n%16 == 0 && dotsF16SIMD != nil {
		dotsF16SIMD(dst, a, b, stride)
		return
	}
	for j := range dst {
		dst[j] = DotF16(a, b[j*stride:j*stride+len(a)])
	}
}

// AxpysF16 adds alpha[j] * b[j*stride : j*stride+len(y)] to y for each j <
// len(alpha), in order: the probability-weighted sum of cached values.
func AxpysF16(y []float32, alpha []float32, b []uint16, stride int) {
	if len(alpha) == 0 {
		return
	}
	if need := (len(alpha)-1)*stride + len(y); stride < len(y) || len(b) < need {
		panic("kernels: AxpysF16: values shorter than len(alpha) strides")
	}
	if n := len(y); n >= 16 && n%16 == 0 && axpysF16SIMD != nil {
		axpysF16SIMD(y, alpha, b, stride)
		return
	}
	for j, p := range alpha {
		AxpyF16(y, p, b[j*stride:j*stride+len(y)])
	}
}

// RoundF16 sets dst[i] to src[i] rounded to half precision (to nearest
// even), as float32; len(dst) >= len(src), and dst may be src.
func RoundF16(dst, src []float32) {
	i := 0
	if roundF16SIMD != nil && len(src) >= 16 {
		i = len(src) &^ 15
		roundF16SIMD(dst[:i], src[:i])
	}
	for ; i < len(src); i++ {
		dst[i] = f16Table[F32ToF16(src[i])]
	}
}

// SwiGLU sets gate[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + e^-x):
// the gated activation of the llama MLP. The vector path computes e^-x to
// within a unit in the last place of float32, as llama.cpp's vector silu
// does; the portable one rounds float64 math.Exp.
func SwiGLU(gate, up []float32) {
	up = up[:len(gate)]
	i := 0
	if swigluSIMD != nil && len(gate) >= 16 {
		i = len(gate) &^ 15
		swigluSIMD(gate[:i], up[:i])
	}
	for ; i < len(gate); i++ {
		g := gate[i]
		gate[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

// ExpShift sets x[i] = exp(x[i] - shift) and returns the sum of the new
// values: the exponentials of a softmax (shift is the maximum). The vector
// path's exp is swiGLU's (within an ulp of float32); the portable one
// rounds float64 math.Exp.
func ExpShift(x []float32, shift float32) float64 {
	i := 0
	var sum float64
	if expShiftSIMD != nil && len(x) >= 16 {
		i = len(x) &^ 15
		sum = float64(expShiftSIMD(x[:i], shift))
	}
	for ; i < len(x); i++ {
		e := float32(math.Exp(float64(x[i] - shift)))
		x[i] = e
		sum += float64(e)
	}
	return sum
}

// SoftmaxF16Rows replaces each of the rows of x (len(x)/rows values, one
// row after another) by softmax(scale*row) rounded to half precision: the
// attention probabilities that meet an F16 cache's values, as llama.cpp
// computes them (scaled scores, e^(v-max) over their sum). The vector path
// takes a row's last len%16 values under a mask instead of in scalar
// code, so its results can differ from ScaleMax, ExpShift, Scale and
// RoundF16 in turn by the rounding of those values' exponentials.
func SoftmaxF16Rows(x []float32, rows int, scale float32) {
	if rows <= 0 || len(x) == 0 {
		return
	}
	n := len(x) / rows
	if n*rows != len(x) {
		panic(fmt.Sprintf("kernels: SoftmaxF16Rows: %d rows do not divide %d values", rows, len(x)))
	}
	if softmaxF16RowsSIMD != nil {
		softmaxF16RowsSIMD(x, rows, n, scale)
		return
	}
	for r := 0; r < rows; r++ {
		row := x[r*n : (r+1)*n]
		m := ScaleMax(row, scale)
		Scale(row, float32(1/ExpShift(row, m)))
		RoundF16(row, row)
	}
}

// The vector paths; nil when the CPU has none. The run versions take a
// length that is a positive multiple of 16 and bounds already checked.
var (
	roundF16SIMD func(dst, src []float32)
	swigluSIMD   func(gate, up []float32)
	expShiftSIMD func(x []float32, shift float32) float32
	// softmaxF16RowsSIMD takes rows*n values, n > 0.
	softmaxF16RowsSIMD func(x []float32, rows, n int, scale float32)
	dotF16SIMD         func(a []float32, b []uint16) float32
	axpyF16SIMD        func(y []float32, alpha float32, x []uint16)
	dotsF16SIMD        func(dst, a []float32, b []uint16, stride int)
	axpysF16SIMD       func(y, alpha []float32, b []uint16, stride int)
	f32ToF16SIMD       func(dst []uint16, src []float32)
	// f32ToF16StridedSIMD is F32ToF16Strided for a multiple of 16 values,
	// bounds already checked.
	f32ToF16StridedSIMD func(dst []uint16, stride int, src []float32)
	scaleMulSIMD        func(dst, x, w []float32, s float32)
	scaleMaxSIMD        func(x []float32, s float32) float32
	scaleSIMD           func(x []float32, s float32)
	dotsF16TSIMD        func(dst, q []float32, kt []uint16, stride int)
	// axpysF16G4x64SIMD is AxpysF16Group for four heads of width 64.
	axpysF16G4x64SIMD func(out, p []float32, n int, v []uint16, stride int)
	// axpysF16G8SIMD and axpysF16G4SIMD are AxpysF16Group for eight and
	// four heads of a width that is a multiple of 16 (AVX2); both are set
	// or neither.
	axpysF16G8SIMD func(out, p []float32, n int, v []uint16, stride int)
	axpysF16G4SIMD func(out, p []float32, n int, v []uint16, stride int)
	// dotsF16TG4SIMD is DotsF16TGroup for g = 4 and a head width that is a
	// multiple of 4.
	dotsF16TG4SIMD func(dst []float32, n int, q []float32, kt []uint16, stride int)
	// dotsF16TG8SIMD is DotsF16TGroup for g = 8 and an even head width.
	dotsF16TG8SIMD func(dst []float32, n int, q []float32, kt []uint16, stride int)
)
