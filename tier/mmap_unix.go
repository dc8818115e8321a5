//go:build unix

package tier

import (
	"fmt"
	"os"
	"syscall"

	"ferry/gguf"
)

// OpenMmap maps the model file at path into memory and makes every tensor
// resident in the mapping, as llama.cpp does by default: the kernel's page
// cache decides what stays in memory, and no budget applies. It is the
// baseline the streaming tier is measured against.
func OpenMmap(path string, g *gguf.File, opts Options) (*Store, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tier: mmap %s: %w", path, err)
	}
	s, err := Open(f, g, opts)
	if err != nil {
		syscall.Munmap(data)
		f.Close()
		return nil, err
	}
	s.file, s.mapped = f, data
	return s, nil
}

func unmap(b []byte) { syscall.Munmap(b) }
