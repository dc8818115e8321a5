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
	// Held, when set, is a private copy of the weight's bytes that the model
	// keeps outside the tier (MoE routers, which speculative prefetch reads
	// out of schedule order).
	Held []byte
}

// Forward computes y = W x + b for n input vectors stored back to back in x.
func (l *Linear) Forward(m *Transformer, y, x []float32, n int) {
	if l.Held != nil {
		kernels.MatMul(y[:n*l.Out()], l.Held, l.Weight.Type, x, n)
	} else {
		matmulRows(m, l.Weight, 0, l.Weight.Rows(), y, x, n)
	}
	l.addBias(y, n)
}

// addBias adds the bias, if any, to each of the n outputs in y.
func (l *Linear) addBias(y []float32, n int) {
	if l.Bias == nil {
		return
	}
	out := len(l.Bias)
	for i := 0; i < n; i++ {
		addTo(y[i*out:(i+1)*out], l.Bias)
	}
}

// Out returns the output width.
func (l *Linear) Out() int { return l.Weight.Rows() }

// forwardShared computes ys[i] = ls[i] x for linears that read the same
// input (attention's Q, K and V; the MLP's gate and up). When every weight
// is held in memory they run as one product over the worker pool
// (kernels.MatMuls), which saves a barrier and keeps the cores busy through
// the small matrices; otherwise one after another, so that streamed spans
// are acquired in schedule order.
func forwardShared(m *Transformer, x []float32, n int, ls []*Linear, ys [][]float32) {
	for _, l := range ls {
		if l.Held != nil || !l.Weight.Resident() || (n > 1 && l.Weight.Spans() > 1) {
			for i, l := range ls {
				l.Forward(m, ys[i], x, n)
			}
			return
		}
	}
	ps := m.s.products[:0]
	for i, l := range ls {
		t := l.Weight
		y := ys[i][:n*t.Rows()]
		for sp := 0; sp < t.Spans(); sp++ {
			r0, r1 := t.SpanRows(sp)
			if n == 1 {
				y = ys[i][r0:r1]
			}
			ps = append(ps, kernels.Product{Y: y, W: t.Acquire(sp)[:(r1-r0)*t.RowBytes()], Type: t.SpanType(sp)})
		}
	}
	kernels.MatMuls(ps, x, n)
	clear(ps)
	m.s.products = ps[:0]
	for i, l := range ls {
		for sp := 0; sp < l.Weight.Spans(); sp++ {
			l.Weight.Release(sp)
		}
		l.addBias(ys[i], n)
	}
}

// Experts is a stack of same-shaped matrices, one per expert, stored as one
// tensor of shape [in, out, experts].
type Experts struct {
	Weight *tier.Tensor
}

// Forward computes y = W_e x for expert e and n inputs.
func (e *Experts) Forward(m *Transformer, expert int, y, x []float32, n int) {
	rows := e.Weight.Shape[1]
	matmulRows(m, e.Weight, expert*rows, (expert+1)*rows, y, x, n)
}

// Out returns the output width of one expert.
func (e *Experts) Out() int { return e.Weight.Shape[1] }

// matmulRows computes, for each of the n inputs in x, the outputs of rows
// [lo, hi) of t into y (n rows of hi-lo values), span by span, acquiring each
// span from the tier just before it is used.
func matmulRows(m *Transformer, t *tier.Tensor, lo, hi int, y, x []float32, n int) {
	width := hi - lo
	rb := t.RowBytes()
	for i := 0; i < t.Spans(); i++ {
		r0, r1 := t.SpanRows(i)
		if r1 <= lo || r0 >= hi {
			continue
		}
		a, b := max(r0, lo), min(r1, hi)
		data, typ := t.Acquire(i), t.SpanType(i)
		w := data[(a-r0)*rb : (b-r0)*rb]
		switch {
		case n == 1:
			kernels.MatVec(y[a-lo:b-lo], w, typ, x)
		case a == lo && b == hi:
			kernels.MatMul(y[:n*width], w, typ, x, n)
		default:
			// Part of the rows: compute into scratch, then place each input's slice.
			k := b - a
			tmp := m.s.spanTmp(n * k)
			kernels.MatMul(tmp, w, typ, x, n)
			for j := 0; j < n; j++ {
				copy(y[j*width+a-lo:j*width+b-lo], tmp[j*k:(j+1)*k])
			}
		}
		t.Release(i)
	}
}

// willMultiply tells the kernels' pool which product follows the next one
// in a decode step (kernels.WillMultiply), when the weights of ls are all
// held in memory.
func willMultiply(m *Transformer, n int, ls ...*Linear) {
	if n != 1 || len(ls) == 0 {
		return
	}
	ps := m.s.hints[:0]
	for _, l := range ls {
		t := l.Weight
		if l.Held != nil || !t.Resident() {
			return
		}
		for sp := 0; sp < t.Spans(); sp++ {
			r0, r1 := t.SpanRows(sp)
			ps = append(ps, kernels.Product{W: t.Acquire(sp)[:(r1-r0)*t.RowBytes()], Type: t.SpanType(sp)})
		}
	}
	kernels.WillMultiply(ps)
	clear(ps)
	m.s.hints = ps[:0]
}
