package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// greedyRef is the scalar loop ArgMax must agree with.
func greedyRef(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// argmaxCases returns vectors around the block size with ties, signed
// zeros, infinities and NaNs in various places.
func argmaxCases() [][]float32 {
	r := rand.New(rand.NewPCG(3, 4))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	var cases [][]float32
	for _, n := range []int{0, 1, 2, 31, 511, 512, 1023, 1024, 1025, 1536, 2047, 32000, 32001} {
		for kind := range 8 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64())
				if kind == 1 {
					x[i] = float32(r.IntN(4)) // many ties
				}
			}
			if n > 0 {
				switch kind {
				case 2:
					x[0] = nan
				case 3:
					for range 20 {
						x[r.IntN(n)] = nan
					}
				case 4:
					x[r.IntN(n)] = inf
					x[r.IntN(n)] = inf
				case 5:
					for i := range x {
						x[i] = float32(math.Inf(-1))
					}
					x[r.IntN(n)] = float32(math.Copysign(0, -1))
					x[r.IntN(n)] = 0
				case 6:
					for i := range x {
						x[i] = nan
					}
					x[n-1] = 1
				case 7:
					x[n-1] = 100 // the largest in the tail
				}
			}
			cases = append(cases, x)
		}
	}
	return cases
}

// TestArgMax checks ArgMax, with and without its vector path, against the
// scalar loop.
func TestArgMax(t *testing.T) {
	simd := maxF32SIMD
	defer func() { maxF32SIMD = simd }()
	for _, path := range []string{"installed", "portable"} {
		if path == "portable" {
			maxF32SIMD = nil
		}
		for _, x := range argmaxCases() {
			if got, want := ArgMax(x), greedyRef(x); got != want {
				t.Fatalf("%s: n=%d: ArgMax = %d (%v), want %d (%v)", path, len(x), got, x[got], want, x[want])
			}
		}
	}
}

// FuzzArgMax compares ArgMax with the scalar loop on arbitrary bit
// patterns (every NaN payload and sign included).
func FuzzArgMax(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x7f}, uint16(1500), uint16(3))
	f.Fuzz(func(t *testing.T, seed []byte, n, at uint16) {
		x := make([]float32, int(n)%5000)
		r := rand.New(rand.NewPCG(uint64(len(seed)), uint64(at)))
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for i := 0; i+4 <= len(seed) && len(x) > 0; i += 4 {
			bits := uint32(seed[i]) | uint32(seed[i+1])<<8 | uint32(seed[i+2])<<16 | uint32(seed[i+3])<<24
			x[(int(at)+i*131)%len(x)] = math.Float32frombits(bits)
		}
		if got, want := ArgMax(x), greedyRef(x); got != want {
			t.Fatalf("n=%d: ArgMax = %d (%v), want %d (%v)", len(x), got, x[got], want, x[want])
		}
	})
}

// BenchmarkArgMax is greedy decoding's pick over a 32000-token vocabulary,
// beside the scalar loop.
func BenchmarkArgMax(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 32000)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	b.Run("ArgMax", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for b.Loop() {
			ArgMax(x)
		}
	})
	b.Run("scalar", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for b.Loop() {
			greedyRef(x)
		}
	})
}
