package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestDotAxpyF32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 15, 16, 17, 64, 100, 128} {
		a, b := make([]float32, n), make([]float32, n)
		var want float64
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			want += float64(a[i]) * float64(b[i])
		}
		if got := DotF32(a, b); math.Abs(float64(got)-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Errorf("DotF32 n=%d: %v, want %v", n, got, want)
		}
		y := make([]float32, n)
		for i := range y {
			y[i] = float32(i)
		}
		AxpyF32(y, 0.5, a)
		for i := range y {
			if d := y[i] - (float32(i) + 0.5*a[i]); d > 1e-6 || d < -1e-6 {
				t.Fatalf("AxpyF32 n=%d: y[%d] = %v", n, i, y[i])
			}
		}
	}
}

func TestDotAxpyF16(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 3, 16, 31, 64, 100} {
		a := make([]float32, n)
		h := make([]uint16, n)
		var want float64
		for i := range a {
			a[i] = float32(r.NormFloat64())
			h[i] = F32ToF16(float32(r.NormFloat64()))
			want += float64(a[i]) * float64(F16ToF32(h[i]))
		}
		if got := DotF16(a, h); math.Abs(float64(got)-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Errorf("DotF16 n=%d: %v, want %v", n, got, want)
		}
		y := make([]float32, n)
		AxpyF16(y, 2, h)
		for i := range y {
			if y[i] != 2*F16ToF32(h[i]) {
				t.Fatalf("AxpyF16 n=%d: y[%d] = %v, want %v", n, i, y[i], 2*F16ToF32(h[i]))
			}
		}
	}
}

func BenchmarkDotF32(b *testing.B) {
	a, c := make([]float32, 64), make([]float32, 64)
	b.SetBytes(2 * 4 * 64)
	for b.Loop() {
		DotF32(a, c)
	}
}

// BenchmarkSwiGLU times the gated activation of a decoded token's MLP
// (5632 values, TinyLlama's hidden width) on one core: an exponential and
// a division a value, serial work between two products.
func BenchmarkSwiGLU(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	gate, up := make([]float32, 5632), make([]float32, 5632)
	for i := range up {
		up[i] = float32(r.NormFloat64())
	}
	b.SetBytes(2 * 4 * 5632)
	for b.Loop() {
		for i := range gate {
			gate[i] = float32(i%64) - 32 // fresh inputs, within exp's range
		}
		SwiGLU(gate, up)
	}
}

// TestDotsAxpysF16 checks the run versions against one call per position:
// the same arithmetic, so equal bit for bit, for vector and odd lengths.
func TestDotsAxpysF16(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ n, stride, count int }{{64, 256, 1}, {64, 256, 37}, {128, 128, 5}, {128, 512, 40}, {64, 64, 2}, {24, 40, 9}, {16, 16, 3}} {
		a := make([]float32, c.n)
		for i := range a {
			a[i] = float32(r.NormFloat64())
		}
		b := make([]uint16, (c.count-1)*c.stride+c.n)
		for i := range b {
			b[i] = F32ToF16(float32(r.NormFloat64()))
		}
		got := make([]float32, c.count)
		DotsF16(got, a, b, c.stride)
		alpha := make([]float32, c.count)
		want := make([]float32, c.n)
		for j := range got {
			if w := DotF16(a, b[j*c.stride:]); got[j] != w {
				t.Fatalf("DotsF16 %+v: [%d] = %v, DotF16 %v", c, j, got[j], w)
			}
			alpha[j] = float32(r.Float64())
			AxpyF16(want, alpha[j], b[j*c.stride:j*c.stride+c.n])
		}
		y := make([]float32, c.n)
		AxpysF16(y, alpha, b, c.stride)
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("AxpysF16 %+v: y[%d] = %v, AxpyF16 calls %v", c, i, y[i], want[i])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("DotsF16 with too few keys did not panic")
		}
	}()
	DotsF16(make([]float32, 3), make([]float32, 16), make([]uint16, 40), 16)
}

