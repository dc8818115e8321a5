package engine

import (
	"fmt"

	"ferry/model"
	"ferry/tier"
)

// speculates reports whether a policy prefetches with the speculative gate.
func speculates(policy string) bool { return policy == "speculative" || policy == "fmoe" }

// newExpertCache returns the cache bookkeeping for policy with slots entries.
func newExpertCache(policy string, slots int, m *model.Transformer) (tier.ExpertCache, error) {
	switch policy {
	case "", "lru", "speculative":
		return newLRUCache(slots), nil
	}
	return nil, fmt.Errorf("unknown expert policy %q", policy)
}

// lruCache keeps the most recently used experts.
type lruCache struct {
	keys  []struct{ layer, e int }
	used  []int64
	clock int64
}

func newLRUCache(n int) *lruCache {
	c := &lruCache{keys: make([]struct{ layer, e int }, n), used: make([]int64, n)}
	for i := range c.keys {
		c.keys[i].layer = -1
	}
	return c
}

func (c *lruCache) Lookup(layer, e int) (int, bool) {
	for i, k := range c.keys {
		if k.layer == layer && k.e == e {
			return i, true
		}
	}
	return 0, false
}

func (c *lruCache) Admit(layer, e int, use bool, pinned func(int) bool) (int, bool) {
	best := -1
	for i := range c.keys {
		if !pinned(i) && (best < 0 || c.used[i] < c.used[best]) {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	c.keys[best].layer, c.keys[best].e = layer, e
	c.clock++
	c.used[best] = c.clock
	return best, true
}

func (c *lruCache) Touch(layer, e int) {
	if i, ok := c.Lookup(layer, e); ok {
		c.clock++
		c.used[i] = c.clock
	}
}
