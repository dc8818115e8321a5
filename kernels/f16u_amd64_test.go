package kernels

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestF16Unpacked checks vecF16UAVX2, which converts the first 16 halves
// of every 32 with integer operations, against vecF16AVX2, which converts
// them all with VCVTPH2PS, bit for bit: rows whose first 16 values of
// every 32 are put in the order the unpacking takes them (0-3, 8-11, 4-7,
// 12-15), against actF16 activations put in that order, make the same
// products in the same lanes as the unpacking loop makes over the rows
// as they are and actF16U activations. The rows hold negative values,
// zeros of both signs, subnormal halves and halves up to 65504; the
// activations, values up to 65504 and subnormal ones too; the lengths
// leave values past the last 32, and past the last 8.
func TestF16Unpacked(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(21, 22))
	half := func() uint16 {
		switch r.IntN(8) {
		case 0:
			return uint16(r.IntN(0x400)) | uint16(r.IntN(2))<<15 // zero or subnormal
		case 1:
			return 0x7bff | uint16(r.IntN(2))<<15 // ±65504
		default:
			return F32ToF16(float32(r.NormFloat64()))
		}
	}
	order := [16]int{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15}
	for _, nb := range []int{8, 24, 32, 40, 64, 100, 2048, 2061} {
		const rows = 3
		w := make([]uint16, rows*nb)
		for i := range w {
			w[i] = half()
		}
		x := make([]float32, nb)
		for i := range x {
			x[i] = F16ToF32(half())
		}
		// The unpacking loop over the rows as they are.
		xu := make([]byte, actBytes(actF16U, nb))
		prepare(actF16U, xu, x)
		got := make([]float32, rows)
		vecF16UAVX2(&got[0], f16Bytes(w), 2*nb, rows, &xu[0], nb, 0)
		// The converting loop over both in the unpacking's order.
		wp := append([]uint16(nil), w...)
		xp := append([]float32(nil), x...)
		for c := 0; c+32 <= nb; c += 32 {
			for i, j := range order {
				xp[c+i] = x[c+j]
				for row := range rows {
					wp[row*nb+c+i] = w[row*nb+c+j]
				}
			}
		}
		xq := make([]byte, actBytes(actF16, nb))
		prepare(actF16, xq, xp)
		want := make([]float32, rows)
		vecF16AVX2(&want[0], f16Bytes(wp), 2*nb, rows, &xq[0], nb, 0, 0)
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%d values, row %d: %v, converting every half %v", nb, i, got[i], want[i])
			}
		}
	}
}

// f16Bytes returns the bytes of h.
func f16Bytes(h []uint16) *byte { return (*byte)(unsafe.Pointer(&h[0])) }
