package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"ferry/dtype"
)

// batchTypes are the types with a register-blocked batch loop on CPUs
// with AVX2 but not AVX-512.
var batchTypes = []dtype.Type{dtype.F16, dtype.BF16, dtype.F32}

// needBatch skips the test unless the batch loops are installed.
func needBatch(t testing.TB) {
	t.Helper()
	if !simdActive || !hasAVX2 || hasAVX512VNNI {
		t.Skip("the batch loops are installed on AVX2 CPUs without AVX-512 only")
	}
}

// randomBatchRows returns rows rows of cols F16, BF16 or F32 values of
// random exponent.
func randomBatchRows(r *rand.Rand, t dtype.Type, rows, cols int) []byte {
	w := make([]byte, rows*lookup(t).rowBytes(cols))
	for i := range w {
		w[i] = byte(r.Uint32())
	}
	if t == dtype.F32 {
		for i := 0; i < len(w); i += 4 {
			binary.LittleEndian.PutUint32(w[i:], math.Float32bits(float32(r.NormFloat64())))
		}
		return w
	}
	for i := 0; i < len(w); i += 2 {
		v := float32(r.NormFloat64())
		h := F32ToF16(v)
		if t == dtype.BF16 {
			h = F32ToBF16(v)
		}
		binary.LittleEndian.PutUint16(w[i:], h)
	}
	return w
}

// refBatch returns the float64 dot products of the rows with the
// prepared vectors xq (n of ab bytes), as y[j*rows+i] for the product's
// layout, and the sums of the magnitudes of the terms.
func refBatch(t dtype.Type, w []byte, rows, cols int, xq []byte, ab, n int) (ref, mag []float64) {
	rb := len(w) / rows
	ref, mag = make([]float64, rows*n), make([]float64, rows*n)
	wv := make([]float32, cols)
	xv := make([]float64, cols)
	for j := 0; j < n; j++ {
		x := xq[j*ab : (j+1)*ab]
		for c := range xv {
			xv[c] = float64(f32at(x[4*c:]))
		}
		for i := 0; i < rows; i++ {
			Dequantize(wv, w[i*rb:(i+1)*rb], t)
			var s, m float64
			for c, v := range wv {
				p := float64(v) * xv[c]
				s += p
				m += math.Abs(p)
			}
			ref[j*rows+i], mag[j*rows+i] = s, m
		}
	}
	return ref, mag
}

// prepareBatch returns n random vectors of cols values prepared for the
// batch loops of t, and their size.
func prepareBatch(r *rand.Rand, t dtype.Type, cols, n int) ([]byte, int) {
	k := lookup(t)
	ab := actBytes(k.batchAct, cols)
	xq := make([]byte, n*ab)
	x := make([]float32, cols)
	for j := 0; j < n; j++ {
		for c := range x {
			x[c] = float32(r.NormFloat64())
		}
		prepare(k.batchAct, xq[j*ab:(j+1)*ab], x)
	}
	return xq, ab
}

// TestBatchInstalled checks that the loops are in place where they
// should be, for F16, BF16 and F32 only.
func TestBatchInstalled(t *testing.T) {
	for typ := range kernelTable {
		want := simdActive && hasAVX2 && !hasAVX512VNNI && (typ == int(dtype.F16) || typ == int(dtype.BF16) || typ == int(dtype.F32))
		if got := kernelTable[typ].batch != nil; got != want {
			t.Errorf("type %d: batch loop installed %v, want %v", typ, got, want)
		}
	}
}

// TestBatchLoops runs compute, which takes the batch loops for vectors in
// fours and the row loop for the rest, over shapes of odd sizes (rows not
// a multiple of two, vectors not of four, rows longer than a span of the
// loops and not a multiple of one, products from a row inside the matrix),
// with spans of the default size and of the smallest, against the float64
// products of the same prepared values.
func TestBatchLoops(t *testing.T) {
	needBatch(t)
	defer func(f int) { batchSpanF16 = f }(batchSpanF16)
	r := rand.New(rand.NewPCG(5, 6))
	for _, typ := range batchTypes {
		k := lookup(typ)
		for _, sh := range []struct{ rows, cols, n int }{
			{1, 32, 4}, {2, 64, 4}, {3, 96, 5}, {7, 1024, 8}, {17, 1088, 7},
			{33, 2048 + 96, 13}, {64, 5632, 4}, {5, 3200, 11},
		} {
			for _, small := range []bool{false, true} {
				batchSpanF16 = 1024
				if small {
					batchSpanF16 = 8
				}
				name := fmt.Sprintf("%v/%dx%dx%d/small=%v", typ, sh.rows, sh.cols, sh.n, small)
				w := randomBatchRows(r, typ, sh.rows, sh.cols)
				rb := len(w) / sh.rows
				xq, ab := prepareBatch(r, typ, sh.cols, sh.n)
				ref, mag := refBatch(typ, w, sh.rows, sh.cols, xq, ab, sh.n)
				y := make([]float32, sh.rows*sh.n)
				for i := range y {
					y[i] = float32(math.NaN()) // every output written
				}
				// From row 1 to the end, then row 0: a product in two
				// pieces, as participants take it.
				compute(k, y, w, rb, xq, ab, sh.n, min(1, sh.rows-1), sh.rows)
				compute(k, y, w, rb, xq, ab, sh.n, 0, min(1, sh.rows-1))
				for i, got := range y {
					if d := math.Abs(float64(got) - ref[i]); !(d <= 1e-5*math.Abs(ref[i])+1e-6*mag[i]) {
						t.Fatalf("%s: y[%d,%d] = %v, reference %v (mag %v)", name, i/sh.rows, i%sh.rows, got, ref[i], mag[i])
					}
				}
			}
		}
	}
}

