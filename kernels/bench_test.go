package kernels_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"ferry/dtype"
	"ferry/kernels"
)

// Benchmarks report weight bytes processed per second (b.SetBytes is the
// size of the quantized weights, read once per call), the figure that bounds
// decode speed, and GFLOP/s (2 flops per weight per activation vector).
// Sub-benchmarks "simd" and "portable" pick the kernels. Run with -cpu 1,2
// for one and two threads.

// decodeShapes are TinyLlama's matrices: rows x cols = outputs x inputs.
var decodeShapes = [][2]int{{5632, 2048}, {2048, 5632}}

// benchTypes are the types benchmarked, in priority order.
var benchTypes = []dtype.Type{
	dtype.Q8_0, dtype.Q4_K, dtype.Q6_K, dtype.F16, dtype.Q5_K, dtype.Q4_0,
	dtype.Q5_0, dtype.Q4_1, dtype.Q5_1, dtype.Q2_K, dtype.Q3_K, dtype.BF16, dtype.F32,
}

func paths(b *testing.B, f func(b *testing.B)) {
	defer kernels.SetSIMD(true)
	for _, simd := range []bool{true, false} {
		name := "simd"
		if !simd {
			name = "portable"
		}
		b.Run(name, func(b *testing.B) {
			kernels.SetSIMD(simd)
			f(b)
		})
	}
}

// memCopies returns copies of w totalling at least 192 MiB, so that cycling
// through them reads from memory, not from the (32 MiB) L3 cache, as
// decoding a real model does.
func memCopies(w []byte) [][]byte {
	n := max(2, (192<<20)/len(w)+1)
	out := make([][]byte, n)
	for i := range out {
		out[i] = append([]byte(nil), w...)
	}
	return out
}

func BenchmarkMatVec(b *testing.B) {
	for _, typ := range benchTypes {
		for _, sh := range decodeShapes {
			rows, cols := sh[0], sh[1]
			ws := memCopies(quantize(b, typ, gaussian(1, rows*cols)))
			x := gaussian(2, cols)
			y := make([]float32, rows)
			b.Run(fmt.Sprintf("%v/%dx%d", typ, rows, cols), func(b *testing.B) {
				paths(b, func(b *testing.B) {
					b.SetBytes(int64(len(ws[0])))
					i := 0
					for b.Loop() {
						kernels.MatVec(y, ws[i], typ, x)
						i = (i + 1) % len(ws)
					}
					b.ReportMetric(2*float64(rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			})
		}
	}
}

// BenchmarkMatMul is a batch of 64 vectors (prefill); bytes are the weights
// once per call.
func BenchmarkMatMul(b *testing.B) {
	const n = 64
	for _, typ := range benchTypes {
		rows, cols := 2048, 2048
		w := quantize(b, typ, gaussian(1, rows*cols))
		x := gaussian(2, cols*n)
		y := make([]float32, rows*n)
		b.Run(fmt.Sprintf("%v/%dx%dx%d", typ, rows, cols, n), func(b *testing.B) {
			paths(b, func(b *testing.B) {
				b.SetBytes(int64(len(w)))
				for b.Loop() {
					kernels.MatMul(y, w, typ, x, n)
				}
				b.ReportMetric(2*float64(rows*cols*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}

// BenchmarkDot is one row of 4096 values, from cache.
func BenchmarkDot(b *testing.B) {
	const cols = 4096
	for _, typ := range benchTypes {
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

// BenchmarkMemRead measures memory read bandwidth with SumBytes over 256
// MiB, split across GOMAXPROCS goroutines (use -cpu 1,2).
func BenchmarkMemRead(b *testing.B) {
	buf := make([]byte, 256<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	procs := runtime.GOMAXPROCS(0)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		var wg sync.WaitGroup
		part := len(buf) / procs
		for p := 0; p < procs; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				kernels.SumBytes(buf[p*part : (p+1)*part])
			}()
		}
		wg.Wait()
	}
}

// BenchmarkMatVecOfRead is BenchmarkMatVec beside the hardware bound: every
// iteration reads a buffer of the weights' size with SumBytesParallel (the
// read ferry bench takes as the memory bandwidth) and runs the product over
// another copy, and "of_read" is the read's time over the product's, the
// fraction of memory speed the kernel keeps. Alternating the two cancels the
// drift of a shared machine's bandwidth.
func BenchmarkMatVecOfRead(b *testing.B) {
	for _, typ := range benchTypes[:4] {
		for _, packed := range []bool{false, true} {
			for _, sh := range decodeShapes {
				rows, cols := sh[0], sh[1]
				w := quantize(b, typ, gaussian(1, rows*cols))
				ct, name := typ, typ.String()
				if packed {
					if ct = kernels.Pack(typ, w, cols); ct == typ {
						continue
					}
					name += "-packed"
				}
				ws := memCopies(w)
				rs := memCopies(ws[0])
				x := gaussian(2, cols)
				y := make([]float32, rows)
				b.Run(fmt.Sprintf("%s/%dx%d", name, rows, cols), func(b *testing.B) {
					b.SetBytes(int64(len(ws[0])))
					var read, prod time.Duration
					i := 0
					for b.Loop() {
						t0 := time.Now()
						kernels.SumBytesParallel(rs[i%len(rs)])
						t1 := time.Now()
						kernels.MatVec(y, ws[i%len(ws)], ct, x)
						t2 := time.Now()
						read += t1.Sub(t0)
						prod += t2.Sub(t1)
						i++
					}
					b.ReportMetric(float64(read)/float64(prod), "of_read")
					b.ReportMetric(float64(len(ws[0]))*float64(b.N)/prod.Seconds()/1e9, "kernel_GB/s")
				})
			}
		}
	}
}
