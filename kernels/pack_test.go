package kernels_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"ferry/dtype"
	"ferry/kernels"
)

// TestPack checks that a packed matrix gives the products of the matrix it
// came from (rows that are not whole units of 16, which Pack would
// interleave: see TestInterleave): the packed portable kernel bit for bit, the installed loop
// within float rounding, at several row lengths (rows whose nibbles do and
// do not start on a cache line), serial and over the worker pool, and that
// unpacking restores the original bytes.
func TestPack(t *testing.T) {
	for _, typ := range []dtype.Type{dtype.Q8_0} {
		for _, shape := range [][2]int{{3, 256}, {5, 512}, {7, 768}, {161, 2048}, {97, 5632}} {
			rows, cols := shape[0], shape[1]
			t.Run(fmt.Sprintf("%v/%dx%d", typ, rows, cols), func(t *testing.T) {
				orig := matrix(t, typ, rows, cols, 11)
				// Start the rows 16 bytes past a line too.
				for _, skew := range []int{0, 16} {
					buf := make([]byte, len(orig)+64)
					w := buf[skew : skew+len(orig)]
					copy(w, orig)
					pt := kernels.Pack(typ, w, cols)
					if !kernels.SIMD() || pt == typ {
						t.Skip("no packed layout for this CPU's kernels")
					}
					if bytes.Equal(w, orig) {
						t.Fatal("Pack left the bytes unchanged")
					}
					rb, _ := typ.RowBytes(cols)
					for i := 0; i < rows; i++ {
						back := kernels.Unpack(pt, w[i*rb:(i+1)*rb], cols)
						if !bytes.Equal(back, orig[i*rb:(i+1)*rb]) {
							t.Fatalf("row %d: unpacking does not restore the row", i)
						}
					}
					x := gaussian(12, cols)
					y := make([]float32, rows)
					want := make([]float32, rows)
					kernels.MatVec(y, w, pt, x)
					kernels.MatVec(want, orig, typ, x)
					for i := 0; i < rows; i++ {
						row, prow := orig[i*rb:(i+1)*rb], w[i*rb:(i+1)*rb]
						ref, mag := refDot(typ, row, x)
						if !near(y[i], ref, mag) || !near(y[i], float64(want[i]), mag) {
							t.Fatalf("skew %d: y[%d] = %v, unpacked %v, reference %v", skew, i, y[i], want[i], ref)
						}
						if p, q := kernels.PortableDot(pt, prow, x), kernels.PortableDot(typ, row, x); p != q {
							t.Fatalf("skew %d: row %d: packed portable dot %v, %v's %v", skew, i, p, typ, q)
						}
					}
					// A batch (prefill) and the dequantized row.
					const n = 3
					xs := gaussian(13, n*cols)
					ys := make([]float32, n*rows)
					kernels.MatMul(ys, w, pt, xs, n)
					for i := range ys {
						v, r := i/rows, i%rows
						ref, mag := refDot(typ, orig[r*rb:(r+1)*rb], xs[v*cols:(v+1)*cols])
						if !near(ys[i], ref, mag) {
							t.Fatalf("skew %d: batch y[%d] = %v, reference %v", skew, i, ys[i], ref)
						}
					}
					d, e := make([]float32, cols), make([]float32, cols)
					kernels.Dequantize(d, w[:rb], pt)
					kernels.Dequantize(e, orig[:rb], typ)
					if fmt.Sprint(d) != fmt.Sprint(e) {
						t.Fatal("dequantized packed row differs")
					}
				}
			})
		}
	}
}

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
	// Not a whole number of rows; Q8_0 rows not a whole number of groups
	// of eight blocks.
	w := matrix(t, dtype.Q4_K, 2, 512, 3)
	if got := kernels.Pack(dtype.Q4_K, w[:len(w)-1], 512); got != dtype.Q4_K {
		t.Fatalf("Pack of a partial row returned %v", got)
	}
	w = matrix(t, dtype.Q8_0, 2, 224, 3)
	orig := append([]byte(nil), w...)
	if got := kernels.Pack(dtype.Q8_0, w, 224); got != dtype.Q8_0 || !bytes.Equal(w, orig) {
		t.Fatalf("Q8_0 rows of 7 blocks: Pack returned %v or changed the bytes", got)
	}
}

// BenchmarkPackedOfRead compares the packed layouts with the file's in the
// same iterations: each reads a buffer of the weights' size (the memory
// bound, see BenchmarkMatVecOfRead), then runs the product on the plain
// matrix and on its packed copy; "plain_of_read" and "packed_of_read" are
// the read's time over each product's.
func BenchmarkPackedOfRead(b *testing.B) {
	for _, typ := range []dtype.Type{dtype.Q4_K, dtype.Q8_0} {
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
