//go:build !unix

package tier

import (
	"fmt"

	"ferry/gguf"
)

// OpenMmap is not available on this system.
func OpenMmap(path string, g *gguf.File, opts Options) (*Store, error) {
	return nil, fmt.Errorf("tier: mmap is not supported on this system")
}

func unmap(b []byte) {}
