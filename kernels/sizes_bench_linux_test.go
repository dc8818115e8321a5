package kernels_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"ferry/dtype"
	"ferry/kernels"
)

// BenchmarkProductSizes streams 128 MiB of interleaved Q4_K weights as
// products of one size back to back (each matrix its own, laid end to end
// in memory on huge pages, as a model's resident weights are), right after
// a 128 MiB read with SumBytesParallel, the read ferry bench takes as the
// bound; "<size>KB_of_read" is the read's time over the products'. It
// shows what a product's start and end cost: on the Zen 4 of this
// project's machine class, with the memory at about 50 GB/s, products of
// 576 KB ran at 0.55-0.59 of the read, 2.3 MB at 0.75-0.81, 6.3 MB at
// 0.89-0.96 and 25 MB at 0.97-0.98 (about 10 µs a product); at about 33
// GB/s 0.76-0.87, 0.90-0.95, 0.94-1.07 and 0.95-1.0 (about 4 µs).
func BenchmarkProductSizes(b *testing.B) {
	const cols, tileRows, setBytes = 2048, 512, 128 << 20
	tile := quantize(b, dtype.Q4_K, gaussian(1, tileRows*cols))
	type set struct {
		ps    []kernels.Product
		bytes int
	}
	var sets []set
	for _, rows := range []int{512, 2048, 5632, 22528} {
		size := len(tile) / tileRows * rows
		n := setBytes / size
		region := hugePages(b, n*size)
		var s set
		for i := range n {
			w := region[i*size : (i+1)*size]
			for at := 0; at < len(w); at += len(tile) {
				copy(w[at:], tile)
			}
			t := kernels.Pack(dtype.Q4_K, w, cols)
			s.ps = append(s.ps, kernels.Product{Y: make([]float32, rows), W: w, Type: t})
			s.bytes += size
		}
		sets = append(sets, s)
	}
	probe := hugePages(b, setBytes)
	x := gaussian(2, cols)
	var products [][]kernels.Product
	for _, s := range sets {
		products = append(products, s.ps)
	}
	read, run := timeAgainstRead(b, probe, x, products)
	var readTime time.Duration
	for k, s := range sets {
		readTime += read[k]
		ratio := float64(s.bytes) / run[k].Seconds() / (float64(len(probe)) / read[k].Seconds())
		b.ReportMetric(ratio, fmt.Sprintf("%dKB_of_read", len(s.ps[0].W)>>10))
	}
	b.ReportMetric(float64(len(probe))*float64(len(sets)*b.N)/readTime.Seconds()/1e9, "read_GB/s")
}

// hugePages returns n bytes of anonymous memory advised for transparent
// huge pages and touched, unmapped when the benchmark ends.
func hugePages(b *testing.B, n int) []byte {
	m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { syscall.Munmap(m) })
	syscall.Madvise(m, syscall.MADV_HUGEPAGE)
	for i := 0; i < n; i += 4096 {
		m[i] = 1
	}
	return m
}

// BenchmarkPanels streams 128 MiB of 2048 x 5632 matrices (the shape of
// TinyLlama's down projection) as products back to back, in the panelled
// layout Pack chooses for such wide rows and in the interleaved layout of
// whole rows, each right after a 128 MiB read (SumBytesParallel);
// "<type>_panels_of_read" and "<type>_rows_of_read" are the read's time
// over the products'. On the Zen 1 of this project's machine class
// (memory at 25-27 GB/s) Q4_K ran at 0.88-0.91 of the read in panels and
// 0.81-0.83 in whole rows; Q6_K at 0.90-0.92 and 0.89-0.91.
func BenchmarkPanels(b *testing.B) {
	const cols, rows, setBytes = 5632, 2048, 128 << 20
	probe := hugePages(b, setBytes)
	x := gaussian(2, cols)
	type set struct {
		name string
		ps   []kernels.Product
	}
	var sets []set
	for _, typ := range []dtype.Type{dtype.Q4_K, dtype.Q6_K} {
		m := quantize(b, typ, gaussian(1, rows*cols))
		for _, panels := range []bool{true, false} {
			n := setBytes / len(m)
			region := hugePages(b, n*len(m))
			s := set{name: typ.String() + "_rows"}
			if panels {
				s.name = typ.String() + "_panels"
			}
			for i := range n {
				w := region[i*len(m) : (i+1)*len(m)]
				copy(w, m)
				pt := kernels.PackUnpanelled(typ, w, cols)
				if panels {
					copy(w, m)
					pt = kernels.Pack(typ, w, cols)
				}
				if panels && !kernels.Panelled(pt) {
					b.Skip("no panelled layout for this CPU's kernels")
				}
				s.ps = append(s.ps, kernels.Product{Y: make([]float32, rows), W: w, Type: pt})
			}
			sets = append(sets, s)
		}
	}
	var products [][]kernels.Product
	for _, s := range sets {
		products = append(products, s.ps)
	}
	read, run := timeAgainstRead(b, probe, x, products)
	for k, s := range sets {
		bytes := len(s.ps) * len(s.ps[0].W)
		b.ReportMetric(float64(bytes)/run[k].Seconds()/(float64(len(probe))/read[k].Seconds()), s.name+"_of_read")
	}
}

// timeAgainstRead runs, for each of the benchmark's iterations, each set
// of products in turn right after a read of probe (SumBytesParallel), the
// products one after another against x, and returns each set's total
// read and product times.
func timeAgainstRead(b *testing.B, probe []byte, x []float32, sets [][]kernels.Product) (read, run []time.Duration) {
	read, run = make([]time.Duration, len(sets)), make([]time.Duration, len(sets))
	one := make([]kernels.Product, 1)
	for b.Loop() {
		for k, ps := range sets {
			t0 := time.Now()
			kernels.SumBytesParallel(probe)
			t1 := time.Now()
			for _, p := range ps {
				one[0] = p
				kernels.MatMuls(one, x, 1)
			}
			read[k] += t1.Sub(t0)
			run[k] += time.Since(t1)
		}
	}
	return read, run
}
