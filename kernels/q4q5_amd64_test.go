package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"ferry/dtype"
)

// q4q5Loop is one assembly row loop of q4q5_amd64.s.
type q4q5Loop struct {
	name string
	typ  dtype.Type
	ok   *bool // CPU support
	f    func(y *float32, w *byte, rb, rows int, xq *byte, nb int)
}

var q4q5Loops = []q4q5Loop{
	{"AVX2", dtype.Q4_1, &hasAVX2, func(y *float32, w *byte, rb, rows int, xq *byte, nb int) { vecQ4_1AVX2(y, w, rb, rows, xq, nb, 0) }},
	{"AVX2", dtype.Q5_0, &hasAVX2, func(y *float32, w *byte, rb, rows int, xq *byte, nb int) { vecQ5_0AVX2(y, w, rb, rows, xq, nb, 0) }},
	{"AVX2", dtype.Q5_1, &hasAVX2, func(y *float32, w *byte, rb, rows int, xq *byte, nb int) { vecQ5_1AVX2(y, w, rb, rows, xq, nb, 0) }},
	{"AVX512", dtype.Q4_1, &hasAVX512VNNI, vecQ4_1AVX512},
	{"AVX512", dtype.Q5_0, &hasAVX512VNNI, vecQ5_0AVX512},
	{"AVX512", dtype.Q5_1, &hasAVX512VNNI, vecQ5_1AVX512},
}

// randomRows returns rows rows of nb random blocks of t (a Q4_1, Q5_0 or
// Q5_1 type): random nibbles and high bits, scales of random size and
// sign; with extreme, every third block has all its quants at 0 or at the
// maximum.
func randomRows(r *rand.Rand, t dtype.Type, rows, nb int, extreme bool) []byte {
	bb := t.BlockBytes()
	w := make([]byte, rows*nb*bb)
	for b := 0; b < rows*nb; b++ {
		blk := w[b*bb : (b+1)*bb]
		for i := range blk {
			blk[i] = byte(r.Uint32())
		}
		binary.LittleEndian.PutUint16(blk, F32ToF16(float32(r.NormFloat64()*0.05)))
		if t != dtype.Q5_0 {
			binary.LittleEndian.PutUint16(blk[2:], F32ToF16(float32(r.NormFloat64())))
		}
		if extreme && b%3 == 0 {
			fill := byte(0)
			if b%2 == 0 {
				fill = 0xff
			}
			for i := 2; i < bb; i++ {
				if t == dtype.Q5_0 || i >= 4 {
					blk[i] = fill
				}
			}
		}
	}
	return w
}

// randomActs returns the actQ8_0 form of nb blocks of activations:
// Gaussian, with a zero block and large outliers.
func randomActs(r *rand.Rand, nb int) []byte {
	x := make([]float32, 32*nb)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		if r.IntN(50) == 0 {
			x[i] *= 300
		}
	}
	if nb > 2 {
		clear(x[32 : 32+32])
	}
	xq := make([]byte, actBytes(actQ8_0, len(x)))
	quantizeQ8_0Go(xq, x)
	return xq
}

// magnitude returns the sum of the absolute values of the terms of the
// dot product of a Q4_1, Q5_0 or Q5_1 row with xq: the scale of the
// rounding error of a float sum of them in any order.
func magnitude(t dtype.Type, row, xq []byte) float64 {
	bb := t.BlockBytes()
	w := make([]float32, 32)
	var mag float64
	for b := 0; b < len(row)/bb; b++ {
		blk := row[b*bb : (b+1)*bb]
		a := xq[q8Block*b : q8Block*(b+1)]
		dequant := kernelTable[t].dequant
		dequant(w, blk)
		dx := float64(f32at(a))
		for j, v := range w {
			mag += math.Abs(float64(v) * dx * float64(int8(a[8+j])))
		}
	}
	return mag
}

// TestQ4Q5Loops checks every loop this CPU runs (AVX2 and AVX-512 alike)
// against the portable row dots, within float rounding, on random blocks
// for block counts that exercise every path (fours, a pair, a last odd
// block).
func TestQ4Q5Loops(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ran := false
	for _, l := range q4q5Loops {
		if !*l.ok {
			continue
		}
		ran = true
		bb := l.typ.BlockBytes()
		for _, nb := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 64, 67} {
			for s := 0; s < 4; s++ {
				const rows = 5
				w := randomRows(r, l.typ, rows, nb, s%2 == 1)
				xq := randomActs(r, nb)
				y := make([]float32, rows)
				l.f(&y[0], &w[0], nb*bb, rows, &xq[0], nb)
				for i, got := range y {
					row := w[i*nb*bb : (i+1)*nb*bb]
					want := portable[l.typ](row, xq)
					if d := math.Abs(float64(got - want)); d > 1e-5*magnitude(l.typ, row, xq) || math.IsNaN(d) {
						t.Errorf("%s %v, %d blocks, row %d: got %v, portable %v", l.name, l.typ, nb, i, got, want)
					}
				}
			}
		}
	}
	if !ran {
		t.Skip("no AVX2")
	}
}

// BenchmarkQ4Q5Loops runs the row loops by themselves (no activation
// quantizing, one thread) on 256 rows of 2048 values, which stay in
// cache, next to the AVX2 Q4_0 loop and the portable row dots.
func BenchmarkQ4Q5Loops(b *testing.B) {
	const rows, nb = 256, 64
	r := rand.New(rand.NewPCG(5, 6))
	xq := randomActs(r, nb)
	y := make([]float32, rows)
	run := func(name string, typ dtype.Type, f func(y *float32, w *byte, rb, rows int, xq *byte, nb int)) {
		w := randomRows(r, typ, rows, nb, false)
		rb := nb * typ.BlockBytes()
		b.Run(fmt.Sprintf("%v/%s", typ, name), func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				if f != nil {
					f(&y[0], &w[0], rb, rows, &xq[0], nb)
				} else {
					for i := range y {
						y[i] = portable[typ](w[i*rb:(i+1)*rb], xq)
					}
				}
			}
		})
	}
	if hasAVX2 {
		run("AVX2", dtype.Q4_0, func(y *float32, w *byte, rb, rows int, xq *byte, nb int) { vecQ4_0AVX2(y, w, rb, rows, xq, nb, 0) })
	}
	for _, l := range q4q5Loops {
		if *l.ok {
			run(l.name, l.typ, l.f)
		}
	}
	for _, typ := range []dtype.Type{dtype.Q4_1, dtype.Q5_0, dtype.Q5_1} {
		run("portable", typ, nil)
	}
}
