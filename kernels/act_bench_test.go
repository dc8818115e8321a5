package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkPrepare times the preparation of one activation vector in each
// form the decode products of a llama-shaped model take (a 2048-value
// input, and a 5632-value one for the MLP's down product): serial work a
// core does between two products while the memory waits.
func BenchmarkPrepare(b *testing.B) {
	r := rand.New(rand.NewPCG(21, 22))
	kinds := []struct {
		name string
		a    actKind
	}{{"Q8_0", actQ8_0}, {"Q8_K", actQ8_K}, {"Q8_KP", actQ8_KP}, {"Q8_KB", actQ8_KB}, {"Q8_0B", actQ8_0B}, {"Q8_0X", actQ8_0X}}
	for _, cols := range []int{2048, 5632} {
		x := make([]float32, cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for _, k := range kinds {
			dst := make([]byte, actBytes(k.a, cols))
			b.Run(fmt.Sprintf("%s/%d", k.name, cols), func(b *testing.B) {
				b.SetBytes(int64(4 * cols))
				for b.Loop() {
					prepare(k.a, dst, x)
				}
			})
		}
	}
}
