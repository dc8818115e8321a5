// Package kv holds the attention key-value cache: for every layer, the keys
// and values of every position seen so far, in half precision as llama.cpp
// keeps them (half the memory of float32, and the same rounding as the
// reference outputs ferry is tested against).
package kv

import (
	"fmt"

	"ferry/kernels"
)

// Cache is a per-layer key/value store for up to Context positions. Keys and
// values of one position are Dim halves (all KV heads side by side).
type Cache struct {
	Layers  int
	Context int
	Dim     int
	k, v    [][]uint16
	length  int
}

// New allocates a cache of layers x context x dim keys and as many values.
func New(layers, context, dim int) *Cache {
	c := &Cache{Layers: layers, Context: context, Dim: dim, k: make([][]uint16, layers), v: make([][]uint16, layers)}
	for l := range c.k {
		c.k[l] = make([]uint16, context*dim)
		c.v[l] = make([]uint16, context*dim)
	}
	return c
}

// Bytes returns the memory a cache of these dimensions holds.
func Bytes(layers, context, dim int) int64 {
	return int64(layers) * int64(context) * int64(dim) * 2 * 2
}

// Len returns the number of positions stored.
func (c *Cache) Len() int { return c.length }

// SetLen sets the number of valid positions (after a forward pass stored them,
// or to rewind). It fails when n exceeds the context.
func (c *Cache) SetLen(n int) error {
	if n < 0 || n > c.Context {
		return fmt.Errorf("kv: %d positions do not fit a context of %d", n, c.Context)
	}
	c.length = n
	return nil
}

// Keys returns the keys of layer l for positions [0, n), as IEEE halves.
func (c *Cache) Keys(l, n int) []uint16 { return c.k[l][:n*c.Dim] }

// Values returns the values of layer l for positions [0, n), as IEEE halves.
func (c *Cache) Values(l, n int) []uint16 { return c.v[l][:n*c.Dim] }

// Store writes the keys and values of positions [pos, pos+len(k)/Dim) of
// layer l, rounding them to half precision.
func (c *Cache) Store(l, pos int, k, v []float32) {
	kernels.F32ToF16Slice(c.k[l][pos*c.Dim:], k)
	kernels.F32ToF16Slice(c.v[l][pos*c.Dim:], v)
}
