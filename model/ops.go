package model

import (
	"math"

	"ferry/kernels"
)

// rmsNorm writes x / rms(x) * weight into out for each of the n rows of x.
func rmsNorm(out, x, weight []float32, eps float32) {
	d := len(weight)
	for r := 0; r+d <= len(x); r += d {
		row := x[r : r+d]
		ss := float64(kernels.DotF32(row, row))
		scale := float32(1 / math.Sqrt(ss/float64(d)+float64(eps)))
		kernels.ScaleMul(out[r:r+d], row, weight, scale)
	}
}

// softmax replaces x by exp(x - max) / sum.
func softmax(x []float32) { scaledSoftmax(x, 1) }

// scaledSoftmax replaces x by softmax(s*x), scaling first as llama.cpp's
// soft_max_ext does (attention scores times 1/sqrt(head dim)).
func scaledSoftmax(x []float32, s float32) {
	maxv := kernels.ScaleMax(x, s)
	kernels.Scale(x, float32(1/kernels.ExpShift(x, maxv)))
}

// sigmoid returns 1 / (1 + e^-x).
func sigmoid(x float32) float32 { return 1 / (1 + float32(math.Exp(float64(-x)))) }

// swiglu sets gate[i] = silu(gate[i]) * up[i].
func swiglu(gate, up []float32) { kernels.SwiGLU(gate, up) }

// addTo adds src to dst (the residual connections). x + 1*y is x + y
// exactly, so the vector multiply-add of AxpyF32 gives the plain sums.
func addTo(dst, src []float32) { kernels.AxpyF32(dst, 1, src) }

// axpy adds a*x to y.
func axpy(y []float32, a float32, x []float32) { kernels.AxpyF32(y, a, x) }

// roundF16 rounds x to half precision in place.
func roundF16(x []float32) { kernels.RoundF16(x, x) }
