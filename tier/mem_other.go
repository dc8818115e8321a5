//go:build !unix

package tier

import "unsafe"

func allocAligned(n int) ([]byte, error) {
	b := make([]byte, n+directAlign)
	off := int(uintptr(unsafe.Pointer(&b[0])) & (directAlign - 1))
	if off != 0 {
		off = directAlign - off
	}
	return b[off : off+n : off+n], nil
}

func freeAligned(b []byte) {}
