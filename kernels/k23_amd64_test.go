package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"ferry/dtype"
)

// k23Loop is one assembly row loop of k23_amd64.s, with whether it needs
// AVX-512 VNNI and whether it must match the portable kernel bit for bit.
type k23Loop struct {
	name   string
	typ    dtype.Type
	avx512 bool
	run    func(y []float32, w []byte, rb int, xq []byte, nb int)
}

// k23Loops lists the loops; run calls each directly (not through the
// installed vecFunc), so that both widths are tested on AVX-512 machines.
var k23Loops = []k23Loop{
	{"Q2_K/avx2", dtype.Q2_K, false, func(y []float32, w []byte, rb int, xq []byte, nb int) {
		vecQ2_KAVX2(&y[0], &w[0], rb, len(y), &xq[0], nb)
	}},
	{"Q2_K/avx512", dtype.Q2_K, true, func(y []float32, w []byte, rb int, xq []byte, nb int) {
		vecQ2_KAVX512(&y[0], &w[0], rb, len(y), &xq[0], nb)
	}},
	{"Q3_K/avx2", dtype.Q3_K, false, func(y []float32, w []byte, rb int, xq []byte, nb int) {
		vecQ3_KAVX2(&y[0], &w[0], rb, len(y), &xq[0], nb)
	}},
	{"Q3_K/avx512", dtype.Q3_K, true, func(y []float32, w []byte, rb int, xq []byte, nb int) {
		vecQ3_KAVX512(&y[0], &w[0], rb, len(y), &xq[0], nb)
	}},
}

// randomKRows returns rows of nb random blocks of t (every bit pattern of
// quants and scales), with the fp16 block scales set to random values of
// either sign up to 2^-4 (so that sums stay finite).
func randomKRows(r *rand.Rand, t dtype.Type, rows, nb int) []byte {
	bb := t.BlockBytes()
	w := make([]byte, rows*nb*bb)
	for i := range w {
		w[i] = byte(r.Uint32())
	}
	var ds []int // offsets of the fp16 scales in a block
	switch t {
	case dtype.Q2_K:
		ds = []int{80, 82}
	case dtype.Q3_K:
		ds = []int{108}
	case dtype.Q6_K:
		ds = []int{208}
	}
	for b := 0; b < rows*nb; b++ {
		for _, o := range ds {
			d := float32(r.Float64()-0.5) / 8
			binary.LittleEndian.PutUint16(w[b*bb+o:], F32ToF16(d))
		}
	}
	return w
}

// k23Acts returns the actQ8_K form of nb blocks of random activations, one
// block in four with an outlier, and one all zero.
func k23Acts(r *rand.Rand, nb int) []byte {
	x := make([]float32, 256*nb)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		if i%1024 == 7 {
			x[i] = 1e3
		}
	}
	if nb > 2 {
		clear(x[256 : 2*256])
	}
	xq := make([]byte, actBytes(actQ8_K, len(x)))
	quantizeQ8_KGo(xq, x)
	return xq
}

// k23Mag returns the sum over the values of a Q2_K or Q3_K row of the
// magnitudes of the terms the loops add (scaled quant times activation,
// and min or -4 correction times activation): the scale of the float
// rounding of a sum that adds them in any order.
func k23Mag(t dtype.Type, row, xq []byte) float64 {
	var mag float64
	bb := t.BlockBytes()
	var sc [16]int8
	for i := 0; i < len(row)/bb; i++ {
		b := row[bb*i : bb*(i+1)]
		a := (*[q8KBlock]byte)(xq[q8KBlock*i:])
		yd := math.Abs(float64(f32at(a[0:])))
		if t == dtype.Q3_K {
			q3kScales(&sc, (*[12]byte)(b[96:]))
		}
		for v := 0; v < 256; v++ {
			h, s, l := v/128, v%128/32, v%32
			j := 8*h + 2*s + l/16
			av := math.Abs(float64(q8kAt(a, v))) * yd
			if t == dtype.Q2_K {
				q := float64(b[16+32*h+l] >> (2 * s) & 3)
				d, dmin := math.Abs(float64(f16at(b[80:]))), math.Abs(float64(f16at(b[82:])))
				mag += (d*float64(b[j]&0xf)*q + dmin*float64(b[j]>>4)) * av
			} else {
				q := float64(b[32+32*h+l]>>(2*s)&3 | (b[l]>>(4*h+s)&1)<<2)
				d := math.Abs(float64(f16at(b[108:])))
				mag += d * math.Abs(float64(sc[j])) * (q + 4) * av
			}
		}
	}
	return mag
}

// TestK23Loops checks every Q2_K/Q3_K loop the CPU can run against the
// portable kernel on random blocks: the AVX2 loops bit for bit, the
// AVX-512 ones within float rounding (see k23Mag).
func TestK23Loops(t *testing.T) {
	detectOnce.Do(detect)
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, l := range k23Loops {
		if l.avx512 && !hasAVX512VNNI {
			continue
		}
		bb := l.typ.BlockBytes()
		for _, nb := range []int{1, 2, 3, 8, 17} {
			const rows = 9
			w := randomKRows(r, l.typ, rows, nb)
			xq := k23Acts(r, nb)
			y := make([]float32, rows)
			l.run(y, w, nb*bb, xq, nb)
			for i := range y {
				row := w[i*nb*bb : (i+1)*nb*bb]
				want := portable[l.typ](row, xq)
				if !l.avx512 {
					if y[i] != want {
						t.Errorf("%s nb %d row %d: got %v, portable %v (must be identical)", l.name, nb, i, y[i], want)
					}
					continue
				}
				mag := k23Mag(l.typ, row, xq)
				if math.Abs(float64(y[i]-want)) > 1e-5*mag {
					t.Errorf("%s nb %d row %d: got %v, portable %v", l.name, nb, i, y[i], want)
				}
			}
		}
	}
}

// BenchmarkK23Cache runs each loop (and the AVX2 Q6_K loop and the
// portable kernels, for comparison) on a 2048-column matrix of about 256
// KiB, which stays in cache: the loops' compute speed, in weight bytes per
// second.
func BenchmarkK23Cache(b *testing.B) {
	detectOnce.Do(detect)
	if !hasAVX2 {
		b.Skip("no AVX2")
	}
	const nb = 8 // 2048 values per row
	loops := append([]k23Loop{{"Q6_K/avx2", dtype.Q6_K, false, func(y []float32, w []byte, rb int, xq []byte, nb int) {
		vecQ6_KAVX2(&y[0], &w[0], rb, len(y), &xq[0], nb, 8192)
	}}}, k23Loops...)
	for _, typ := range []dtype.Type{dtype.Q2_K, dtype.Q3_K} {
		loops = append(loops, k23Loop{typ.String() + "/portable", typ, false, func(y []float32, w []byte, rb int, xq []byte, nb int) {
			vecOf(portable[typ])(y, w, rb, xq)
		}})
	}
	r := rand.New(rand.NewPCG(5, 6))
	xq := k23Acts(r, nb)
	for _, l := range loops {
		if l.avx512 && !hasAVX512VNNI {
			continue
		}
		rb := nb * l.typ.BlockBytes()
		rows := (256 << 10) / rb
		w := randomKRows(r, l.typ, rows, nb)
		y := make([]float32, rows)
		b.Run(fmt.Sprintf("%s/%dx%d", l.name, rows, 256*nb), func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				l.run(y, w, rb, xq, nb)
			}
		})
	}
}
