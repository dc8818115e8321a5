package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// The loops that widen 16-bit weights by unpacking (vecF16UAVX2,
// vecBF16UAVX2) take each 16 weights in unpackOrder, against activations
// in that order. Over the rows as they are, they must make the sums the
// converting loops (vecF16AVX2, vecBF16AVX2) make over rows and
// activations put in that order, bit for bit: the same products in the
// same lanes. The lengths leave values past the last 32, 16 and 8.
var unpackLengths = []int{8, 16, 24, 32, 40, 48, 64, 100, 1040, 2048, 2061, 2069}

// unpackOrdered returns w (rows of nb values) and x with each 16 values
// at the starts in starts put in unpackOrder.
func unpackOrdered(w []uint16, x []float32, nb int, starts func(c int) bool) ([]uint16, []float32) {
	wp := append([]uint16(nil), w...)
	xp := append([]float32(nil), x...)
	for c := 0; c+16 <= nb; c += 16 {
		if !starts(c) {
			continue
		}
		for i, j := range unpackOrder {
			xp[c+i] = x[c+j]
			for r := 0; r < len(w)/nb; r++ {
				wp[r*nb+c+i] = w[r*nb+c+j]
			}
		}
	}
	return wp, xp
}

// TestF16Unpacked checks vecF16UAVX2, which unpacks the first 16 halves of
// every 32, against vecF16AVX2. The rows hold negative values, zeros of
// both signs, subnormal halves and halves up to 65504; the activations
// too.
func TestF16Unpacked(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(21, 22))
	half := func() uint16 {
		switch r.IntN(64) {
		case 0, 1, 2, 3:
			return uint16(r.IntN(0x400)) | uint16(r.IntN(2))<<15 // zero or subnormal
		case 4:
			return 0x7bff | uint16(r.IntN(2))<<15 // ±65504
		default:
			return F32ToF16(float32(r.NormFloat64()))
		}
	}
	for _, nb := range unpackLengths {
		const rows = 8
		w := make([]uint16, rows*nb)
		for i := range w {
			w[i] = half()
		}
		x := make([]float32, nb)
		for i := range x {
			x[i] = F16ToF32(half())
		}
		xu := make([]byte, actBytes(actF16U, nb))
		prepare(actF16U, xu, x)
		got := make([]float32, rows)
		vecF16UAVX2(&got[0], halfBytes(w), 2*nb, rows, &xu[0], nb, 0)
		// The first 16 of each whole 32.
		wp, xp := unpackOrdered(w, x, nb, func(c int) bool { return c%32 == 0 && c+32 <= nb })
		xq := make([]byte, actBytes(actF16, nb))
		prepare(actF16, xq, xp)
		want := make([]float32, rows)
		vecF16AVX2(&want[0], halfBytes(wp), 2*nb, rows, &xq[0], nb, 0, 0)
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%d values, row %d: %v, converting every half %v", nb, i, got[i], want[i])
			}
		}
	}
}

// TestBF16Unpacked checks vecBF16UAVX2, which unpacks every 16 values,
// against vecBF16AVX2, on rows of negative values, zeros of both signs,
// subnormals and values about 2^65.
func TestBF16Unpacked(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(23, 24))
	bf := func() uint16 {
		switch r.IntN(64) {
		case 0, 1, 2, 3:
			return uint16(r.IntN(0x80)) | uint16(r.IntN(2))<<15 // zero or subnormal
		case 4:
			return 0x6000 | uint16(r.IntN(0x7f)) | uint16(r.IntN(2))<<15 // about 2^65
		default:
			return F32ToBF16(float32(r.NormFloat64()))
		}
	}
	for _, nb := range unpackLengths {
		const rows = 8
		w := make([]uint16, rows*nb)
		for i := range w {
			w[i] = bf()
		}
		x := make([]float32, nb)
		for i := range x {
			// Products of bfloat16s are exact in float32: magnitudes
			// far apart make their sums round, which the order shows.
			x[i] = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(40)-20))
		}
		xu := make([]byte, actBytes(actBF16U, nb))
		prepare(actBF16U, xu, x)
		got := make([]float32, rows)
		vecBF16UAVX2(&got[0], halfBytes(w), 2*nb, rows, &xu[0], nb, 0)
		wp, xp := unpackOrdered(w, x, nb, func(int) bool { return true })
		xq := make([]byte, actBytes(actBF16, nb))
		prepare(actBF16, xq, xp)
		want := make([]float32, rows)
		vecBF16AVX2(&want[0], halfBytes(wp), 2*nb, rows, &xq[0], nb)
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%d values, row %d: %v, widening by shifts %v", nb, i, got[i], want[i])
			}
		}
	}
}

// halfBytes returns the bytes of h.
func halfBytes(h []uint16) *byte { return (*byte)(unsafe.Pointer(&h[0])) }
