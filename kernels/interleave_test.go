package kernels_test

import (
	"bytes"
	"fmt"
	"testing"

	"ferry/dtype"
	"ferry/kernels"
)

// TestInterleave checks the interleaved layouts: a matrix of a whole
// number of 16-row units packs into one, unpacking restores its bytes, its
// portable kernel (the plain type's on the unpacked units) gives the plain
// matrix's products bit for bit, and the installed loop gives those of the
// plain type's installed loop bit for bit (streamed spans keep the file's
// layout, resident ones are packed: a model must compute the same in
// both), which are the portable kernel's where that loop keeps its order,
// and near a float64 reference: serial and over the worker pool, for one
// vector and for a batch, from rows that do and do not start on a cache
// line.
func TestInterleave(t *testing.T) {
	for _, typ := range []dtype.Type{dtype.Q4_K, dtype.Q8_0, dtype.Q6_K, dtype.Q5_K, dtype.Q4_0, dtype.Q5_0, dtype.Q4_1, dtype.Q5_1, dtype.Q2_K, dtype.Q3_K, dtype.F16} {
		// 5632 and 2560 values: the panelled layouts (three panels, the
		// last of six blocks of 256; two, the last of two blocks of 256 or
		// 16 of 32).
		shapes := [][2]int{{16, 256}, {32, 512}, {48, 768}, {160, 2048}, {64, 5632}, {96, 2560}}
		if typ == dtype.F16 {
			// Rows whose length leaves 16-value steps after the 64-value ones.
			shapes = append(shapes, [2]int{16, 80}, [2]int{32, 2096})
		}
		if typ.BlockSize() == 32 {
			// An odd number of blocks a row (3 and 35): the loops that
			// take two blocks at a time end with one alone.
			shapes = append(shapes, [2]int{16, 96}, [2]int{32, 1120})
		}
		for _, shape := range shapes {
			rows, cols := shape[0], shape[1]
			t.Run(fmt.Sprintf("%v/%dx%d", typ, rows, cols), func(t *testing.T) {
				orig := matrix(t, typ, rows, cols, 21)
				for _, skew := range []int{0, 16} {
					buf := make([]byte, len(orig)+64)
					w := buf[skew : skew+len(orig)]
					copy(w, orig)
					pt := kernels.Pack(typ, w, cols)
					if !kernels.Interleaved(pt) {
						t.Skip("no interleaved layout for this CPU's kernels")
					}
					if bytes.Equal(w, orig) {
						t.Fatal("Pack left the bytes unchanged")
					}
					if wide := cols > 2048 && kernels.HasPanels(typ); kernels.Panelled(pt) != wide {
						t.Fatalf("%v: panelled %v for %d values", pt, kernels.Panelled(pt), cols)
					}
					if !bytes.Equal(kernels.Unpack(pt, w, cols), orig) {
						t.Fatal("unpacking does not restore the matrix")
					}
					rb, _ := typ.RowBytes(cols)
					rowBuf := make([]byte, kernels.RowUnpackBytes(rb))
					for _, i := range []int{0, 1, 15, rows/2 + 3, rows - 1} {
						if got := kernels.UnpackRow(rowBuf, pt, w, cols, i); !bytes.Equal(got, orig[i*rb:(i+1)*rb]) {
							t.Fatalf("UnpackRow(%d) is not row %d", i, i)
						}
					}
					x := gaussian(22, cols)
					want := kernels.PortableMatVec(typ, orig, cols, x)
					if p := kernels.PortableMatVec(pt, w, cols, x); fmt.Sprint(p) != fmt.Sprint(want) {
						t.Fatalf("skew %d: the portable kernel of the interleaved rows differs from %v's", skew, typ)
					}
					y, plain := make([]float32, rows), make([]float32, rows)
					kernels.MatVec(y, w, pt, x)
					kernels.MatVec(plain, orig, typ, x)
					for i := 0; i < rows; i++ {
						ref, mag := refDot(typ, orig[i*rb:(i+1)*rb], x)
						exact := kernels.Reordered(typ) || y[i] == want[i]
						if y[i] != plain[i] || !exact || !near(y[i], ref, mag) {
							t.Fatalf("skew %d: y[%d] = %v, plain %v, portable %v, reference %v", skew, i, y[i], plain[i], want[i], ref)
						}
					}
					const n = 3
					xs := gaussian(23, n*cols)
					ys := make([]float32, n*rows)
					kernels.MatMul(ys, w, pt, xs, n)
					plains := make([]float32, n*rows)
					kernels.MatMul(plains, orig, typ, xs, n)
					for i := range ys {
						v, r := i/rows, i%rows
						ref, mag := refDot(typ, orig[r*rb:(r+1)*rb], xs[v*cols:(v+1)*cols])
						if ys[i] != plains[i] || !near(ys[i], ref, mag) {
							t.Fatalf("skew %d: batch y[%d] = %v, plain %v, reference %v", skew, i, ys[i], plains[i], ref)
						}
					}
				}
			})
		}
	}
}

// TestInterleaveMixed runs an interleaved matrix and a plain one in one
// MatMuls job (as attention's Q, K and V are, where V may be of another
// type), so that the job's rows are units of 16 in one segment and single
// rows in the other, and checks each against its own product.
func TestInterleaveMixed(t *testing.T) {
	const cols = 2048
	q := matrix(t, dtype.Q4_K, 2048, cols, 31)
	v := matrix(t, dtype.Q6_K, 256, cols, 32)
	want := [2][]float32{make([]float32, 2048), make([]float32, 256)}
	x := gaussian(33, cols)
	kernels.MatVec(want[0], q, dtype.Q4_K, x)
	kernels.MatVec(want[1], v, dtype.Q6_K, x)
	pq := kernels.Pack(dtype.Q4_K, q, cols)
	if !kernels.Interleaved(pq) {
		t.Skip("no interleaved layout for this CPU's kernels")
	}
	got := [2][]float32{make([]float32, 2048), make([]float32, 256)}
	kernels.MatMuls([]kernels.Product{{Y: got[0], W: q, Type: pq}, {Y: got[1], W: v, Type: dtype.Q6_K}}, x, 1)
	for m := range got {
		for i := range got[m] {
			if d := got[m][i] - want[m][i]; d > 1e-3 || d < -1e-3 {
				t.Fatalf("matrix %d row %d: %v in the mixed job, %v alone", m, i, got[m][i], want[m][i])
			}
		}
	}
}

// TestInterleaveWholeUnits checks that an interleaved matrix is only
// packed, and only multiplied, in whole units of 16 rows.
func TestInterleaveWholeUnits(t *testing.T) {
	w := matrix(t, dtype.Q4_K, 17, 256, 41)
	if pt := kernels.Pack(dtype.Q4_K, w, 256); kernels.Interleaved(pt) {
		t.Fatal("17 rows were interleaved")
	}
	w = matrix(t, dtype.Q4_K, 32, 256, 42)
	pt := kernels.Pack(dtype.Q4_K, w, 256)
	if !kernels.Interleaved(pt) {
		t.Skip("no interleaved layout for this CPU's kernels")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a product over 8 rows of an interleaved matrix did not panic")
		}
	}()
	kernels.MatVec(make([]float32, 8), w, pt, gaussian(43, 256))
}
