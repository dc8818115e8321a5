package kernels_test

import (
	"math"
	"testing"

	"ferry/dtype"
	"ferry/kernels"
)

// floatActs are the types whose kernels take float activations: their SIMD
// kernels sum in a different order than the portable ones, as do those
// kernels.Reordered reports (loops with float accumulators across blocks).
var floatActs = map[dtype.Type]bool{dtype.F32: true, dtype.F16: true, dtype.BF16: true, dtype.Q8_K: true}

// inexact reports whether the SIMD kernel of typ may differ from the
// portable one by float rounding.
func inexact(typ dtype.Type) bool { return floatActs[typ] || kernels.Reordered(typ) }

// TestSIMDExact checks the accelerated kernels against the portable ones:
// bit-identical for the integer (8-bit activation) paths, within float
// rounding for the float ones. Rows and vectors include extreme values
// (all-equal, zero blocks, large outliers) besides Gaussian data.
func TestSIMDExact(t *testing.T) {
	if !kernels.SIMD() {
		t.Skip("no SIMD kernels on this machine (or FERRY_NOSIMD set)")
	}
	for _, typ := range allTypes {
		for _, cols := range colsFor(typ) {
			for s := uint64(0); s < 4; s++ {
				w := gaussian(100+s, cols)
				x := gaussian(200+s, cols)
				switch s {
				case 1:
					for i := range x {
						x[i] *= float32(1 + i%3*100)
					}
				case 2:
					for i := 0; i < len(x) && i < 64; i++ {
						x[i] = 0
					}
					x[len(x)-1] = -1e4
				case 3:
					for i := range w {
						w[i] = float32(i%9) - 3
					}
				}
				row := quantize(t, typ, w)
				got := kernels.Dot(typ, row, x)
				want := kernels.PortableDot(typ, row, x)
				if inexact(typ) {
					_, mag := refDot(typ, row, x)
					if math.Abs(float64(got-want)) > 1e-5*mag {
						t.Errorf("%v cols %d seed %d: SIMD %v, portable %v", typ, cols, s, got, want)
					}
				} else if got != want {
					t.Errorf("%v cols %d seed %d: SIMD %v, portable %v (must be identical)", typ, cols, s, got, want)
				}
			}
		}
	}
}

// TestSIMDMatVec runs MatVec and MatMul with SIMD and portable kernels on
// row counts that are odd and not multiples of the worker count.
func TestSIMDMatVec(t *testing.T) {
	if !kernels.SIMD() {
		t.Skip("no SIMD kernels")
	}
	defer kernels.SetSIMD(true)
	for _, typ := range allTypes {
		for _, c := range []struct{ rows, cols, n int }{{1, 256, 1}, {7, 512, 3}, {301, 768, 1}, {133, 512, 5}} {
			w := matrix(t, typ, c.rows, c.cols, 11)
			x := gaussian(12, c.cols*c.n)
			y1 := make([]float32, c.rows*c.n)
			y2 := make([]float32, c.rows*c.n)
			kernels.SetSIMD(true)
			loose := inexact(typ)
			kernels.MatMul(y1, w, typ, x, c.n)
			kernels.SetSIMD(false)
			kernels.MatMul(y2, w, typ, x, c.n)
			for i := range y1 {
				if loose {
					if math.Abs(float64(y1[i]-y2[i])) > 1e-4*(1+math.Abs(float64(y2[i]))) {
						t.Fatalf("%v %+v: y[%d] SIMD %v, portable %v", typ, c, i, y1[i], y2[i])
					}
				} else if y1[i] != y2[i] {
					t.Fatalf("%v %+v: y[%d] SIMD %v, portable %v", typ, c, i, y1[i], y2[i])
				}
			}
		}
	}
}

func TestSumBytes(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 129, 1000, 4096 + 33} {
		b := make([]byte, n)
		var want uint64
		for i := range b {
			b[i] = byte(i*7 + 255)
			want += uint64(b[i])
		}
		if got := kernels.SumBytes(b); got != want {
			t.Errorf("SumBytes(%d bytes) = %d, want %d", n, got, want)
		}
	}
}

// TestSumBytesParallel checks the pooled read against the serial sum, on
// sizes that leave a partial last piece.
func TestSumBytesParallel(t *testing.T) {
	for _, n := range []int{100, 3<<20 + 77, 9 << 20} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*13 + i>>9)
		}
		if got, want := kernels.SumBytesParallel(b), kernels.SumBytes(b); got != want {
			t.Errorf("SumBytesParallel(%d bytes) = %d, SumBytes %d", n, got, want)
		}
	}
}

// TestQuantizeActExact checks that the assembly activation quantizers give
// the portable ones' bytes exactly.
func TestQuantizeActExact(t *testing.T) {
	types := []dtype.Type{dtype.Q8_0, dtype.Q4_K}
	// And the packed layouts' forms (Q4_K's groups of four blocks), over
	// lengths that leave a partial group.
	for _, typ := range []dtype.Type{dtype.Q4_K, dtype.Q8_0} {
		if p := kernels.Pack(typ, quantize(t, typ, gaussian(9, 32*1280)), 1280); p != typ {
			types = append(types, p)
		}
	}
	if kernels.SIMD() && len(types) == 2 {
		t.Log("no packed layouts on this CPU")
	}
	for _, typ := range types {
		for s := uint64(0); s < 6; s++ {
			x := gaussian(300+s, 1280)
			switch s {
			case 1:
				clear(x[256:512]) // zero blocks
				clear(x[32:64])
			case 2:
				for i := range x {
					x[i] = float32(i%7) - 3 // ties in |x|, both signs
				}
			case 3:
				for i := range x {
					x[i] = float32(int(x[i]*4)) / 8 // exact halves: rounding ties
				}
				x[5] = -100
				x[300] = 100
			case 4:
				for i := range x {
					x[i] *= 1e-30
				}
			case 5:
				for i := range x {
					x[i] *= 3e4
				}
			}
			got, want := kernels.QuantizeBoth(typ, x)
			if string(got) != string(want) {
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%v seed %d: byte %d = %#x, portable %#x", typ, s, i, got[i], want[i])
					}
				}
			}
		}
	}
}
