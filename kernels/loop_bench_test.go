package kernels

import (
	"math/rand/v2"
	"testing"

	"ferry/dtype"
)

// BenchmarkLoopCache runs the installed row loop of each type, packed
// layouts included, on one thread over a 2048-column matrix of about 256
// KiB that stays in the core's L2 cache: the loops' arithmetic speed in
// weight bytes per second, the rate a core could keep up with. Layouts
// that Pack does not choose on this CPU are left out, and the loops run
// without software prefetch. (Weights
// are random bytes: the loops' speed does not depend on the values.)
func BenchmarkLoopCache(b *testing.B) {
	// No software prefetch: the matrix is in L2 already, and prefetches
	// past its end would only take the loops' time.
	defer streamPrefetch.Store(streamPrefetch.Load())
	streamPrefetch.Store(0)
	types := []dtype.Type{dtype.Q4_K, q4KX16, q4KX8, q4KX8B, dtype.Q8_0, q8X16, q8X8, dtype.Q6_K, q6KX16, q6KX8, q6KX8B, dtype.Q5_K, q5KX8, q5KX8B, dtype.Q4_0, q40X8, q40X8B, dtype.Q4_1, q41X8, q41X8B, dtype.Q5_0, q50X8, q50X8B, dtype.Q5_1, q51X8, q51X8B, dtype.Q2_K, q2KX8, q2KX8B, dtype.Q3_K, q3KX8, q3KX8B, dtype.F16, f16X16, dtype.BF16, dtype.F32}
	names := map[dtype.Type]string{q4KX16: "Q4_K-x16", q4KX8: "Q4_K-x8", q4KX8B: "Q4_K-x8b", q8X16: "Q8_0-x16", q8X8: "Q8_0-x8", q6KX16: "Q6_K-x16", q6KX8: "Q6_K-x8", q6KX8B: "Q6_K-x8b", q5KX8: "Q5_K-x8", q5KX8B: "Q5_K-x8b", q2KX8: "Q2_K-x8", q2KX8B: "Q2_K-x8b", q3KX8: "Q3_K-x8", q3KX8B: "Q3_K-x8b", q40X8: "Q4_0-x8", q40X8B: "Q4_0-x8b", q50X8B: "Q5_0-x8b", q41X8B: "Q4_1-x8b", q51X8B: "Q5_1-x8b", q50X8: "Q5_0-x8", q41X8: "Q4_1-x8", q51X8: "Q5_1-x8", f16X16: "F16-x16"}
	for _, typ := range types {
		name := names[typ]
		if name != "" && !packedFast[typ] {
			continue // no loop for the layout on this CPU: Pack never chooses it
		}
		if name == "" {
			name = typ.String()
		}
		k := lookup(typ)
		const cols = 2048
		rb := k.rowBytes(cols)
		rows := (256 << 10) / rb &^ 15
		r := rand.New(rand.NewPCG(1, 2))
		w := make([]byte, rows*rb)
		for i := range w {
			w[i] = byte(r.IntN(256))
		}
		if typ == dtype.F16 || typ == f16X16 || typ == dtype.BF16 {
			for i := 1; i < len(w); i += 2 {
				w[i] &= 0x3b // finite values
			}
		}
		if typ == dtype.F32 {
			for i := 3; i < len(w); i += 4 {
				w[i] = 0x3e | w[i]&0x80 // normal values
			}
		}
		x := make([]float32, cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		xq := make([]byte, actBytes(k.act, cols))
		prepare(k.act, xq, x)
		y := make([]float32, rows)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				k.vec(y, w, rb*k.unitRows(), xq)
			}
		})
	}
}
