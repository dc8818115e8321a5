package model

import (
	"math/rand/v2"
	"testing"

	"ferry/kernels"
)

// TestSwiGLUSplit checks that the swiglu split over the cores gives the
// values of one call over the whole vector, for lengths around the piece
// size and with a tail that is not a whole SIMD vector.
func TestSwiGLUSplit(t *testing.T) {
	m := &Transformer{}
	m.s.swigluPartF = m.s.swigluPart
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{5, 2*swigluPiece - 1, 2 * swigluPiece, 5632, 5632 + 13, 64 * 5632} {
		gate, up := make([]float32, n), make([]float32, n)
		for i := range gate {
			gate[i] = float32(r.NormFloat64() * 4)
			up[i] = float32(r.NormFloat64())
		}
		want := append([]float32(nil), gate...)
		kernels.SwiGLU(want, up)
		m.swiglu(gate, up)
		for i := range gate {
			if gate[i] != want[i] {
				t.Fatalf("n=%d: value %d is %v split, %v whole", n, i, gate[i], want[i])
			}
		}
		if m.s.swigluGate != nil || m.s.swigluUp != nil {
			t.Fatalf("n=%d: the operands were left in the scratch", n)
		}
	}
}
