package kernels

import (
	"math/rand/v2"
	"time"

	"ferry/dtype"
)

// cacheSliceBytes is the most weight bytes each participant of CacheRate
// runs over: small enough to stay in a core's L2 (512 KiB on a Zen 1, 1-2
// MiB on later cores) beside the activations.
const cacheSliceBytes = 192 << 10

// cacheRateBytes is about how many weight bytes each participant runs
// over in one timed pass of CacheRate.
const cacheRateBytes = 4 << 20

// CacheRate returns the rate, in bytes per second, at which the
// participants of a product (Participants) together run the kernel of a
// single vector's product over the weights w, rows of cols values of type
// t (a layout Pack chose, or a GGUF type), when the weights are in their
// caches: each participant repeats the product over a slice of its own of
// w, up to 192 KiB, and the rate is the sum of the participants' rates,
// the best of three passes. It is the speed the products could reach were
// the memory infinitely fast: the compute bound, beside the memory's. It
// allocates (the activations and outputs), so it is for benchmarks, not
// the per-token loop. It panics on a type without a kernel or when w holds
// less than one unit of rows.
func CacheRate(t dtype.Type, w []byte, cols int) float64 {
	k := lookup(t)
	rb := k.rowBytes(cols) * k.unitRows()
	units := len(w) / rb
	if units == 0 {
		panic("kernels: CacheRate: less than one unit of rows")
	}
	parts := Participants()
	per := max(1, min(cacheSliceBytes/rb, units/parts))
	r := rand.New(rand.NewPCG(uint64(cols), uint64(t)))
	x := make([]float32, cols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	act := k.actFor(1)
	xq := make([]byte, actBytes(act, cols))
	prepare(act, xq, x)
	ys := make([][]float32, parts)
	for i := range ys {
		ys[i] = make([]float32, per*k.unitRows())
	}
	reps := max(1, cacheRateBytes/(per*rb))
	rates := make([]float64, parts)
	run := func(_, i int) {
		// Slice i starts i slices in, wrapping round when w is short.
		off := i * per % max(units-per+1, 1)
		ws := w[off*rb : (off+per)*rb]
		k.vec(ys[i], ws, rb, xq) // into the cache
		start := time.Now()
		for range reps {
			k.vec(ys[i], ws, rb, xq)
		}
		if d := time.Since(start).Seconds(); d > 0 {
			rates[i] = float64(reps*len(ws)) / d
		}
	}
	best := 0.0
	for range 3 {
		clear(rates)
		ParallelFor(parts, run)
		sum := 0.0
		for _, v := range rates {
			sum += v
		}
		best = max(best, sum)
	}
	return best
}
