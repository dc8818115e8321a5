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
// transposed: for each channel of a head, the channel's values at Block
// consecutive positions side by side. A query then scores Block positions
// with one vector multiply-add per channel and no horizontal sums
// (kernels.DotsF16T).
const Block = 16

// Cache is a per-layer key/value store for up to Context positions of Heads
// KV heads, HeadDim channels each (Dim in all). Each head's keys and values
// are contiguous, so that the attention of one head, or of the heads one
// core takes, reads a few long runs of memory: its values one position
// after another, [head][position][channel]; its keys in blocks of Block
// positions, [head][position/Block][channel][position%Block].
type Cache struct {
	Layers  int
	Context int
	Heads   int
	HeadDim int
	Dim     int
	k, v    [][]uint16
	length  int
}

// New allocates a cache of layers x context positions of heads x headDim
// keys and as many values.
func New(layers, context, heads, headDim int) *Cache {
	c := &Cache{Layers: layers, Context: context, Heads: heads, HeadDim: headDim, Dim: heads * headDim,
		k: make([][]uint16, layers), v: make([][]uint16, layers)}
	for l := range c.k {
		c.k[l] = make([]uint16, keyPositions(context)*c.Dim)
		c.v[l] = make([]uint16, context*c.Dim)
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

// headKeys is the offset of head h's keys in a layer's.
func (c *Cache) headKeys(h int) int { return h * keyPositions(c.Context) * c.HeadDim }

// HeadKeys returns the keys of head h at layer l for positions [0, n) in
// their blocked layout, whole blocks: the keys of channel ch at positions
// [b*Block, (b+1)*Block) are at (b*HeadDim+ch)*Block; positions not yet
// stored hold stale or zero halves.
func (c *Cache) HeadKeys(l, h, n int) []uint16 {
	at := c.headKeys(h)
	return c.k[l][at : at+keyPositions(n)*c.HeadDim]
}

// HeadValues returns the values of head h at layer l for positions [0, n),
// HeadDim halves each, one position after another.
func (c *Cache) HeadValues(l, h, n int) []uint16 {
	at := h * c.Context * c.HeadDim
	return c.v[l][at : at+n*c.HeadDim]
}

// KeyRuns returns where the keys of heads [h0, h1) at layer l for
// positions [0, n) lie (HeadKeys of each): runs of width halves, stride
// halves apart, from the start of keys.
func (c *Cache) KeyRuns(l, h0, h1, n int) (keys []uint16, width, stride int) {
	width, stride = keyPositions(n)*c.HeadDim, keyPositions(c.Context)*c.HeadDim
	return c.k[l][h0*stride : (h1-1)*stride+width], width, stride
}

// ValueRuns is KeyRuns for the values (HeadValues of each head).
func (c *Cache) ValueRuns(l, h0, h1, n int) (values []uint16, width, stride int) {
	width, stride = n*c.HeadDim, c.Context*c.HeadDim
	return c.v[l][h0*stride : (h1-1)*stride+width], width, stride
}

// Key returns the key of layer l, position pos, channel ch (of all the
// heads' Dim), as a half.
func (c *Cache) Key(l, pos, ch int) uint16 {
	h, ch := ch/c.HeadDim, ch%c.HeadDim
	return c.k[l][c.headKeys(h)+(pos/Block*c.HeadDim+ch)*Block+pos%Block]
}

// Value returns the value of layer l, position pos, channel ch (of all the
// heads' Dim), as a half.
func (c *Cache) Value(l, pos, ch int) uint16 {
	h, ch := ch/c.HeadDim, ch%c.HeadDim
	return c.v[l][(h*c.Context+pos)*c.HeadDim+ch]
}

// Store writes the keys and values of positions [pos, pos+len(k)/Dim) of
// layer l, Dim channels each (every head's, side by side), rounding them
// to half precision.
func (c *Cache) Store(l, pos int, k, v []float32) {
	hd := c.HeadDim
	for i := 0; i*c.Dim < len(k); i++ {
		for h := range c.Heads {
			at := i*c.Dim + h*hd
			c.StoreHead(l, pos+i, h, k[at:at+hd], v[at:at+hd])
		}
	}
}

// StoreHead writes head h's key and value of position pos of layer l,
// HeadDim channels each, rounding them to half precision: one head's share
// of Store. Calls for different heads may run at the same time.
func (c *Cache) StoreHead(l, pos, h int, k, v []float32) {
	hd := c.HeadDim
	if len(k) != hd || len(v) != hd {
		panic(fmt.Sprintf("kv: StoreHead of %d keys and %d values, heads are %d wide", len(k), len(v), hd))
	}
	kernels.F32ToF16Slice(c.HeadValues(l, h, pos+1)[pos*hd:], v)
	kernels.F32ToF16Strided(c.k[l][c.headKeys(h)+pos/Block*hd*Block+pos%Block:], Block, k)
}
