// Package kv holds the attention key-value cache: for every layer, the keys
// and values of every position seen so far, in half precision as llama.cpp
// keeps them (half the memory of float32, and the same rounding as the
// reference outputs ferry is tested against).
package kv

import (
	"fmt"

	"ferry/kernels"
)

// Block is the number of positions whose keys are stored together,
// transposed: for each of the Dim channels, the channel's values at Block
// consecutive positions side by side. A query then scores Block positions
// with one vector multiply-add per channel and no horizontal sums
// (kernels.DotsF16T).
const Block = 16

// Cache is a per-layer key/value store for up to Context positions. Values
// of one position are Dim halves (all KV heads side by side); keys are
// kept in blocks of Block positions, [position/Block][channel][position%Block].
type Cache struct {
	Layers  int
	Context int
	Dim     int
	k, v    [][]uint16
	length  int
	tmp     []uint16 // one position's keys, converted
}

// New allocates a cache of layers x context x dim keys and as many values.
func New(layers, context, dim int) *Cache {
	c := &Cache{Layers: layers, Context: context, Dim: dim, k: make([][]uint16, layers), v: make([][]uint16, layers),
		tmp: make([]uint16, dim)}
	for l := range c.k {
		c.k[l] = make([]uint16, keyPositions(context)*dim)
		c.v[l] = make([]uint16, context*dim)
	}
	return c
}

// keyPositions is the context rounded up to whole key blocks.
func keyPositions(context int) int { return (context + Block - 1) / Block * Block }

// Bytes returns the memory a cache of these dimensions holds.
func Bytes(layers, context, dim int) int64 {
	return int64(layers) * int64(keyPositions(context)+context) * int64(dim) * 2
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

// KeyBlocks returns the keys of layer l in their blocked layout: the keys
// of channel ch at positions [b*Block, (b+1)*Block) are at
// (b*Dim+ch)*Block; positions not yet stored hold stale or zero halves.
func (c *Cache) KeyBlocks(l int) []uint16 { return c.k[l] }

// Key returns the key of layer l, position pos, channel ch, as a half.
func (c *Cache) Key(l, pos, ch int) uint16 {
	return c.k[l][(pos/Block*c.Dim+ch)*Block+pos%Block]
}

// Span returns the memory that holds layer l's keys and values of
// positions [0, n): the keys in whole blocks.
func (c *Cache) Span(l, n int) (keys, values []uint16) {
	return c.k[l][:keyPositions(n)*c.Dim], c.v[l][:n*c.Dim]
}

// Values returns the values of layer l for positions [0, n), as IEEE halves.
func (c *Cache) Values(l, n int) []uint16 { return c.v[l][:n*c.Dim] }

// Store writes the keys and values of positions [pos, pos+len(k)/Dim) of
// layer l, rounding them to half precision.
func (c *Cache) Store(l, pos int, k, v []float32) {
	kernels.F32ToF16Slice(c.v[l][pos*c.Dim:], v)
	keys := c.k[l]
	for i := 0; i*c.Dim < len(k); i++ {
		p := pos + i
		kernels.F32ToF16Slice(c.tmp, k[i*c.Dim:(i+1)*c.Dim])
		base := p/Block*c.Dim*Block + p%Block
		for ch, h := range c.tmp {
			keys[base+ch*Block] = h
		}
	}
}
