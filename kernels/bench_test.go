package kernels_test

import (
	"testing"

	"ferry/kernels"
)

// Benchmarks report weight bytes processed per second (b.SetBytes is the
// size of the quantized weights), the figure that bounds decode speed.
// Run single-threaded MatVec with -cpu 1.

func BenchmarkDot(b *testing.B) {
	const cols = 4096
	for _, typ := range allTypes {
		row := quantize(b, typ, gaussian(1, cols))
		x := gaussian(2, cols)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(int64(len(row)))
			var s float32
			for b.Loop() {
				s += kernels.Dot(typ, row, x)
			}
			_ = s
		})
	}
}

func BenchmarkMatVec(b *testing.B) {
	const rows, cols = 1024, 4096
	for _, typ := range allTypes {
		w := quantize(b, typ, gaussian(1, rows*cols))
		x := gaussian(2, cols)
		y := make([]float32, rows)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				kernels.MatVec(y, w, typ, x)
			}
		})
	}
}

// BenchmarkMatMul is a batch of 16 vectors (prefill); bytes are the weights
// once, so the figure is comparable with MatVec's per-vector cost / 16.
func BenchmarkMatMul(b *testing.B) {
	const rows, cols, n = 512, 4096, 16
	for _, typ := range allTypes {
		w := quantize(b, typ, gaussian(1, rows*cols))
		x := gaussian(2, cols*n)
		y := make([]float32, rows*n)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				kernels.MatMul(y, w, typ, x, n)
			}
		})
	}
}
