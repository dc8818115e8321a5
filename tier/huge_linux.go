//go:build linux

package tier

import "syscall"

// hugePages asks for transparent huge pages on a large region: the kernels
// stream through gigabytes of weights per token, and 2 MiB pages spare
// them most TLB misses. Where the kernel declines, nothing changes.
func hugePages(b []byte) {
	const madvHugepage = 14
	syscall.Madvise(b, madvHugepage)
}
