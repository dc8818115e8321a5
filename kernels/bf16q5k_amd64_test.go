package kernels_test

import (
	"testing"

	"ferry/dtype"
	"ferry/kernels"
)

// TestBF16Q5KInstalled checks that the installer of bf16q5k_amd64.go ran:
// with AVX-512 its Q5_K loop sums in another order than the portable
// kernel, and without it the AVX2 loop keeps the portable order.
func TestBF16Q5KInstalled(t *testing.T) {
	if !kernels.SIMD() {
		t.Skip("no SIMD kernels")
	}
	if kernels.Reordered(dtype.Q5_K) != kernels.AVX512() {
		t.Errorf("Q5_K reordered %v with AVX-512 %v: the AVX-512 loops are installed together",
			kernels.Reordered(dtype.Q5_K), kernels.AVX512())
	}
}

// TestBF16Q5KTails runs BF16 rows of every length up to 160 values (each
// tail of the 64-, 32-, 16- and 8-value steps) through MatVec with the
// SIMD and the portable kernels.
func TestBF16Q5KTails(t *testing.T) {
	if !kernels.SIMD() {
		t.Skip("no SIMD kernels")
	}
	defer kernels.SetSIMD(true)
	const rows = 3
	for cols := 1; cols <= 160; cols++ {
		w := matrix(t, dtype.BF16, rows, cols, uint64(cols))
		x := gaussian(uint64(1000+cols), cols)
		y1 := make([]float32, rows)
		y2 := make([]float32, rows)
		kernels.SetSIMD(true)
		kernels.MatVec(y1, w, dtype.BF16, x)
		kernels.SetSIMD(false)
		kernels.MatVec(y2, w, dtype.BF16, x)
		for i := range y1 {
			row := w[2*cols*i : 2*cols*(i+1)]
			_, mag := refDot(dtype.BF16, row, x)
			if d := float64(y1[i] - y2[i]); d > 1e-5*mag || d < -1e-5*mag {
				t.Errorf("cols %d row %d: SIMD %v, portable %v", cols, i, y1[i], y2[i])
			}
		}
	}
}