// TestBatchSplit checks that a batched product's bits do not depend on
// how its rows are split (between participants, groups, and the loops'
// pairs of rows): the rows one at a time, in pieces of three, and all
// together give the same results.
func TestBatchSplit(t *testing.T) {
	needBatch(t)
	r := rand.New(rand.NewPCG(7, 8))
	for _, typ := range batchTypes {
		k := lookup(typ)
		const rows, cols, n = 23, 2048 + 64, 9
		w := randomBatchRows(r, typ, rows, cols)
		rb := len(w) / rows
		xq, ab := prepareBatch(r, typ, cols, n)
		whole := make([]float32, rows*n)
		compute(k, whole, w, rb, xq, ab, n, 0, rows)
		for _, step := range []int{1, 3} {
			y := make([]float32, rows*n)
			for lo := 0; lo < rows; lo += step {
				compute(k, y, w, rb, xq, ab, n, lo, min(lo+step, rows))
			}
			for i := range y {
				if y[i] != whole[i] {
					t.Fatalf("%v rows by %d: y[%d] = %v, all rows together %v", typ, step, i, y[i], whole[i])
				}
			}
		}
	}
}

// TestBatchFallback checks that shapes the loops do not take (fewer than
// four vectors; rows not a multiple of eight values) leave them to
// the row loop.
func TestBatchFallback(t *testing.T) {
	needBatch(t)
	r := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct {
		typ     dtype.Type
		cols, n int
	}{{dtype.F16, 64, 3}, {dtype.F16, 36, 4}, {dtype.F16, 4, 6}, {dtype.BF16, 64, 3}, {dtype.BF16, 36, 4}, {dtype.F32, 64, 3}, {dtype.F32, 172, 4}} {
		k := lookup(c.typ)
		const rows = 5
		w := randomBatchRows(r, c.typ, rows, c.cols)
		rb := len(w) / rows
		xq, ab := prepareBatch(r, c.typ, c.cols, c.n)
		y := make([]float32, rows*c.n)
		if got := k.batch(y, w, rb, xq, ab, c.n, 0); got != 0 {
			t.Errorf("%v %d values, %d vectors: batch loop took %d vectors", c.typ, c.cols, c.n, got)
		}
	}
}

// TestBatchBounds checks that the Go side refuses arguments the loops
// would read or write outside of.
func TestBatchBounds(t *testing.T) {
	needBatch(t)
	k := lookup(dtype.F16)
	const rows, cols, n = 4, 64, 4
	rb := k.rowBytes(cols)
	ab := actBytes(k.batchAct, cols)
	for name, f := range map[string]func(){
		"y short":  func() { k.batch(make([]float32, rows*n-1), make([]byte, rows*rb), rb, make([]byte, n*ab), ab, n, 0) },
		"row0":     func() { k.batch(make([]float32, rows*n), make([]byte, rows*rb), rb, make([]byte, n*ab), ab, n, 1) },
		"xq short": func() { k.batch(make([]float32, rows*n), make([]byte, rows*rb), rb, make([]byte, n*ab-1), ab, n, 0) },
		"ab short": func() { k.batch(make([]float32, rows*n), make([]byte, rows*rb), rb, make([]byte, n*ab), ab-1, n, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkBatchLoop runs a batched product of 64 vectors on one thread
// over rows whose group stays in the core's L2 cache, with the batch
// loops ("x4") and with the row loop once per vector ("row"), the path
// they replace: the arithmetic speed of prefill, in GFLOP/s (2 a weight
// and vector). Shapes are TinyLlama's 2048- and 5632-value rows.
func BenchmarkBatchLoop(b *testing.B) {
	if !simdActive || !hasAVX2 || hasAVX512VNNI {
		b.Skip("the batch loops are installed on AVX2 CPUs without AVX-512 only")
	}
	const n = 64
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range batchTypes {
		k := lookup(typ)
		for _, cols := range []int{2048, 5632} {
			rb := k.rowBytes(cols)
			rows := max(2, rowGroupBytes/rb) // one group
			w := randomBatchRows(r, typ, rows, cols)
			xq, ab := prepareBatch(r, typ, cols, n)
			y := make([]float32, rows*n)
			for _, blocked := range []bool{true, false} {
				name := "row"
				if blocked {
					name = "x4"
				}
				b.Run(fmt.Sprintf("%v/%dx%dx%d/%s", typ, rows, cols, n, name), func(b *testing.B) {
					defer func(f batchFunc) { k.batch = f }(k.batch)
					if !blocked {
						k.batch = nil
					}
					for b.Loop() {
						compute(k, y, w, rb, xq, ab, n, 0, rows)
					}
					b.ReportMetric(2*float64(rows*cols*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