// TestRoundF16 checks the vector rounding against F32ToF16 on ordinary,
// tie, overflowing, subnormal and NaN inputs, for lengths around 16.
func TestRoundF16(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	special := []float32{0, -0, 1, 65504, 65519, 65520, 1e9, -1e9, 5.96e-8, 2.98e-8, 1e-40,
		float32(math.Inf(1)), float32(math.NaN()), 1 + 1.0/2048, 1 + 3.0/2048}
	for _, n := range []int{0, 5, 16, 33, 100} {
		src := make([]float32, n)
		for i := range src {
			if i < len(special) && n > 16 {
				src[i] = special[i]
			} else {
				src[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(10)-5)))
			}
		}
		dst := make([]float32, n)
		RoundF16(dst, src)
		for i, v := range src {
			if want := F16ToF32(F32ToF16(v)); math.Float32bits(dst[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: RoundF16(%v) = %v, F32ToF16 gives %v", n, v, dst[i], want)
			}
		}
	}
}

// TestSwiGLU checks the vector path against the portable formula (float32
// rounding of float64 math.Exp) to within 4 ulp, across ordinary values,
// both tails (where silu tends to 0, e^-x overflowing float32, and to x)
// and lengths with and without a tail.
func TestSwiGLU(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 15, 16, 64, 70, 5632} {
		gate, up := make([]float32, n), make([]float32, n)
		for i := range gate {
			gate[i] = float32(r.NormFloat64() * 4)
			up[i] = float32(r.NormFloat64())
		}
		if n == 70 {
			copy(gate, []float32{0, -0, 1e-30, -1e-30, 88, 88.7, 89, 100, -87, -88.7, -89, -100, -1e4, 1e4, 20, -20})
		}
		g := append([]float32(nil), gate...)
		SwiGLU(gate, up)
		for i, x := range g {
			want := float64(x / (1 + float32(math.Exp(float64(-x)))) * up[i])
			if d := math.Abs(float64(gate[i]) - want); d > 4*math.Abs(want)*0x1p-24+1e-44 {
				t.Fatalf("n=%d: swiglu(%v, %v) = %v, want %v", n, x, up[i], gate[i], want)
			}
		}
	}
}

// TestExpShift checks the vector exponentials and their sum against the
// portable formula (4 ulp), including values far below the shift.
func TestExpShift(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 16, 37, 300} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 10)
		}
		if n == 300 {
			x[0], x[1], x[2] = -200, -87.5, 0
		}
		orig := append([]float32(nil), x...)
		sum := ExpShift(x, 3)
		var want float64
		for i, v := range orig {
			e := float32(math.Exp(float64(v - 3)))
			want += float64(e)
			if d := math.Abs(float64(x[i] - e)); d > 4*float64(e)*0x1p-24+1e-44 {
				t.Fatalf("n=%d: exp(%v-3) = %v, want %v", n, v, x[i], e)
			}
		}
		if math.Abs(sum-want) > 1e-6*want {
			t.Fatalf("n=%d: sum %v, want %v", n, sum, want)
		}
	}
}

// TestF32ToF16Strided checks the scattered conversion against F32ToF16
// and that it writes nothing but every stride-th half.
func TestF32ToF16Strided(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 15, 16, 17, 64, 100} {
		for _, stride := range []int{1, 3, 16} {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(r.NormFloat64() * 100)
			}
			dst := make([]uint16, n*stride+5)
			for i := range dst {
				dst[i] = 0xbeef
			}
			F32ToF16Strided(dst, stride, src)
			for i, h := range dst {
				want := uint16(0xbeef)
				if i%stride == 0 && i/stride < n {
					want = F32ToF16(src[i/stride])
				}
				if h != want {
					t.Fatalf("n=%d stride=%d: dst[%d] = %#x, want %#x", n, stride, i, h, want)
				}
			}
		}
	}
}

