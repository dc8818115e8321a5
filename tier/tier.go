// Package tier is the residency manager: it knows where every weight tensor
// lives on disk and hands its bytes to the model on request. The model asks
// for a weight with Acquire, uses it, and gives it back with Release; whether
// the bytes were resident all along or streamed in just before is the tier's
// business, decided by its placement plan.
package tier

import (
	"fmt"
	"io"

	"ferry/dtype"
	"ferry/gguf"
)

// Tensor is one weight tensor and its residency.
type Tensor struct {
	Name string
	Type dtype.Type
	// Shape lists the dimensions innermost first: Shape[0] is the row length.
	Shape []int
	// Offset and Size locate the tensor's bytes in the model file.
	Offset, Size int64

	data []byte
}

// Cols returns the row length (the innermost dimension).
func (t *Tensor) Cols() int { return t.Shape[0] }

// Rows returns the number of rows: the product of all but the innermost dimension.
func (t *Tensor) Rows() int {
	n := 1
	for _, d := range t.Shape[1:] {
		n *= d
	}
	return n
}

// RowBytes returns the size in bytes of one row.
func (t *Tensor) RowBytes() int {
	n, _ := t.Type.RowBytes(t.Shape[0])
	return n
}

// Acquire returns the tensor's bytes, waiting for them if they are in flight.
// The slice is valid until the matching Release.
func (t *Tensor) Acquire() []byte { return t.data }

// Release tells the tier that the model is done with the bytes Acquire gave.
func (t *Tensor) Release() {}

// Store holds the tensors of one model file.
type Store struct {
	tensors map[string]*Tensor
	order   []*Tensor
}

// Open loads the tensors that the parsed header g describes from src, the
// model file.
func Open(src io.ReaderAt, g *gguf.File) (*Store, error) {
	s := &Store{tensors: make(map[string]*Tensor, len(g.Tensors))}
	for _, ti := range g.Tensors {
		t := &Tensor{Name: ti.Name, Type: ti.Type, Offset: ti.Offset, Size: ti.Size}
		for _, d := range ti.Shape {
			t.Shape = append(t.Shape, int(d))
		}
		s.tensors[t.Name] = t
		s.order = append(s.order, t)
	}
	for _, t := range s.order {
		t.data = make([]byte, t.Size)
		if _, err := src.ReadAt(t.data, t.Offset); err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading tensor %s: %w", t.Name, err)
		}
	}
	return s, nil
}

// Tensor returns the tensor named name, or nil.
func (s *Store) Tensor(name string) *Tensor { return s.tensors[name] }

// Tensors returns every tensor in file order.
func (s *Store) Tensors() []*Tensor { return s.order }

// Close releases the memory the store holds.
func (s *Store) Close() error {
	for _, t := range s.order {
		t.data = nil
	}
	return nil
}
