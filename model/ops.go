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

// swiglu sets gate[i] = silu(gate[i]) * up[i], split over the cores in
// pieces of swigluPiece values when there are at least two: an
// exponential and a division a value, a decoded token's 5632 values took
// 10 µs of one Zen 1 core while the other waited, 22 times a token of
// TinyLlama. The pieces are whole vectors of the SIMD loop, so the values
// are those of one call over the whole.
func (m *Transformer) swiglu(gate, up []float32) {
	if len(gate) < 2*swigluPiece {
		kernels.SwiGLU(gate, up)
		return
	}
	s := &m.s
	s.swigluGate, s.swigluUp = gate, up
	kernels.ParallelFor((len(gate)+swigluPiece-1)/swigluPiece, s.swigluPartF)
	s.swigluGate, s.swigluUp = nil, nil
}

// swigluPiece is the values of one piece of a parallel swiglu (a multiple
// of every SIMD loop's vector).
const swigluPiece = 1024

// swigluPart computes piece i of the swiglu that m.swiglu hands out.
func (s *scratch) swigluPart(_, i int) {
	lo, hi := i*swigluPiece, min((i+1)*swigluPiece, len(s.swigluGate))
	kernels.SwiGLU(s.swigluGate[lo:hi], s.swigluUp[lo:hi])
}

// addTo adds src to dst (the residual connections). x + 1*y is x + y
// exactly, so the vector multiply-add of AxpyF32 gives the plain sums.
func addTo(dst, src []float32) { kernels.AxpyF32(dst, 1, src) }

// axpy adds a*x to y.
func axpy(y []float32, a float32, x []float32) { kernels.AxpyF32(y, a, x) }

// roundF16 rounds x to half precision in place.
func roundF16(x []float32) { kernels.RoundF16(x, x) }
