package kernels

// Rotary position embedding: the rotation of pairs of a head's dimensions
// by the angles of one position. The model computes the angles' cosines and
// sines once per position; these rotate every head of a query or key.

// RotatePairs rotates, in each head of x (heads are headDim apart), the
// adjacent pairs (x[2i], x[2i+1]) for i < len(cos) by the angle whose
// cosine and sine are cos[i] and sin[i] (llama's layout):
//
//	x[2i], x[2i+1] = x[2i]*cos[i] - x[2i+1]*sin[i], x[2i]*sin[i] + x[2i+1]*cos[i]
//
// Each product is rounded before the sum, in every path, so that all give
// the same bits. 2*len(cos) must not exceed headDim; len(sin) >= len(cos).
func RotatePairs(x []float32, headDim int, cos, sin []float32) {
	half := len(cos)
	heads := len(x) / headDim
	sin = sin[:half]
	if 2*half > headDim {
		panic("kernels: RotatePairs: rotated pairs wider than a head")
	}
	if ropePairsSIMD != nil && half%8 == 0 && heads > 0 {
		ropePairsSIMD(x[:heads*headDim], headDim, cos, sin)
		return
	}
	for h := 0; h < heads; h++ {
		head := x[h*headDim : h*headDim+2*half]
		for i, c := range cos {
			s := sin[i]
			x0, x1 := head[2*i], head[2*i+1]
			head[2*i] = x0*c - x1*s
			head[2*i+1] = x0*s + x1*c
		}
	}
}

// RotateHalves is RotatePairs for the pairs (x[i], x[i+len(cos)]) of each
// head (GPT-NeoX's layout, used by qwen2).
func RotateHalves(x []float32, headDim int, cos, sin []float32) {
	half := len(cos)
	heads := len(x) / headDim
	sin = sin[:half]
	if 2*half > headDim {
		panic("kernels: RotateHalves: rotated pairs wider than a head")
	}
	if ropeHalvesSIMD != nil && half%8 == 0 && heads > 0 {
		ropeHalvesSIMD(x[:heads*headDim], headDim, cos, sin)
		return
	}
	for h := 0; h < heads; h++ {
		head := x[h*headDim : h*headDim+2*half]
		for i, c := range cos {
			s := sin[i]
			x0, x1 := head[i], head[i+half]
			head[i] = x0*c - x1*s
			head[i+half] = x0*s + x1*c
		}
	}
}

// ropePairsSIMD and ropeHalvesSIMD take len(cos) a positive multiple of 8
// and whole heads; nil when the CPU has no vector path.
var ropePairsSIMD, ropeHalvesSIMD func(x []float32, headDim int, cos, sin []float32)
