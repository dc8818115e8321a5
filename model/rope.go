package model

import (
	"math"

	"ferry/kernels"
)

// Rope applies rotary position embeddings to the heads of one vector.
type Rope struct {
	style  RopeStyle
	dim    int       // rotated dimensions per head
	freq   []float32 // angle per position of each rotated pair
	mscale float32   // YaRN's magnitude correction (1 otherwise)

	pos      int // position cos and sin were computed for, or -1
	cos, sin []float32
}

// Yarn holds YaRN's context-extension parameters (rope.scaling.type = yarn):
// pairs that turn fast keep their trained frequencies (extrapolate), slow
// ones are interpolated by 1/Factor, with a linear ramp between, and the
// rotated values are scaled by 1 + 0.1 ln(Factor), as ggml computes it.
type Yarn struct {
	Factor      float32 // context extension factor
	OrigContext int     // the context length the model was trained with
	BetaFast    float32 // ramp start, in rotations over OrigContext (32)
	BetaSlow    float32 // ramp end (1)
	AttnFactor  float32 // extra magnitude factor (1)
}

// newRope precomputes the pair frequencies: base^(-2i/dim) * scale, divided by
// the per-pair factors when the model carries rope_freqs, and reshaped by
// YaRN when y is set.
func newRope(style RopeStyle, dim int, base, scale float32, factors []float32, y *Yarn) *Rope {
	r := &Rope{style: style, dim: dim, freq: make([]float32, dim/2), mscale: 1, pos: -1,
		cos: make([]float32, dim/2), sin: make([]float32, dim/2)}
	var low, high float64
	if y != nil {
		// The pairs whose wavelength fits BetaFast (BetaSlow) rotations in the
		// original context bound the ramp (ggml_rope_yarn_corr_dims).
		corr := func(rot float32) float64 {
			return float64(dim) * math.Log(float64(y.OrigContext)/(float64(rot)*2*math.Pi)) / (2 * math.Log(float64(base)))
		}
		low = max(0, math.Floor(corr(y.BetaFast)))
		high = min(float64(dim-1), math.Ceil(corr(y.BetaSlow)))
		scale = 1 / y.Factor
		r.mscale = y.AttnFactor * float32(1+0.1*math.Log(float64(y.Factor)))
	}
	for i := range r.freq {
		extrap := math.Pow(float64(base), -2*float64(i)/float64(dim))
		if i < len(factors) && factors[i] != 0 {
			extrap /= float64(factors[i])
		}
		f := extrap * float64(scale)
		if y != nil {
			// ramp is 1 for fast pairs (extrapolate), 0 for slow ones.
			ramp := 1 - min(1, max(0, (float64(i)-low)/max(0.001, high-low)))
			f = extrap * (float64(scale)*(1-ramp) + ramp)
		}
		r.freq[i] = float32(f)
	}
	return r
}

// Apply rotates each head (headDim wide) of x as position pos.
func (r *Rope) Apply(x []float32, headDim, pos int) {
	r.At(pos)
	r.Rotate(x, headDim)
}

// At makes pos the position Rotate rotates by.
func (r *Rope) At(pos int) {
	if pos == r.pos {
		return
	}
	for i := range r.dim / 2 {
		s, c := math.Sincos(float64(pos) * float64(r.freq[i]))
		r.cos[i], r.sin[i] = float32(c)*r.mscale, float32(s)*r.mscale
	}
	r.pos = pos
}

// Rotate rotates each head (headDim wide) of x as the position last given
// to At (or Apply). It only reads r: calls on different x may run at once.
func (r *Rope) Rotate(x []float32, headDim int) {
	if r.style == RopeNeoX {
		kernels.RotateHalves(x, headDim, r.cos, r.sin)
	} else {
		kernels.RotatePairs(x, headDim, r.cos, r.sin)
	}
}
