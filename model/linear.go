package model

import (
	"ferry/kernels"
	"ferry/tier"
)

// Linear is a weight matrix (rows = outputs, each row one input-length vector)
// with an optional bias.
type Linear struct {
	Weight *tier.Tensor
	Bias   []float32
}

// Forward computes y = W x + b for n input vectors stored back to back in x.
func (l *Linear) Forward(y, x []float32, n int) {
	w := l.Weight.Acquire()
	if n == 1 {
		kernels.MatVec(y, w, l.Weight.Type, x)
	} else {
		kernels.MatMul(y, w, l.Weight.Type, x, n)
	}
	l.Weight.Release()
	if l.Bias != nil {
		out := len(l.Bias)
		for i := 0; i < n; i++ {
			addTo(y[i*out:(i+1)*out], l.Bias)
		}
	}
}

// Out returns the output width.
func (l *Linear) Out() int { return l.Weight.Rows() }

// Experts is a stack of same-shaped matrices, one per expert, stored as one
// tensor of shape [in, out, experts].
type Experts struct {
	Weight *tier.Tensor
}

// Forward computes y = W_e x for expert e and n inputs.
func (e *Experts) Forward(expert int, y, x []float32, n int) {
	t := e.Weight
	rows := t.Shape[1]
	size := rows * t.RowBytes()
	w := t.Acquire()[expert*size : (expert+1)*size]
	if n == 1 {
		kernels.MatVec(y, w, t.Type, x)
	} else {
		kernels.MatMul(y, w, t.Type, x, n)
	}
	t.Release()
}
