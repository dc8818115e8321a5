package kernels_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"ferry/kernels"
)

func TestF16Known(t *testing.T) {
	cases := []struct {
		h uint16
		f float32
	}{
		{0x0000, 0},
		{0x3C00, 1},
		{0xC000, -2},
		{0x3800, 0.5},
		{0x3555, 0.333251953125},
		{0x7BFF, 65504},
		{0xFBFF, -65504},
		{0x0400, 1.0 / (1 << 14)},       // smallest normal
		{0x0001, 1.0 / (1 << 24)},       // smallest subnormal
		{0x03FF, 1023.0 / (1 << 24)},    // largest subnormal
		{0x8001, -1.0 / (1 << 24)},      // negative subnormal
		{0x3C01, 1 + 1.0/1024},          // next after 1
		{0x7C00, float32(math.Inf(1))},  // +Inf
		{0xFC00, float32(math.Inf(-1))}, // -Inf
		{0x5640, 100},                   // 100 = 1.5625 * 2^6
		{0xB0CD, -0.1500244140625},      // -0.15 rounded
	}
	for _, c := range cases {
		if got := kernels.F16ToF32(c.h); got != c.f {
			t.Errorf("F16ToF32(%#04x) = %v, want %v", c.h, got, c.f)
		}
		if got := kernels.F32ToF16(c.f); got != c.h {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	if got := kernels.F16ToF32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("F16ToF32(0x8000) = %v, want -0", got)
	}
	if got := kernels.F32ToF16(float32(math.Copysign(0, -1))); got != 0x8000 {
		t.Errorf("F32ToF16(-0) = %#04x, want 0x8000", got)
	}
	if f := kernels.F16ToF32(0x7E00); !math.IsNaN(float64(f)) {
		t.Errorf("F16ToF32(0x7E00) = %v, want NaN", f)
	}
	if h := kernels.F32ToF16(float32(math.NaN())); h&0x7C00 != 0x7C00 || h&0x3FF == 0 {
		t.Errorf("F32ToF16(NaN) = %#04x, not a NaN", h)
	}
	// A signalling NaN whose payload sits in the low bits must stay NaN.
	if h := kernels.F32ToF16(math.Float32frombits(0x7F800001)); h&0x3FF == 0 {
		t.Errorf("F32ToF16(sNaN) = %#04x, became Inf", h)
	}
}

func TestF16Rounding(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{
		{1 + 1.0/2048, 0x3C00},               // tie between 0x3C00 and 0x3C01: even
		{1 + 3.0/2048, 0x3C02},               // tie between 0x3C01 and 0x3C02: even
		{1 + 1.0/2048 + 1.0/(1<<20), 0x3C01}, // just above the tie
		{65519, 0x7BFF},                      // below the tie with 65536
		{65520, 0x7C00},                      // tie: rounds to even = Inf
		{1e6, 0x7C00},                        // overflow
		{-1e6, 0xFC00},
		{1.0 / (1 << 25), 0x0000}, // half the smallest subnormal: tie to 0
		{1.0/(1<<25) + 1.0/(1<<35), 0x0001},
		{3.0 / (1 << 25), 0x0002}, // 1.5 subnormal units: tie to even 2
		{5.0 / (1 << 25), 0x0002}, // 2.5 units: tie to even 2
		{1.0 / (1 << 26), 0x0000}, // underflow
		{float32(math.SmallestNonzeroFloat32), 0x0000},
		{2047.0 / (1 << 25), 0x0400}, // rounds up from subnormal to min normal
	}
	for _, c := range cases {
		if got := kernels.F32ToF16(c.f); got != c.h {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
}

// TestF16Exhaustive: every half value converts to float32 and back unchanged,
// and for random float32 values F32ToF16 picks the nearest half (ties even).
func TestF16Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := kernels.F16ToF32(h)
		if math.IsNaN(float64(f)) {
			if h&0x7C00 != 0x7C00 || h&0x3FF == 0 {
				t.Fatalf("%#04x decodes to NaN", h)
			}
			continue
		}
		if back := kernels.F32ToF16(f); back != h {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		// Values spread over the whole half range, subnormals included.
		f := float32(math.Ldexp(r.Float64()*2-1, r.IntN(48)-30))
		h := kernels.F32ToF16(f)
		got := float64(kernels.F16ToF32(h))
		if math.IsInf(got, 0) {
			if math.Abs(float64(f)) < 65520 {
				t.Fatalf("F32ToF16(%v) overflowed", f)
			}
			continue
		}
		err := math.Abs(got - float64(f))
		for _, nb := range []uint16{h - 1, h + 1} {
			if nb&0x7C00 == 0x7C00 || (h&0x7FFF == 0 && nb == h-1) {
				continue
			}
			alt := float64(kernels.F16ToF32(nb))
			if e := math.Abs(alt - float64(f)); e < err || (e == err && h&1 == 1) {
				t.Fatalf("F32ToF16(%v) = %#04x (%v), but %#04x (%v) is nearer or even", f, h, got, nb, alt)
			}
		}
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{
		{1, 0x3F80},
		{-2, 0xC000},
		{0.5, 0x3F00},
		{math.Float32frombits(0x3F808000), 0x3F80}, // tie: even (down)
		{math.Float32frombits(0x3F818000), 0x3F82}, // tie: even (up)
		{math.Float32frombits(0x3F808001), 0x3F81}, // above the tie
		{math.Float32frombits(0x3F807FFF), 0x3F80}, // below the tie
		{float32(math.Inf(1)), 0x7F80},
		{float32(math.Inf(-1)), 0xFF80},
		{math.Float32frombits(0x7F7FFFFF), 0x7F80}, // max float rounds to Inf
		{math.Float32frombits(0x00000001), 0x0000}, // subnormal rounds to 0
		{math.Float32frombits(0x00018000), 0x0002}, // subnormal tie to even
	}
	for _, c := range cases {
		if got := kernels.F32ToBF16(c.f); got != c.h {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", math.Float32bits(c.f), got, c.h)
		}
	}
	for _, h := range []uint16{0x3F80, 0xC000, 0x7F80, 0x0001, 0x4049} {
		if got, want := kernels.BF16ToF32(h), math.Float32frombits(uint32(h)<<16); got != want {
			t.Errorf("BF16ToF32(%#04x) = %v, want %v", h, got, want)
		}
	}
	// NaNs, including one whose payload would be lost by truncation, stay NaN.
	for _, bits := range []uint32{0x7FC00000, 0x7F800001, 0xFF800001} {
		h := kernels.F32ToBF16(math.Float32frombits(bits))
		if !math.IsNaN(float64(kernels.BF16ToF32(h))) {
			t.Errorf("F32ToBF16(%#08x) = %#04x, not NaN", bits, h)
		}
	}
}
