package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"ferry/dtype"
	"ferry/kernels"
)

var allTypes = []dtype.Type{
	dtype.F32, dtype.F16, dtype.BF16, dtype.Q8_0, dtype.Q4_0, dtype.Q4_1,
	dtype.Q5_0, dtype.Q5_1, dtype.Q2_K, dtype.Q3_K, dtype.Q4_K, dtype.Q5_K,
	dtype.Q6_K, dtype.Q8_K,
}

// maxNRMSE bounds the round-trip error (RMS of the error over RMS of the
// input) on Gaussian data. Measured values (seed 1, 8192 values) are in the
// comments; the bounds leave about 10-15% of margin, so a quantizer that
// loses a fraction of a bit of quality fails.
var maxNRMSE = map[dtype.Type]float64{
	dtype.F32:  0,      // 0
	dtype.F16:  2.4e-4, // 0.00021
	dtype.BF16: 1.9e-3, // 0.00166
	dtype.Q8_0: 0.0060, // 0.00527
	dtype.Q4_0: 0.097,  // 0.0850
	dtype.Q4_1: 0.089,  // 0.0777
	dtype.Q5_0: 0.048,  // 0.0422
	dtype.Q5_1: 0.043,  // 0.0377
	dtype.Q2_K: 0.33,   // 0.294
	dtype.Q3_K: 0.17,   // 0.149
	dtype.Q4_K: 0.081,  // 0.0710
	dtype.Q5_K: 0.041,  // 0.0358
	dtype.Q6_K: 0.020,  // 0.0176
	dtype.Q8_K: 0.0077, // 0.00675
}

func gaussian(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func nrmse(got, want []float32) float64 {
	var se, ss float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		se += d * d
		ss += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(se / ss)
}

func roundTrip(t *testing.T, typ dtype.Type, x []float32) []float32 {
	t.Helper()
	q, err := Quantize(typ, x)
	if err != nil {
		t.Fatalf("%v: %v", typ, err)
	}
	if n, _ := typ.RowBytes(len(x)); len(q) != n {
		t.Fatalf("%v: %d bytes, want %d", typ, len(q), n)
	}
	y := make([]float32, len(x))
	kernels.Dequantize(y, q, typ)
	return y
}

func TestRoundTripError(t *testing.T) {
	x := gaussian(1, 8192)
	for _, typ := range allTypes {
		y := roundTrip(t, typ, x)
		e := nrmse(y, x)
		t.Logf("%-5v NRMSE %.5f (bound %.5f)", typ, e, maxNRMSE[typ])
		if e > maxNRMSE[typ] || math.IsNaN(e) {
			t.Errorf("%v: round-trip NRMSE %.5f exceeds %.5f", typ, e, maxNRMSE[typ])
		}
	}
}

// TestRoundTripScaled checks the bounds hold for data of other magnitudes and
// with a non-zero mean (which exercises the min/offset of the _1 and K types).
func TestRoundTripScaled(t *testing.T) {
	base := gaussian(2, 4096)
	for _, c := range []struct{ scale, shift float32 }{{1e-3, 0}, {40, 0}, {0.02, 0.01}} {
		x := make([]float32, len(base))
		for i, v := range base {
			x[i] = v*c.scale + c.shift
		}
		for _, typ := range allTypes {
			y := roundTrip(t, typ, x)
			e := nrmse(y, x)
			if e > maxNRMSE[typ]*1.15 || math.IsNaN(e) {
				t.Errorf("%v scale %g shift %g: NRMSE %.5f exceeds %.5f", typ, c.scale, c.shift, e, maxNRMSE[typ]*1.15)
			}
		}
	}
}

// TestEdgeBlocks feeds all-zero, constant and outlier blocks: the output must
// be finite, zeros must stay zero, and a constant block must come back close.
func TestEdgeBlocks(t *testing.T) {
	const n = 512
	zero := make([]float32, n)
	cst := make([]float32, n)
	outlier := gaussian(3, n)
	for i := range cst {
		cst[i] = 0.75
	}
	outlier[7] = 1000
	outlier[300] = -1000
	for _, typ := range allTypes {
		y := roundTrip(t, typ, zero)
		for i, v := range y {
			if v != 0 {
				t.Fatalf("%v: zero input decodes to %v at %d", typ, v, i)
			}
		}
		y = roundTrip(t, typ, cst)
		for i, v := range y {
			if math.Abs(float64(v)-0.75) > 0.75*0.05 {
				t.Fatalf("%v: constant 0.75 decodes to %v at %d", typ, v, i)
			}
		}
		y = roundTrip(t, typ, outlier)
		for i, v := range y {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%v: outlier block decodes to %v at %d", typ, v, i)
			}
		}
		if math.Abs(float64(y[7])-1000) > 1000*0.05 || math.Abs(float64(y[300])+1000) > 1000*0.05 {
			t.Errorf("%v: outliers decode to %v, %v", typ, y[7], y[300])
		}
	}
}

