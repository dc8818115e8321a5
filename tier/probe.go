package tier

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// ProbeDisk measures the read bandwidth of the file at path, in bytes per
// second, by reading up to maxBytes of it with direct I/O in 4 MiB requests,
// readers at a time; it reports whether direct I/O was used. Direct reads do
// not touch the page cache, so the figure is the device's, not memory's.
func ProbeDisk(path string, maxBytes int64, readers int) (float64, bool, error) {
	f, direct, err := openDirect(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, direct, err
	}
	size := min(st.Size(), maxBytes) &^ (chunkBytes - 1)
	if size < chunkBytes {
		return 0, direct, fmt.Errorf("tier: %s is too small to measure the disk", path)
	}
	s := &Store{src: f, file: f, direct: direct}
	var next int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	start := time.Now()
	for r := 0; r < max(readers, 1); r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf, err := allocAligned(chunkBytes)
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
				return
			}
			defer freeAligned(buf)
			for {
				mu.Lock()
				off := next
				next += chunkBytes
				mu.Unlock()
				if off >= size {
					return
				}
				if err := s.readFull(buf, off, chunkBytes); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, direct, firstErr
	}
	return float64(size) / time.Since(start).Seconds(), direct, nil
}

// PeakRSS returns the process's peak resident set size in bytes (VmHWM),
// or 0 where the system does not say.
func PeakRSS() int64 { return procStatus("VmHWM: %d kB") }

// CurrentRSS returns the process's resident set size in bytes (VmRSS), or 0
// where the system does not say.
func CurrentRSS() int64 { return procStatus("VmRSS: %d kB") }

// procStatus reads one kB figure from /proc/self/status.
func procStatus(format string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	var kb int64
	for _, line := range splitLines(string(b)) {
		if n, _ := fmt.Sscanf(line, format, &kb); n == 1 {
			return kb << 10
		}
	}
	return 0
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