// TestF32ToF16Slice checks the vector conversion against F32ToF16, value
// by value, over normal, subnormal, overflowing and special values.
func TestF32ToF16Slice(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	src := make([]float32, 1000)
	for i := range src {
		switch i % 5 {
		case 0:
			src[i] = float32(r.NormFloat64())
		case 1:
			src[i] = float32(r.NormFloat64() * 1e-6) // half subnormals
		case 2:
			src[i] = float32(r.NormFloat64() * 1e5) // beyond half's range
		case 3:
			src[i] = math.Float32frombits(r.Uint32()) // any bits
		default:
			src[i] = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), 65504, 65520}[i/5%5]
		}
	}
	dst := make([]uint16, len(src))
	for _, n := range []int{len(src), 17, 15} {
		F32ToF16Slice(dst[:n], src[:n])
		for i := 0; i < n; i++ {
			want := F32ToF16(src[i])
			if src[i] != src[i] { // NaN: any NaN will do
				if dst[i]&0x7c00 != 0x7c00 || dst[i]&0x3ff == 0 {
					t.Fatalf("NaN %x became %x", math.Float32bits(src[i]), dst[i])
				}
				continue
			}
			if dst[i] != want {
				t.Fatalf("n=%d: %g (%x) became %x, want %x", n, src[i], math.Float32bits(src[i]), dst[i], want)
			}
		}
	}
}

// TestScaleMul checks ScaleMul against its definition, bit for bit.
func TestScaleMul(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x, w := make([]float32, 300), make([]float32, 300)
	for i := range x {
		x[i], w[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	for _, n := range []int{300, 16, 7} {
		dst := make([]float32, n)
		ScaleMul(dst, x[:n], w, 0.37)
		for i := range dst {
			if want := x[i] * 0.37 * w[i]; dst[i] != want {
				t.Fatalf("n=%d: dst[%d] = %v, want %v", n, i, dst[i], want)
			}
		}
	}
}

// TestScaleMax checks ScaleMax and Scale against their definitions, bit
// for bit, at lengths around the vector width.
func TestScaleMax(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 15, 16, 17, 100, 1000} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 10)
		}
		want := make([]float32, n)
		wmax := float32(math.Inf(-1))
		for i, v := range x {
			want[i] = v * 0.125
			wmax = max(wmax, want[i])
		}
		if got := ScaleMax(x, 0.125); got != wmax {
			t.Fatalf("n=%d: ScaleMax = %v, want %v", n, got, wmax)
		}
		for i := range x {
			if x[i] != want[i] {
				t.Fatalf("n=%d: x[%d] = %v, want %v", n, i, x[i], want[i])
			}
		}
		Scale(x, 3)
		for i := range x {
			if x[i] != want[i]*3 {
				t.Fatalf("n=%d: Scale: x[%d] = %v, want %v", n, i, x[i], want[i]*3)
			}
		}
	}
}

// TestDotsF16T checks DotsF16T, vector and portable, against DotF16 over
// keys laid out in blocks of 16 positions, for head widths and position
// counts around the block and vector sizes, with a head that does not
// start at channel 0.
func TestDotsF16T(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, hd := range []int{8, 64, 128, 12} {
		const heads = 3
		dim := heads * hd
		for _, n := range []int{1, 15, 16, 17, 40, 64} {
			blocks := (n + 15) / 16
			kt := make([]uint16, blocks*dim*16)
			keys := make([][]uint16, n) // key of the middle head, position j
			for j := 0; j < n; j++ {
				keys[j] = make([]uint16, hd)
				for ch := 0; ch < dim; ch++ {
					h := F32ToF16(float32(r.NormFloat64()))
					kt[(j/16*dim+ch)*16+j%16] = h
					if ch >= hd && ch < 2*hd {
						keys[j][ch-hd] = h
					}
				}
			}
			q := make([]float32, hd)
			for i := range q {
				q[i] = float32(r.NormFloat64())
			}
			for _, simd := range []bool{true, false} {
				saved := dotsF16TSIMD
				if !simd {
					dotsF16TSIMD = nil
				}
				dst := make([]float32, n+1)
				dst[n] = 42 // beyond the positions asked for: untouched
				DotsF16T(dst[:n], q, kt[hd*16:], dim*16)
				dotsF16TSIMD = saved
				for j := 0; j < n; j++ {
					var want, mag float64
					for d, v := range q {
						p := float64(v) * float64(F16ToF32(keys[j][d]))
						want += p
						mag += math.Abs(p)
					}
					if math.Abs(float64(dst[j])-want) > 1e-5*mag+1e-6 {
						t.Fatalf("hd %d n %d simd %v: dst[%d] = %v, want %v", hd, n, simd, j, dst[j], want)
					}
				}
				if dst[n] != 42 {
					t.Fatalf("hd %d n %d: wrote past len(dst)", hd, n)
				}
			}
		}
	}
}

