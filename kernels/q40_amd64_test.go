package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"ferry/dtype"
)

// randomQ4_0 returns rows rows of nb random Q4_0 blocks: random nibbles,
// scales of random size and sign; with extreme, every third block has all
// its quants at 0 or at 15 (values -8 or 7), and every fifth at 8 (value 0).
func randomQ4_0(r *rand.Rand, rows, nb int, extreme bool) []byte {
	const bb = 18
	w := make([]byte, rows*nb*bb)
	for b := 0; b < rows*nb; b++ {
		blk := w[b*bb : (b+1)*bb]
		for i := range blk {
			blk[i] = byte(r.Uint32())
		}
		binary.LittleEndian.PutUint16(blk, F32ToF16(float32(r.NormFloat64()*0.05)))
		if !extreme {
			continue
		}
		fill := byte(0)
		switch {
		case b%3 == 0 && b%2 == 0:
			fill = 0xff
		case b%3 == 0:
			fill = 0
		case b%5 == 0:
			fill = 0x88
		default:
			continue
		}
		for i := 2; i < bb; i++ {
			blk[i] = fill
		}
	}
	return w
}

// TestQ4_0AVX512 checks vecQ4_0AVX512 against the portable row dots,
// within float rounding, on random blocks for block counts that exercise
// every path (fours, a pair, a last odd block) and row counts that do
// (fours of rows, then one to three rows one at a time).
func TestQ4_0AVX512(t *testing.T) {
	if !hasAVX512VNNI {
		t.Skip("no AVX-512 VNNI")
	}
	const bb = 18
	r := rand.New(rand.NewPCG(7, 8))
	for _, nb := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 64, 67} {
		for s := 0; s < 4; s++ {
			for _, rows := range []int{1, 2, 3, 4, 6, 7, 9} {
				w := randomQ4_0(r, rows, nb, s%2 == 1)
				xq := randomActs(r, nb)
				y := make([]float32, rows)
				vecQ4_0AVX512(&y[0], &w[0], nb*bb, rows, &xq[0], nb)
				for i, got := range y {
					row := w[i*nb*bb : (i+1)*nb*bb]
					want := portable[dtype.Q4_0](row, xq)
					if d := math.Abs(float64(got - want)); d > 1e-5*magnitude(dtype.Q4_0, row, xq) || math.IsNaN(d) {
						t.Errorf("%d blocks, %d rows, row %d: got %v, portable %v", nb, rows, i, got, want)
					}
				}
			}
		}
	}
}

// BenchmarkQ4_0Loops runs the Q4_0 row loops by themselves (no activation
// quantizing, one thread) on 256 rows of 2048 values, which stay in
// cache: the AVX-512 and AVX2 loops and the portable row dot.
func BenchmarkQ4_0Loops(b *testing.B) {
	const rows, nb, bb = 256, 64, 18
	r := rand.New(rand.NewPCG(11, 12))
	xq := randomActs(r, nb)
	w := randomQ4_0(r, rows, nb, false)
	y := make([]float32, rows)
	run := func(name string, f func(y *float32, w *byte, rb, rows int, xq *byte, nb int)) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				if f != nil {
					f(&y[0], &w[0], nb*bb, rows, &xq[0], nb)
				} else {
					for i := range y {
						y[i] = portable[dtype.Q4_0](w[i*nb*bb:(i+1)*nb*bb], xq)
					}
				}
			}
		})
	}
	if hasAVX512VNNI {
		run("AVX512", vecQ4_0AVX512)
	}
	if hasAVX2 {
		run("AVX2", func(y *float32, w *byte, rb, rows int, xq *byte, nb int) { vecQ4_0AVX2(y, w, rb, rows, xq, nb, 0) })
	}
	run("portable", nil)
}
