package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRotate checks RotatePairs and RotateHalves against the rotation in
// float64, and the vector paths bit for bit against the portable loops,
// for full and partial rotation and for widths the vector paths leave to
// the loops.
func TestRotate(t *testing.T) {
	if simdActive && (ropePairsSIMD == nil || ropeHalvesSIMD == nil) {
		t.Fatal("vector paths active but the vector RoPE not installed")
	}
	r := rand.New(rand.NewPCG(21, 22))
	type rotate func(x []float32, headDim int, cos, sin []float32)
	for _, style := range []struct {
		name     string
		f        rotate
		simd     *func(x []float32, headDim int, cos, sin []float32)
		partners func(i, half int) (int, int)
	}{
		{"pairs", RotatePairs, &ropePairsSIMD, func(i, _ int) (int, int) { return 2 * i, 2*i + 1 }},
		{"halves", RotateHalves, &ropeHalvesSIMD, func(i, half int) (int, int) { return i, i + half }},
	} {
		for _, sh := range []struct{ heads, headDim, half int }{
			{32, 64, 32}, {4, 128, 64}, {3, 64, 16}, {5, 80, 40}, {2, 12, 6}, {1, 16, 8},
		} {
			x := make([]float32, sh.heads*sh.headDim)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			cos, sin := make([]float32, sh.half), make([]float32, sh.half)
			for i := range cos {
				a := r.Float64() * 2 * math.Pi
				cos[i], sin[i] = float32(math.Cos(a)), float32(math.Sin(a))
			}
			got := append([]float32(nil), x...)
			style.f(got, sh.headDim, cos, sin)
			for h := 0; h < sh.heads; h++ {
				head, out := x[h*sh.headDim:(h+1)*sh.headDim], got[h*sh.headDim:(h+1)*sh.headDim]
				rotated := make([]bool, sh.headDim)
				for i := 0; i < sh.half; i++ {
					a, b := style.partners(i, sh.half)
					rotated[a], rotated[b] = true, true
					c, s := float64(cos[i]), float64(sin[i])
					wa := float64(head[a])*c - float64(head[b])*s
					wb := float64(head[a])*s + float64(head[b])*c
					if math.Abs(float64(out[a])-wa) > 1e-5 || math.Abs(float64(out[b])-wb) > 1e-5 {
						t.Fatalf("%s %+v: head %d pair %d = (%v, %v), want (%v, %v)", style.name, sh, h, i, out[a], out[b], wa, wb)
					}
				}
				for i, moved := range rotated {
					if !moved && out[i] != head[i] {
						t.Fatalf("%s %+v: head %d [%d] not rotated but changed", style.name, sh, h, i)
					}
				}
			}
			saved := *style.simd
			*style.simd = nil
			want := append([]float32(nil), x...)
			style.f(want, sh.headDim, cos, sin)
			*style.simd = saved
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s %+v: [%d] = %v, portable %v", style.name, sh, i, got[i], want[i])
				}
			}
		}
	}
}
