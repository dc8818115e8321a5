package kernels_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"ferry/dtype"
	"ferry/kernels"
	"ferry/quant"
)

var allTypes = []dtype.Type{
	dtype.F32, dtype.F16, dtype.BF16, dtype.Q8_0, dtype.Q4_0, dtype.Q4_1,
	dtype.Q5_0, dtype.Q5_1, dtype.Q2_K, dtype.Q3_K, dtype.Q4_K, dtype.Q5_K,
	dtype.Q6_K, dtype.Q8_K,
}

func gaussian(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func quantize(t testing.TB, typ dtype.Type, x []float32) []byte {
	t.Helper()
	q, err := quant.Quantize(typ, x)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// refDot is the float64 dot product of the dequantized row with x, and the
// sum of |w_i x_i| (the scale against which rounding error is judged).
//
// x is first converted as the kernels convert activations (8-bit blocks for
// quantized types, half precision for F16, ...), so the comparison checks
// the integer arithmetic and layouts with only float rounding as slack.
func refDot(typ dtype.Type, row []byte, x []float32) (dot, mag float64) {
	w := make([]float32, len(x))
	kernels.Dequantize(w, row, typ)
	xs := kernels.ActValues(typ, x)
	for i := range xs {
		p := float64(w[i]) * float64(xs[i])
		dot += p
		mag += math.Abs(p)
	}
	if typ == dtype.Q4_1 || typ == dtype.Q5_1 {
		// The min term uses the activation block's stored sum, which
		// llama.cpp (block_q8_1) rounds to fp16: correct for the rounding.
		sums := kernels.ActSums(typ, x)
		bb := typ.BlockBytes()
		for b, s := range sums {
			m := float64(kernels.F16ToF32(uint16(row[b*bb+2]) | uint16(row[b*bb+3])<<8))
			var sx float64
			for _, v := range xs[32*b : 32*b+32] {
				sx += float64(v)
			}
			dot += m * (float64(s) - sx)
		}
	}
	return dot, mag
}

// close reports whether got matches the reference within 1e-4 relative, plus
// a float32-rounding allowance on the magnitude of the terms for results
// that cancel to near zero.
func near(got float32, ref, mag float64) bool {
	return math.Abs(float64(got)-ref) <= 1e-4*math.Abs(ref)+2e-6*mag
}

func colsFor(typ dtype.Type) []int {
	if typ.BlockSize() == 1 {
		return []int{1, 7, 37, 256, 300, 1024}
	}
	return []int{typ.BlockSize(), 512, 1024 + typ.BlockSize()*3}
}

func TestSupported(t *testing.T) {
	for _, typ := range allTypes {
		if !kernels.Supported(typ) {
			t.Errorf("%v not supported", typ)
		}
	}
	for _, typ := range []dtype.Type{dtype.Q8_1, dtype.I8, dtype.I32, dtype.F64, dtype.Type(99), dtype.Type(1 << 30)} {
		if kernels.Supported(typ) {
			t.Errorf("%v reported supported", typ)
		}
	}
}

func TestDot(t *testing.T) {
	for _, typ := range allTypes {
		for _, cols := range colsFor(typ) {
			for s := uint64(0); s < 3; s++ {
				w := gaussian(10+s, cols)
				x := gaussian(20+s, cols)
				row := quantize(t, typ, w)
				got := kernels.Dot(typ, row, x)
				ref, mag := refDot(typ, row, x)
				if !near(got, ref, mag) {
					t.Errorf("%v cols %d: Dot = %v, reference %v", typ, cols, got, ref)
				}
			}
		}
	}
}

// TestDotOffset runs Dot on a row that is a sub-slice at an odd offset (rows
// need not be aligned) with trailing bytes after it.
func TestDotOffset(t *testing.T) {
	for _, typ := range allTypes {
		cols := 512
		w := gaussian(1, cols)
		x := gaussian(2, cols)
		q := quantize(t, typ, w)
		buf := make([]byte, len(q)+11)
		copy(buf[3:], q)
		got := kernels.Dot(typ, buf[3:], x)
		want := kernels.Dot(typ, q, x)
		if got != want {
			t.Errorf("%v: Dot at offset 3 = %v, aligned %v", typ, got, want)
		}
	}
}

func matrix(t testing.TB, typ dtype.Type, rows, cols int, seed uint64) []byte {
	w := gaussian(seed, rows*cols)
	// Give rows different scales so that a row mix-up shows.
	for i := 0; i < rows; i++ {
		s := float32(1 + i%7)
		for j := 0; j < cols; j++ {
			w[i*cols+j] *= s
		}
	}
	return quantize(t, typ, w)
}

func TestMatVec(t *testing.T) {
	for _, typ := range allTypes {
		// 3 rows: serial path; 160x512 and 300x512: parallel path.
		for _, shape := range [][2]int{{3, 256}, {160, 512}, {300, 512}} {
			rows, cols := shape[0], shape[1]
			w := matrix(t, typ, rows, cols, 7)
			x := gaussian(8, cols)
			y := make([]float32, rows)
			kernels.MatVec(y, w, typ, x)
			rb, _ := typ.RowBytes(cols)
			for i := 0; i < rows; i++ {
				row := w[i*rb : (i+1)*rb]
				ref, mag := refDot(typ, row, x)
				if !near(y[i], ref, mag) {
					t.Fatalf("%v %dx%d: y[%d] = %v, reference %v", typ, rows, cols, i, y[i], ref)
				}
				if d := kernels.Dot(typ, row, x); d != y[i] {
					t.Fatalf("%v %dx%d: y[%d] = %v, Dot = %v", typ, rows, cols, i, y[i], d)
				}
			}
		}
	}
}

func TestMatMul(t *testing.T) {
	for _, typ := range allTypes {
		for _, c := range []struct{ rows, cols, n int }{
			{5, 256, 1}, {5, 256, 2}, {33, 512, 9}, {70, 512, 17},
		} {
			cols := c.cols
			if typ.BlockSize() == 1 {
				cols = c.cols + 45 // exercise partial spans
			}
			w := matrix(t, typ, c.rows, cols, 3)
			x := gaussian(4, cols*c.n)
			y := make([]float32, c.rows*c.n)
			kernels.MatMul(y, w, typ, x, c.n)
			rb, _ := typ.RowBytes(cols)
			for j := 0; j < c.n; j++ {
				xj := x[j*cols : (j+1)*cols]
				for i := 0; i < c.rows; i++ {
					ref, mag := refDot(typ, w[i*rb:(i+1)*rb], xj)
					if got := y[j*c.rows+i]; !near(got, ref, mag) {
						t.Fatalf("%v rows %d cols %d n %d: y[%d,%d] = %v, reference %v", typ, c.rows, cols, c.n, j, i, got, ref)
					}
				}
			}
		}
	}
}

// TestMatMuls checks that products sharing an input, computed together
// (mixed types, small and large, serial and parallel sizes), equal the same
// products computed one by one.
func TestMatMuls(t *testing.T) {
	for _, c := range []struct{ cols, n int }{{256, 1}, {1024, 1}, {512, 3}} {
		shapes := []struct {
			typ  dtype.Type
			rows int
		}{{dtype.Q4_K, 300}, {dtype.Q8_0, 7}, {dtype.Q6_K, 129}, {dtype.F16, 64}, {dtype.Q4_K, 1}}
		x := gaussian(9, c.cols*c.n)
		var ps []kernels.Product
		var want [][]float32
		for i, sh := range shapes {
			w := matrix(t, sh.typ, sh.rows, c.cols, uint64(10+i))
			y := make([]float32, sh.rows*c.n)
			kernels.MatMul(y, w, sh.typ, x, c.n)
			want = append(want, y)
			ps = append(ps, kernels.Product{Y: make([]float32, sh.rows*c.n), W: w, Type: sh.typ})
		}
		kernels.MatMuls(ps, x, c.n)
		for i, p := range ps {
			for j := range p.Y {
				if p.Y[j] != want[i][j] {
					t.Fatalf("cols %d n %d: product %d (%v) y[%d] = %v, alone %v", c.cols, c.n, i, p.Type, j, p.Y[j], want[i][j])
				}
			}
		}
	}
}

// TestConcurrent calls MatVec and MatMul from several goroutines at once on
// the parallel path; run with -race.
func TestConcurrent(t *testing.T) {
	const rows, cols = 300, 512
	typ := dtype.Q4_K
	w := matrix(t, typ, rows, cols, 5)
	x := gaussian(6, cols*3)
	want := make([]float32, rows*3)
	kernels.MatMul(want, w, typ, x, 3)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			y := make([]float32, rows*3)
			for it := 0; it < 5; it++ {
				if g%2 == 0 {
					kernels.MatMul(y, w, typ, x, 3)
					for i := range y {
						if y[i] != want[i] {
							errs <- fmt.Sprintf("MatMul goroutine %d: y[%d] = %v, want %v", g, i, y[i], want[i])
							return
						}
					}
				} else {
					for j := 0; j < 3; j++ {
						kernels.MatVec(y[:rows], w, typ, x[j*cols:(j+1)*cols])
						rb, _ := typ.RowBytes(cols)
						for i := 0; i < rows; i++ {
							if d := kernels.Dot(typ, w[i*rb:(i+1)*rb], x[j*cols:(j+1)*cols]); y[i] != d {
								errs <- fmt.Sprintf("MatVec goroutine %d: y[%d] = %v, want %v", g, i, y[i], d)
								return
							}
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	const rows, cols = 256, 1024 // parallel path
	for _, typ := range allTypes {
		w := matrix(t, typ, rows, cols, 1)
		x := gaussian(2, cols*4)
		y := make([]float32, rows*4)
		kernels.MatVec(y[:rows], w, typ, x[:cols]) // warm the pool
		if a := testing.AllocsPerRun(20, func() { kernels.Dot(typ, w, x[:cols]) }); a != 0 {
			t.Errorf("%v Dot: %v allocs per call", typ, a)
		}
		if a := testing.AllocsPerRun(20, func() { kernels.MatVec(y[:rows], w, typ, x[:cols]) }); a != 0 {
			t.Errorf("%v MatVec: %v allocs per call", typ, a)
		}
		if a := testing.AllocsPerRun(20, func() { kernels.MatMul(y, w, typ, x, 4) }); a != 0 {
			t.Errorf("%v MatMul: %v allocs per call", typ, a)
		}
		ps := []kernels.Product{{Y: y[:rows/2], W: w, Type: typ}, {Y: y[rows/2 : rows], W: w, Type: typ}}
		if a := testing.AllocsPerRun(20, func() { kernels.MatMuls(ps, x[:cols], 1) }); a != 0 {
			t.Errorf("%v MatMuls: %v allocs per call", typ, a)
		}
	}
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	f()
}

func TestMisusePanics(t *testing.T) {
	x := make([]float32, 64)
	row := make([]byte, 34*2)
	mustPanic(t, "short row", func() { kernels.Dot(dtype.Q8_0, row[:67], x) })
	mustPanic(t, "partial block", func() { kernels.Dot(dtype.Q8_0, row, x[:40]) })
	mustPanic(t, "unsupported", func() { kernels.Dot(dtype.Q8_1, row, x) })
	mustPanic(t, "short matrix", func() { kernels.MatVec(make([]float32, 3), row, dtype.Q8_0, x) })
	mustPanic(t, "bad n", func() { kernels.MatMul(make([]float32, 3), row, dtype.Q8_0, x, 2) })
	mustPanic(t, "short src", func() { kernels.Dequantize(make([]float32, 64), row[:60], dtype.Q8_0) })
	if got := kernels.Dot(dtype.Q4_K, nil, nil); got != 0 {
		t.Errorf("empty Dot = %v", got)
	}
}

// ---- Hand-built blocks: bytes laid out per ggml-common.h, written here
// independently of the kernels, with the expected values computed directly.

const (
	h0_25 = 0x3400 // 0.25 in IEEE half
	h0_5  = 0x3800 // 0.5
	hNeg1 = 0xBC00 // -1
)

func put16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }

func checkBlock(t *testing.T, typ dtype.Type, blk []byte, want []float32) {
	t.Helper()
	if len(blk) != typ.BlockBytes()*len(want)/typ.BlockSize() {
		t.Fatalf("%v: test block is %d bytes", typ, len(blk))
	}
	got := make([]float32, len(want))
	kernels.Dequantize(got, blk, typ)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v: value %d = %v, want %v", typ, i, got[i], want[i])
		}
	}
	// The fused dot must agree with the layout too: dot with unit vectors
	// picks single values.
	// (The activations are converted as the kernels do; see refDot.)
	x := make([]float32, len(want))
	for _, i := range []int{0, 1, 15, 16, 17, 31, len(want) - 1, len(want) / 2, len(want)/2 + 33} {
		if i >= len(want) {
			continue
		}
		clear(x)
		x[i] = 1
		ref, _ := refDot(typ, blk, x)
		if d := kernels.Dot(typ, blk, x); math.Abs(float64(d)-ref) > 1e-6*math.Abs(ref) {
			t.Fatalf("%v: Dot with e_%d = %v, want %v", typ, i, d, ref)
		}
	}
	var ref float64
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	xa := kernels.ActValues(typ, x)
	for i := range x {
		ref += float64(want[i]) * float64(xa[i])
	}
	if d := kernels.Dot(typ, blk, x); math.Abs(float64(d)-ref) > 1e-5*math.Abs(ref)+1e-4 {
		t.Fatalf("%v: Dot = %v, want %v", typ, d, ref)
	}
}

func TestHandQ8_0(t *testing.T) {
	blk := make([]byte, 34)
	put16(blk, h0_5)
	want := make([]float32, 32)
	for i := 0; i < 32; i++ {
		q := int8(i*9 - 128) // -128 .. 151 wraps: covers the int8 range
		blk[2+i] = byte(q)
		want[i] = 0.5 * float32(q)
	}
	checkBlock(t, dtype.Q8_0, blk, want)
}

func TestHandQ4_0(t *testing.T) {
	blk := make([]byte, 18)
	put16(blk, h0_5)
	want := make([]float32, 32)
	for j := 0; j < 16; j++ {
		lo, hi := j, 15-j
		blk[2+j] = byte(lo) | byte(hi)<<4
		want[j] = 0.5 * float32(lo-8)    // low nibbles: first half
		want[j+16] = 0.5 * float32(hi-8) // high nibbles: second half
	}
	checkBlock(t, dtype.Q4_0, blk, want)
}

func TestHandQ4_1(t *testing.T) {
	blk := make([]byte, 20)
	put16(blk[0:], h0_5)
	put16(blk[2:], hNeg1)
	want := make([]float32, 32)
	for j := 0; j < 16; j++ {
		lo, hi := (3*j)%16, 15-j
		blk[4+j] = byte(lo) | byte(hi)<<4
		want[j] = 0.5*float32(lo) - 1
		want[j+16] = 0.5*float32(hi) - 1
	}
	checkBlock(t, dtype.Q4_1, blk, want)
}

func TestHandQ5_0(t *testing.T) {
	blk := make([]byte, 22)
	put16(blk, h0_5)
	want := make([]float32, 32)
	var qh uint32
	for i := 0; i < 32; i++ {
		q := (i * 11) % 32 // 5-bit value of element i
		j := i % 16
		if i < 16 {
			blk[6+j] |= byte(q & 0xf)
		} else {
			blk[6+j] |= byte(q&0xf) << 4
		}
		qh |= uint32(q>>4) << i // fifth bit of element i is bit i
		want[i] = 0.5 * float32(q-16)
	}
	binary.LittleEndian.PutUint32(blk[2:], qh)
	checkBlock(t, dtype.Q5_0, blk, want)
}

func TestHandQ5_1(t *testing.T) {
	blk := make([]byte, 24)
	put16(blk[0:], h0_25)
	put16(blk[2:], h0_5)
	want := make([]float32, 32)
	var qh uint32
	for i := 0; i < 32; i++ {
		q := (i*7 + 3) % 32
		j := i % 16
		if i < 16 {
			blk[8+j] |= byte(q & 0xf)
		} else {
			blk[8+j] |= byte(q&0xf) << 4
		}
		qh |= uint32(q>>4) << i
		want[i] = 0.25*float32(q) + 0.5
	}
	binary.LittleEndian.PutUint32(blk[4:], qh)
	checkBlock(t, dtype.Q5_1, blk, want)
}

// Q4_K: d=0.5, dmin=0.25; eight 6-bit scales and mins, chosen above 15 for
// some sub-blocks so that the packed high bits matter.
func TestHandQ4_K(t *testing.T) {
	sc := [8]int{1, 2, 3, 4, 17, 33, 50, 63}
	mn := [8]int{0, 5, 10, 63, 20, 40, 1, 16}
	blk := make([]byte, 144)
	put16(blk[0:], h0_5)
	put16(blk[2:], h0_25)
	p := blk[4:16]
	for j := 0; j < 4; j++ {
		// bytes 0-3: scale j (6 bits) + top two bits of scale j+4;
		// bytes 4-7: min j (6 bits) + top two bits of min j+4;
		// bytes 8-11: low nibbles of scale j+4 and min j+4.
		p[j] = byte(sc[j]) | byte(sc[j+4]>>4)<<6
		p[j+4] = byte(mn[j]) | byte(mn[j+4]>>4)<<6
		p[j+8] = byte(sc[j+4]&0xf) | byte(mn[j+4]&0xf)<<4
	}
	want := make([]float32, 256)
	for v := 0; v < 256; v++ {
		c, half, l := v/64, (v%64)/32, v%32 // 64-value chunk, which nibble, byte
		q := (v * 5) % 16
		if half == 0 {
			blk[16+32*c+l] |= byte(q)
		} else {
			blk[16+32*c+l] |= byte(q) << 4
		}
		s := 2*c + half // sub-block of 32
		want[v] = 0.5*float32(sc[s])*float32(q) - 0.25*float32(mn[s])
	}
	checkBlock(t, dtype.Q4_K, blk, want)
}

func TestHandQ5_K(t *testing.T) {
	sc := [8]int{63, 1, 16, 31, 32, 47, 8, 60}
	mn := [8]int{3, 0, 17, 63, 33, 2, 48, 15}
	blk := make([]byte, 176)
	put16(blk[0:], h0_25)
	put16(blk[2:], h0_5)
	p := blk[4:16]
	for j := 0; j < 4; j++ {
		p[j] = byte(sc[j]) | byte(sc[j+4]>>4)<<6
		p[j+4] = byte(mn[j]) | byte(mn[j+4]>>4)<<6
		p[j+8] = byte(sc[j+4]&0xf) | byte(mn[j+4]&0xf)<<4
	}
	want := make([]float32, 256)
	for v := 0; v < 256; v++ {
		c, half, l := v/64, (v%64)/32, v%32
		q := (v*13 + 5) % 32
		if half == 0 {
			blk[48+32*c+l] |= byte(q & 0xf)
		} else {
			blk[48+32*c+l] |= byte(q&0xf) << 4
		}
		blk[16+l] |= byte(q>>4) << (2*c + half) // fifth bit: qh[l], bit 2c+half
		s := 2*c + half
		want[v] = 0.25*float32(sc[s])*float32(q) - 0.5*float32(mn[s])
	}
	checkBlock(t, dtype.Q5_K, blk, want)
}

// Q6_K: d=0.5, sixteen signed scales; 6-bit q with all high-bit patterns.
func TestHandQ6_K(t *testing.T) {
	blk := make([]byte, 210)
	put16(blk[208:], h0_5)
	var sc [16]int8
	for j := range sc {
		sc[j] = int8(j*17 - 120)
		blk[192+j] = byte(sc[j])
	}
	want := make([]float32, 256)
	for v := 0; v < 256; v++ {
		h, r := v/128, v%128
		quarter, l := r/32, r%32
		q := (v * 7) % 64
		// quarters 0,1: low nibbles of ql[64h+l], ql[64h+32+l];
		// quarters 2,3: high nibbles of the same bytes;
		// top two bits: qh[32h+l] at bit 2*quarter.
		qi := 64*h + l + 32*(quarter%2)
		if quarter < 2 {
			blk[qi] |= byte(q & 0xf)
		} else {
			blk[qi] |= byte(q&0xf) << 4
		}
		blk[128+32*h+l] |= byte(q>>4) << (2 * quarter)
		want[v] = 0.5 * float32(sc[v/16]) * float32(q-32)
	}
	checkBlock(t, dtype.Q6_K, blk, want)
}

// Q2_K: d=0.5, dmin=0.25, scale byte = scale | min<<4 per 16 values.
func TestHandQ2_K(t *testing.T) {
	blk := make([]byte, 84)
	put16(blk[80:], h0_5)
	put16(blk[82:], h0_25)
	for j := 0; j < 16; j++ {
		blk[j] = byte(j) | byte(15-j)<<4
	}
	want := make([]float32, 256)
	for v := 0; v < 256; v++ {
		h, r := v/128, v%128
		s, l := r/32, r%32 // two-bit plane, byte
		q := (v*3 + v/7) % 4
		blk[16+32*h+l] |= byte(q) << (2 * s)
		sub := v / 16
		want[v] = 0.5*float32(sub)*float32(q) - 0.25*float32(15-sub)
	}
	checkBlock(t, dtype.Q2_K, blk, want)
}

// Q3_K: d=-1 (0xBC00), sixteen 6-bit scales biased by 32, 3-bit q with the
// high bit in hmask (set bit = no -4).
func TestHandQ3_K(t *testing.T) {
	blk := make([]byte, 110)
	put16(blk[108:], hNeg1)
	var sc [16]int
	p := blk[96:108]
	for j := 0; j < 16; j++ {
		sc[j] = (j*23)%64 - 32
		u := sc[j] + 32
		// low nibble: bytes 0-7 (j<8) low nibble, or high nibble of byte j-8;
		// top two bits: byte 8 + j%4 at bit 2*(j/4).
		if j < 8 {
			p[j] |= byte(u & 0xf)
		} else {
			p[j-8] |= byte(u&0xf) << 4
		}
		p[8+j%4] |= byte(u>>4) << (2 * (j / 4))
	}
	want := make([]float32, 256)
	for v := 0; v < 256; v++ {
		h, r := v/128, v%128
		s, l := r/32, r%32
		q := (v*5 + 1) % 8 // stored 3-bit value; decoded as q-4
		blk[32+32*h+l] |= byte(q&3) << (2 * s)
		if q >= 4 {
			blk[v%32] |= 1 << (v / 32) // hmask[v%32], bit v/32
		}
		want[v] = -1 * float32(sc[v/16]) * float32(q-4)
	}
	checkBlock(t, dtype.Q3_K, blk, want)
}

func TestHandQ8_K(t *testing.T) {
	blk := make([]byte, 292)
	binary.LittleEndian.PutUint32(blk, math.Float32bits(0.125))
	want := make([]float32, 256)
	for i := 0; i < 256; i++ {
		blk[4+i] = byte(i)
		want[i] = 0.125 * float32(int8(i))
	}
	checkBlock(t, dtype.Q8_K, blk, want)
}

func TestHandPlain(t *testing.T) {
	vals := []float32{1, -2, 0.5, 65504, 3.25, -0.125, 1e-3, 7}
	for _, typ := range []dtype.Type{dtype.F32, dtype.F16, dtype.BF16} {
		blk := make([]byte, len(vals)*typ.BlockBytes())
		want := make([]float32, len(vals))
		for i, v := range vals {
			switch typ {
			case dtype.F32:
				binary.LittleEndian.PutUint32(blk[4*i:], math.Float32bits(v))
				want[i] = v
			case dtype.F16:
				put16(blk[2*i:], kernels.F32ToF16(v))
				want[i] = kernels.F16ToF32(kernels.F32ToF16(v))
			case dtype.BF16:
				put16(blk[2*i:], kernels.F32ToBF16(v))
				want[i] = kernels.BF16ToF32(kernels.F32ToBF16(v))
			}
		}
		checkBlock(t, typ, blk, want)
	}
}

// TestParallelFor checks that every index runs once, that participant
// numbers stay below GOMAXPROCS and are never in use twice at once, and
// that a call with a prepared function allocates nothing.
func TestParallelFor(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	const n = 1000
	var hits [n]atomic.Int32
	busy := make([]atomic.Int32, procs)
	var bad atomic.Int32
	f := func(p, i int) {
		if p < 0 || p >= procs || busy[p].Add(1) != 1 {
			bad.Add(1)
		}
		hits[i].Add(1)
		for k := 0; k < 100; k++ {
			_ = k * i
		}
		busy[p].Add(-1)
	}
	for rep := 0; rep < 20; rep++ {
		kernels.ParallelFor(n, f)
	}
	for i := range hits {
		if h := hits[i].Load(); h != 20 {
			t.Fatalf("index %d ran %d times in 20 calls", i, h)
		}
	}
	if bad.Load() != 0 {
		t.Fatalf("%d calls had a participant number out of range or in use", bad.Load())
	}
	if !raceEnabled {
		if a := testing.AllocsPerRun(20, func() { kernels.ParallelFor(n, f) }); a != 0 {
			t.Errorf("ParallelFor: %v allocs per call", a)
		}
	}
}

// TestCacheRate checks that CacheRate times the kernels of plain and packed
// layouts (a positive, finite rate), leaves the weights as they were (it
// runs over a model's own), and refuses weights shorter than a unit.
func TestCacheRate(t *testing.T) {
	const rows, cols = 64, 512
	for _, typ := range []dtype.Type{dtype.Q4_K, dtype.Q8_0, dtype.F16, dtype.Q6_K} {
		w := matrix(t, typ, rows, cols, 9)
		for _, packed := range []bool{false, true} {
			lt := typ
			if packed {
				if lt = kernels.Pack(typ, w, cols); lt == typ {
					continue // no packed layout on this CPU
				}
			}
			before := append([]byte(nil), w...)
			r := kernels.CacheRate(lt, w, cols)
			if !(r > 0) || math.IsInf(r, 0) {
				t.Errorf("%v (packed %v): rate %v, want a positive number", typ, packed, r)
			}
			if !bytes.Equal(w, before) {
				t.Errorf("%v (packed %v): CacheRate changed the weights", typ, packed)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("CacheRate of no rows did not panic")
		}
	}()
	kernels.CacheRate(dtype.Q8_0, nil, 64)
}
