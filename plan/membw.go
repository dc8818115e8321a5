package plan

import (
	"ferry/kernels"
	"sync"
	"time"
)

// MemoryBandwidth measures how fast threads goroutines together can read
// memory, in bytes per second, by summing a buffer of size bytes (choose it
// well above the last-level cache) with the kernels' vector read loop, the
// same loads the matrix kernels issue. It reports the best of three passes.
func MemoryBandwidth(size int, threads int) float64 {
	threads = max(threads, 1)
	buf := make([]byte, size)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 0 // fault the pages in before timing
	}
	best := 0.0
	for rep := 0; rep < 3; rep++ {
		best = max(best, float64(len(buf))/TimeRead(buf, threads).Seconds())
	}
	return best
}

// TimeRead reads buf once, split across threads goroutines, and returns how
// long that took.
func TimeRead(buf []byte, threads int) time.Duration {
	threads = max(threads, 1)
	per := len(buf) / threads
	var wg sync.WaitGroup
	start := time.Now()
	for t := 0; t < threads; t++ {
		part := buf[t*per : (t+1)*per]
		if t == threads-1 {
			part = buf[t*per:]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			kernels.SumBytes(part)
		}()
	}
	wg.Wait()
	return time.Since(start)
}
