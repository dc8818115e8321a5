//go:build unix && !linux

package tier

func hugePages(b []byte) {}
