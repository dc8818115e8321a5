//go:build linux

package tier

import (
	"os"
	"syscall"
)

// openDirect opens path for reading with O_DIRECT, so reads bypass the page
// cache. It reports false, with a plain file, where the file system refuses.
func openDirect(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err == nil {
		// Probe: some file systems accept the flag but fail the first read.
		buf, ferr := allocAligned(directAlign)
		if ferr == nil {
			_, rerr := f.ReadAt(buf, 0)
			freeAligned(buf)
			if rerr == nil || rerr.Error() == "EOF" {
				return f, true, nil
			}
		}
		f.Close()
	}
	f, err = os.Open(path)
	return f, false, err
}

// dropCache asks the kernel to forget the page-cache pages of a range read
// without O_DIRECT, so that they do not hold a second copy of the weights.
func dropCache(f *os.File, off, n int64) {
	const fadvDontNeed = 4
	syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), uintptr(off), uintptr(n), fadvDontNeed, 0, 0)
}
