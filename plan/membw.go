package plan

import (
	"time"

	"ferry/kernels"
)

// MemoryBandwidth measures how fast this process's compute threads (the
// caller and the kernels' worker pool, GOMAXPROCS in all) together read
// memory, in bytes per second, by summing a buffer of size bytes (choose
// it well above the last-level cache) with the kernels' vector read loop,
// the same loads the matrix kernels issue. It reports the best of three
// passes.
func MemoryBandwidth(size int) float64 {
	buf := make([]byte, size)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 0 // fault the pages in before timing
	}
	best := 0.0
	for rep := 0; rep < 3; rep++ {
		best = max(best, float64(len(buf))/TimeRead(buf).Seconds())
	}
	return best
}

// TimeRead reads buf once on the threads the matrix products use
// (kernels.SumBytesParallel) and returns how long that took.
func TimeRead(buf []byte) time.Duration {
	start := time.Now()
	kernels.SumBytesParallel(buf)
	return time.Since(start)
}