func TestQuantizeIntoAndErrors(t *testing.T) {
	x := gaussian(4, 512)
	for _, typ := range allTypes {
		want, err := Quantize(typ, x)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(want)+7)
		for i := range buf {
			buf[i] = 0xAA
		}
		n, err := QuantizeInto(buf, typ, x)
		if err != nil || n != len(want) {
			t.Fatalf("%v: QuantizeInto = %d, %v", typ, n, err)
		}
		if string(buf[:n]) != string(want) {
			t.Errorf("%v: QuantizeInto differs from Quantize", typ)
		}
		for _, b := range buf[n:] {
			if b != 0xAA {
				t.Fatalf("%v: QuantizeInto wrote past its %d bytes", typ, n)
			}
		}
		if _, err := QuantizeInto(buf[:len(want)-1], typ, x); err == nil {
			t.Errorf("%v: short dst accepted", typ)
		}
		if typ.BlockSize() > 1 {
			if _, err := Quantize(typ, x[:typ.BlockSize()+1]); err == nil {
				t.Errorf("%v: partial block accepted", typ)
			}
		}
	}
	if _, err := Quantize(dtype.I32, x); err == nil {
		t.Error("I32 accepted")
	}
	if Supported(dtype.Q8_1) || !Supported(dtype.Q4_K) {
		t.Error("Supported is wrong")
	}
}

// TestQ8_0Exact checks a hand-computed Q8_0 block: amax 127 gives d = 1 and
// q = round(x), half away from zero.
func TestQ8_0Exact(t *testing.T) {
	x := make([]float32, 32)
	x[0] = 127
	x[1] = -2.5
	x[2] = 2.5
	x[3] = 0.49
	x[4] = -127
	q, _ := Quantize(dtype.Q8_0, x)
	want := []byte{0x00, 0x3C, 127, 0xFD, 3, 0, 0x81}
	if string(q[:7]) != string(want) {
		t.Errorf("Q8_0 block = % x, want % x", q[:7], want)
	}
}

// TestQ4_0Exact: max magnitude -8 gives d = 1 (0x3C00) and q = x + 8.
func TestQ4_0Exact(t *testing.T) {
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i%16) - 8
	}
	q, _ := Quantize(dtype.Q4_0, x)
	if q[0] != 0x00 || q[1] != 0x3C {
		t.Fatalf("d = % x, want 00 3c", q[:2])
	}
	for j := 0; j < 16; j++ {
		if want := byte(j) | byte(j)<<4; q[2+j] != want {
			t.Errorf("qs[%d] = %#x, want %#x", j, q[2+j], want)
		}
	}
}

func BenchmarkQuantize(b *testing.B) {
	x := gaussian(5, 4096)
	for _, typ := range []dtype.Type{dtype.Q8_0, dtype.Q4_0, dtype.Q4_K, dtype.Q6_K} {
		dst := make([]byte, 4096*4)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(4 * 4096)
			for b.Loop() {
				if _, err := QuantizeInto(dst, typ, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