// TestDotsF16TGroup checks the grouped scores, vector and portable, against
// DotsF16T head by head, for counts of positions around the blocks (16)
// and the AVX2 loop's halves of them (8), and keys of the second of three
// KV heads (a stride of three heads' blocks).
func TestDotsF16TGroup(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, g := range []int{8, 4} {
		for _, hd := range []int{64, 128, 6, 12, 2} {
			kvHeads := 3
			dim := kvHeads * hd
			for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 24, 33, 50, 100, 300} {
				kt := make([]uint16, (n+15)/16*dim*16)
				for i := range kt {
					kt[i] = F32ToF16(float32(r.NormFloat64()))
				}
				q := make([]float32, g*hd) // head r's query at q[r*hd:]
				for i := range q {
					q[i] = float32(r.NormFloat64())
				}
				keys := kt[hd*16:] // the second KV head
				want := make([]float32, n)
				for _, simd := range []bool{true, false} {
					saved8, saved4 := dotsF16TG8SIMD, dotsF16TG4SIMD
					if !simd {
						dotsF16TG8SIMD, dotsF16TG4SIMD = nil, nil
					}
					dst := make([]float32, g*n+1)
					dst[g*n] = 42
					DotsF16TGroup(dst[:g*n], n, q, g, keys, dim*16)
					dotsF16TG8SIMD, dotsF16TG4SIMD = saved8, saved4
					for rr := 0; rr < g; rr++ {
						DotsF16T(want, q[rr*hd:(rr+1)*hd], keys, dim*16)
						for j := 0; j < n; j++ {
							if d := math.Abs(float64(dst[rr*n+j] - want[j])); d > 1e-4*(1+math.Abs(float64(want[j]))) {
								t.Fatalf("g %d hd %d n %d simd %v: head %d score %d = %v, want %v", g, hd, n, simd, rr, j, dst[rr*n+j], want[j])
							}
						}
					}
					if dst[g*n] != 42 {
						t.Fatalf("g %d hd %d n %d: wrote past the rows", g, hd, n)
					}
				}
			}
		}
	}
}

