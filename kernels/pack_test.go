package kernels_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"ferry/dtype"
	"ferry/kernels"
)

// TestPackLeavesOthers checks that Pack returns types without a packed
// layout unchanged and does not touch their bytes.
func TestPackLeavesOthers(t *testing.T) {
	for _, typ := range []dtype.Type{dtype.F32, dtype.F16, dtype.Q6_K} {
		w := matrix(t, typ, 4, 256, 3)
		orig := append([]byte(nil), w...)
		if got := kernels.Pack(typ, w, 256); got != typ || !bytes.Equal(w, orig) {
			t.Fatalf("%v: Pack returned %v or changed the bytes", typ, got)
		}
	}
	// Not a whole number of rows, or of units of 16 rows.
	w := matrix(t, dtype.Q4_K, 16, 512, 3)
	if got := kernels.Pack(dtype.Q4_K, w[:len(w)-1], 512); got != dtype.Q4_K {
		t.Fatalf("Pack of a partial row returned %v", got)
	}
	w = matrix(t, dtype.Q8_0, 18, 224, 3)
	orig := append([]byte(nil), w...)
	if got := kernels.Pack(dtype.Q8_0, w, 224); got != dtype.Q8_0 || !bytes.Equal(w, orig) {
		t.Fatalf("Q8_0, 18 rows: Pack returned %v or changed the bytes", got)
	}
}

// BenchmarkPackedOfRead compares the packed (interleaved) layouts with the
// file's in the
// same iterations: each reads a buffer of the weights' size (the memory
// bound, see BenchmarkMatVecOfRead), then runs the product on the plain
// matrix and on its packed copy; "plain_of_read" and "packed_of_read" are
// the read's time over each product's.
func BenchmarkPackedOfRead(b *testing.B) {
	for _, typ := range []dtype.Type{dtype.Q4_K, dtype.Q8_0, dtype.F16} {
		for _, sh := range [][2]int{{5632, 2048}, {2048, 5632}} {
			rows, cols := sh[0], sh[1]
			w := quantize(b, typ, gaussian(1, rows*cols))
			pw := append([]byte(nil), w...)
			pt := kernels.Pack(typ, pw, cols)
			if pt == typ {
				b.Skip("no packed layout on this CPU")
			}
			plain, packed, reads := memCopies(w), memCopies(pw), memCopies(w)
			x := gaussian(2, cols)
			y := make([]float32, rows)
			b.Run(fmt.Sprintf("%v/%dx%d", typ, rows, cols), func(b *testing.B) {
				b.SetBytes(int64(2 * len(w)))
				var read, tp, tq time.Duration
				i := 0
				for b.Loop() {
					t0 := time.Now()
					kernels.SumBytesParallel(reads[i%len(reads)])
					t1 := time.Now()
					kernels.MatVec(y, plain[i%len(plain)], typ, x)
					t2 := time.Now()
					kernels.MatVec(y, packed[i%len(packed)], pt, x)
					t3 := time.Now()
					read, tp, tq = read+t1.Sub(t0), tp+t2.Sub(t1), tq+t3.Sub(t2)
					i++
				}
				b.ReportMetric(float64(read)/float64(tp), "plain_of_read")
				b.ReportMetric(float64(read)/float64(tq), "packed_of_read")
			})
		}
	}
}

// TestScratchBytesBound checks that what a job of products of different
// activation forms allocates (a Q4_K matrix packed where a layout exists,
// Q6_K and F32, one MatMuls over n vectors, the pools emptied first) stays
// within ScratchBytes, which the engine counts in a memory budget.
func TestScratchBytesBound(t *testing.T) {
	for _, sh := range [][2]int{{1, 2048}, {7, 512}, {64, 2048}, {16, 5632}, {1, 5632}} {
		n, cols := sh[0], sh[1]
		q4 := matrix(t, dtype.Q4_K, 32, cols, 51)
		q4t := kernels.Pack(dtype.Q4_K, q4, cols)
		q6 := matrix(t, dtype.Q6_K, 32, cols, 52)
		f32 := matrix(t, dtype.F32, 16, cols, 53)
		x := gaussian(54, n*cols)
		ps := []kernels.Product{
			{Y: make([]float32, 32*n), W: q4, Type: q4t},
			{Y: make([]float32, 32*n), W: q6, Type: dtype.Q6_K},
			{Y: make([]float32, 16*n), W: f32, Type: dtype.F32},
		}
		runtime.GC()
		runtime.GC() // a sync.Pool is emptied over two collections
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		kernels.MatMuls(ps, x, n)
		runtime.ReadMemStats(&after)
		got, bound := int64(after.TotalAlloc-before.TotalAlloc), kernels.ScratchBytes(n, cols)
		if got > bound {
			t.Errorf("%d vectors of %d: the products allocated %d bytes, ScratchBytes says %d", n, cols, got, bound)
		}
		if got == 0 && n > 1 {
			t.Errorf("%d vectors of %d: nothing allocated after the pools were emptied (the test measures nothing)", n, cols)
		}
	}
}
