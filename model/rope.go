package model

import "math"

// Rope applies rotary position embeddings to the heads of one vector.
type Rope struct {
	style RopeStyle
	dim   int       // rotated dimensions per head
	freq  []float32 // angle per position of each rotated pair
}

// newRope precomputes the pair frequencies: base^(-2i/dim) * scale, divided by
// the per-pair factors when the model carries rope_freqs.
func newRope(style RopeStyle, dim int, base, scale float32, factors []float32) *Rope {
	r := &Rope{style: style, dim: dim, freq: make([]float32, dim/2)}
	for i := range r.freq {
		f := math.Pow(float64(base), -2*float64(i)/float64(dim)) * float64(scale)
		if i < len(factors) && factors[i] != 0 {
			f /= float64(factors[i])
		}
		r.freq[i] = float32(f)
	}
	return r
}

// Apply rotates each head (headDim wide) of x as position pos.
func (r *Rope) Apply(x []float32, headDim, pos int) {
	half := r.dim / 2
	for h := 0; h+headDim <= len(x); h += headDim {
		head := x[h : h+headDim]
		for i := 0; i < half; i++ {
			theta := float64(pos) * float64(r.freq[i])
			sin, cos := math.Sincos(theta)
			c, s := float32(cos), float32(sin)
			var a, b int
			if r.style == RopeNeoX {
				a, b = i, i+half
			} else {
				a, b = 2*i, 2*i+1
			}
			x0, x1 := head[a], head[b]
			head[a] = x0*c - x1*s
			head[b] = x0*s + x1*c
		}
	}
}