// TestAxpysF16Group checks the grouped value sums against AxpysF16 head by
// head, bit for bit, for counts of positions around the AVX2 loops'
// chunks (64), widths the vector paths take (multiples of 16) and one
// they do not, and twelve heads (the AVX2 loops of eight and of four).
func TestAxpysF16Group(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, g := range []int{8, 4, 2, 12} {
		for _, hd := range []int{64, 128, 16, 48, 8} {
			const kvdim = 256
			for _, n := range []int{1, 7, 15, 16, 17, 33, 63, 64, 65, 100, 300} {
				values := make([]uint16, n*kvdim)
				for i := range values {
					values[i] = F32ToF16(float32(r.NormFloat64()))
				}
				p := make([]float32, g*n)
				for i := range p {
					p[i] = r.Float32()
				}
				out := make([]float32, g*hd+1)
				want := make([]float32, g*hd+1)
				for i := range out {
					out[i] = float32(r.NormFloat64())
					want[i] = out[i]
				}
				AxpysF16Group(out[:g*hd], p, n, g, values[hd:], kvdim)
				for rr := 0; rr < g; rr++ {
					AxpysF16(want[rr*hd:(rr+1)*hd], p[rr*n:(rr+1)*n], values[hd:], kvdim)
				}
				for i := range out {
					if out[i] != want[i] {
						t.Fatalf("g %d hd %d n %d: out[%d] = %v, want %v", g, hd, n, i, out[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkAttentionGroup times the decode attention of one KV head and
// its eight query heads (head width 64, as TinyLlama's) over n cached
// positions: the scores, the softmax and the sums of values, grouped
// (DotsF16TGroup, SoftmaxF16Rows of eight rows, AxpysF16Group, the path
// model takes where GroupedScores(8)) and head by head (DotsF16T,
// SoftmaxF16Rows, AxpysF16, eight times), and each path's scores and
// value sums alone.
func BenchmarkAttentionGroup(b *testing.B) {
	const g, hd = 8, 64
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{81, 96, 512} {
		kt := make([]uint16, (n+15)/16*16*hd) // one head's key blocks
		vals := make([]uint16, n*hd)
		for i := range kt {
			kt[i] = F32ToF16(float32(r.NormFloat64()))
		}
		for i := range vals {
			vals[i] = F32ToF16(float32(r.NormFloat64()))
		}
		q := make([]float32, g*hd)
		for i := range q {
			q[i] = F16ToF32(F32ToF16(float32(r.NormFloat64())))
		}
		scores := make([]float32, g*n)
		out := make([]float32, g*hd)
		const scale = 0.125
		grouped := func(scoresOnly, valuesOnly bool) {
			if !valuesOnly {
				DotsF16TGroup(scores, n, q, g, kt, 16*hd)
				SoftmaxF16Rows(scores, g, scale)
			}
			if !scoresOnly {
				clear(out)
				AxpysF16Group(out, scores, n, g, vals, hd)
			}
		}
		heads := func(scoresOnly, valuesOnly bool) {
			for h := 0; h < g; h++ {
				sc := scores[h*n : (h+1)*n]
				if !valuesOnly {
					DotsF16T(sc, q[h*hd:(h+1)*hd], kt, 16*hd)
					SoftmaxF16Rows(sc, 1, scale)
				}
				if !scoresOnly {
					o := out[h*hd : (h+1)*hd]
					clear(o)
					AxpysF16(o, sc, vals, hd)
				}
			}
		}
		grouped(true, false) // probabilities for the value sums alone
		for _, c := range []struct {
			name                   string
			run                    func(bool, bool)
			scoresOnly, valuesOnly bool
		}{
			{"grouped", grouped, false, false},
			{"heads", heads, false, false},
			{"grouped-scores", grouped, true, false},
			{"heads-scores", heads, true, false},
			{"grouped-values", grouped, false, true},
			{"heads-values", heads, false, true},
		} {
			b.Run(fmt.Sprintf("n=%d/%s", n, c.name), func(b *testing.B) {
				for b.Loop() {
					c.run(c.scoresOnly, c.valuesOnly)
				}
			})
		}
	}
}

// TestSoftmaxF16Rows checks SoftmaxF16Rows against a float64 softmax
// rounded to half precision, for row lengths around the vector width and
// several rows at once; where rows are whole vectors, the vector path must
// equal ScaleMax, ExpShift, Scale and RoundF16 in turn bit for bit.
func TestSoftmaxF16Rows(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 3, 7, 8, 15, 16, 17, 24, 40, 64, 81, 100} {
		for _, rows := range []int{1, 8} {
			x := make([]float32, rows*n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 20)
			}
			got := append([]float32(nil), x...)
			SoftmaxF16Rows(got, rows, 0.125)
			for k := 0; k < rows; k++ {
				row := x[k*n : (k+1)*n]
				m := math.Inf(-1)
				for _, v := range row {
					m = max(m, float64(v*0.125))
				}
				var sum float64
				for _, v := range row {
					sum += math.Exp(float64(v*0.125) - m)
				}
				for i, v := range row {
					want := math.Exp(float64(v*0.125)-m) / sum
					g := float64(got[k*n+i])
					// One half-precision step, relative, or an absolute
					// 1e-7 for values near the bottom of its range.
					if d := math.Abs(g - want); d > want/1024+1e-7 {
						t.Fatalf("n=%d rows=%d: row %d [%d] = %v, want %v", n, rows, k, i, g, want)
					}
					if f16 := f16Table[F32ToF16(float32(g))]; f16 != float32(g) {
						t.Fatalf("n=%d: [%d] = %v is not a half", n, i, g)
					}
				}
			}
			if n%16 == 0 {
				want := append([]float32(nil), x...)
				for k := 0; k < rows; k++ {
					row := want[k*n : (k+1)*n]
					Scale(row, float32(1/ExpShift(row, ScaleMax(row, 0.125))))
					RoundF16(row, row)
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("n=%d rows=%d: [%d] = %v, the steps in turn give %v", n, rows, i, got[i], want[i])
					}
				}
			}
		}
	}
}
