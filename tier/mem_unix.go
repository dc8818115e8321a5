//go:build unix

package tier

import "syscall"

// allocAligned maps n bytes of anonymous, page-aligned memory outside the Go
// heap: staging and resident weights live here, so the garbage collector
// neither scans nor double-counts them.
func allocAligned(n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err == nil && n >= 4<<20 {
		hugePages(b)
	}
	return b, err
}

func freeAligned(b []byte) {
	if len(b) > 0 {
		syscall.Munmap(b[:cap(b)])
	}
}
