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
	per := len(buf) / threads
	best := 0.0
	for rep := 0; rep < 3; rep++ {
		var wg sync.WaitGroup
		start := time.Now()
		for t := 0; t < threads; t++ {
			wg.Add(1)
			go func(part []byte) {
				defer wg.Done()
				if kernels.SumBytes(part) != 0 {
					panic("plan: probe buffer not zero")
				}
			}(buf[t*per : (t+1)*per])
		}
		wg.Wait()
		best = max(best, float64(per*threads)/time.Since(start).Seconds())
	}
	return best
}
