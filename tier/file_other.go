//go:build !linux

package tier

import "os"

func openDirect(path string) (*os.File, bool, error) {
	f, err := os.Open(path)
	return f, false, err
}

func dropCache(f *os.File, off, n int64) {}
