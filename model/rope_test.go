package model

import (
	"math"
	"testing"
)

func TestRopeRotates(t *testing.T) {
	r := newRope(RopeNormal, 8, 10000, 1, nil, nil)
	x := []float32{1, 0, 1, 0, 1, 0, 1, 0}
	r.Apply(x, 8, 3)
	// Pair 0 turns by 3 radians (frequency 1); every pair keeps its length.
	if math.Abs(float64(x[0])-math.Cos(3)) > 1e-6 || math.Abs(float64(x[1])-math.Sin(3)) > 1e-6 {
		t.Fatalf("pair 0 = (%v, %v)", x[0], x[1])
	}
	for i := 0; i < 8; i += 2 {
		if n := math.Hypot(float64(x[i]), float64(x[i+1])); math.Abs(n-1) > 1e-6 {
			t.Fatalf("pair %d length %v", i/2, n)
		}
	}
	// NeoX pairs i with i+dim/2.
	n := newRope(RopeNeoX, 8, 10000, 1, nil, nil)
	y := []float32{1, 0, 0, 0, 0, 0, 0, 0}
	n.Apply(y, 8, 3)
	if math.Abs(float64(y[4])-math.Sin(3)) > 1e-6 {
		t.Fatalf("neox pair 0 = (%v, %v)", y[0], y[4])
	}
}

// TestYarn checks YaRN's frequencies and magnitude against its definition:
// fast pairs keep their frequency, slow ones are divided by the factor, and
// rotated values grow by 1 + 0.1 ln(factor).
func TestYarn(t *testing.T) {
	const dim, base = 128, 10000
	plain := newRope(RopeNeoX, dim, base, 1, nil, nil)
	same := newRope(RopeNeoX, dim, base, 1, nil, &Yarn{Factor: 1, OrigContext: 4096, BetaFast: 32, BetaSlow: 1, AttnFactor: 1})
	for i := range plain.freq {
		if plain.freq[i] != same.freq[i] || same.mscale != 1 {
			t.Fatalf("factor 1 changed pair %d: %v vs %v (mscale %v)", i, same.freq[i], plain.freq[i], same.mscale)
		}
	}
	y := newRope(RopeNeoX, dim, base, 1, nil, &Yarn{Factor: 4, OrigContext: 4096, BetaFast: 32, BetaSlow: 1, AttnFactor: 1})
	if y.freq[0] != plain.freq[0] {
		t.Errorf("fastest pair moved: %v vs %v", y.freq[0], plain.freq[0])
	}
	last := len(y.freq) - 1
	if math.Abs(float64(y.freq[last]*4-plain.freq[last])) > 1e-9 {
		t.Errorf("slowest pair %v, want %v / 4", y.freq[last], plain.freq[last])
	}
	for i := 1; i < len(y.freq); i++ {
		ratio := y.freq[i] / plain.freq[i]
		if ratio > 1 || ratio < 0.25-1e-6 {
			t.Fatalf("pair %d ratio %v outside [1/4, 1]", i, ratio)
		}
	}
	if want := float32(1 + 0.1*math.Log(4)); math.Abs(float64(y.mscale-want)) > 1e-6 {
		t.Errorf("mscale %v, want %v", y.mscale, want)
	}
}
