package expert_test

import (
	"testing"

	"ferry/expert"
	"ferry/tier"
)

// The cache plugs into tier.ExpertPool as its tier.ExpertCache.
var _ tier.ExpertCache = (*expert.Cache)(nil)

// TestTierProtocol drives the cache the way tier.ExpertPool does: Lookup,
// Admit with the pool's busy slots, Touch on hits.
func TestTierProtocol(t *testing.T) {
	for _, name := range expert.Names() {
		p, _ := expert.New(name, 2, 8)
		c := expert.NewCache(3, p)
		busy := map[int]bool{}
		pinned := func(s int) bool { return busy[s] }
		for e := 0; e < 3; e++ {
			s, ok := c.Admit(0, e, true, pinned)
			if !ok || s != e {
				t.Fatalf("%s: Admit(0,%d) = %d, %v", name, e, s, ok)
			}
		}
		c.Touch(0, 1)
		busy[0], busy[2] = true, true // slot 1 is the only one free to go
		s, ok := c.Admit(1, 5, true, pinned)
		if !ok || s != 1 {
			t.Fatalf("%s: Admit over busy slots gave slot %d, %v; want 1", name, s, ok)
		}
		if _, ok := c.Lookup(0, 1); ok {
			t.Fatalf("%s: evicted key still found", name)
		}
		busy[1] = true
		if _, ok := c.Admit(1, 6, true, pinned); ok {
			t.Fatalf("%s: Admit succeeded with every slot busy", name)
		}
		clear(busy)
		// A prefetch, then its use.
		c.Route(0, 1, []int{0}, nil) // steps do not protect in this mode
		if s, ok := c.Admit(1, 7, false, nil); ok {
			if got, _ := c.Lookup(1, 7); got != s {
				t.Fatalf("%s: prefetched key not found in its slot", name)
			}
			c.Touch(1, 7)
			if st := c.Stats(); st.PrefetchHits != 1 || st.Prefetches != 1 {
				t.Fatalf("%s: stats %+v", name, st)
			}
		}
		st := c.Stats()
		if st.Hits < 1 || st.Misses != 4 || c.Len() != 3 {
			t.Fatalf("%s: stats %+v, %d resident", name, st, c.Len())
		}
	}
}
