package model

import (
	"testing"

	"ferry/internal/fixtures"
	"ferry/kv"
	"ferry/tier"
)

// lru is a minimal tier.ExpertCache for tests: least recently used.
type lru struct {
	slots []struct{ layer, e int }
	used  []int64
	clock int64
}

func newLRU(n int) *lru {
	c := &lru{slots: make([]struct{ layer, e int }, n), used: make([]int64, n)}
	for i := range c.slots {
		c.slots[i].layer = -1
	}
	return c
}

func (c *lru) Lookup(layer, e int) (int, bool) {
	for i, s := range c.slots {
		if s.layer == layer && s.e == e {
			return i, true
		}
	}
	return 0, false
}

func (c *lru) Admit(layer, e int, use bool, pinned func(int) bool) (int, bool) {
	best := -1
	for i := range c.slots {
		if pinned(i) {
			continue
		}
		if best < 0 || c.used[i] < c.used[best] {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	c.slots[best].layer, c.slots[best].e = layer, e
	c.clock++
	c.used[best] = c.clock
	return best, true
}

func (c *lru) Touch(layer, e int) {
	if i, ok := c.Lookup(layer, e); ok {
		c.clock++
		c.used[i] = c.clock
	}
}

// TestExpertCacheMatchesInMemory runs the MoE fixtures with experts served
// from a small cache (a quarter of them), with and without speculative
// prefetch, and checks the logits equal the in-memory run's bit for bit.
func TestExpertCacheMatchesInMemory(t *testing.T) {
	for _, name := range []string{"moe-mixtral-f32", "moe-mixtral-q4_k_m", "moe-qwen2moe-f32"} {
		for _, spec := range []bool{false, true} {
			ref := fixtures.Load(t, name)
			mem, _ := load(t, ref.Path, 0, tier.Options{})
			off, store := load(t, ref.Path, 0, tier.Options{})
			slots := off.Layers[0].MoE.Gate.Weight.Shape[2] * len(off.Layers) / 4
			pool, err := store.NewExpertPool(off.ExpertStacks(), slots, newLRU(slots))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := off.UseExpertCache(pool, store, spec); err != nil {
				t.Fatal(err)
			}
			tokens := append(append([]int32{}, ref.PromptTokens...), ref.GreedyTokens...)
			c1, c2 := kv.New(mem.Blocks, 256, mem.KVDim()), kv.New(off.Blocks, 256, off.KVDim())
			n := len(ref.PromptTokens)
			for pos := 0; pos < len(tokens); {
				step := 1
				if pos == 0 {
					step = n
				}
				a, err := mem.Forward(tokens[pos:pos+step], pos, c1, true)
				if err != nil {
					t.Fatal(err)
				}
				b, err := off.Forward(tokens[pos:pos+step], pos, c2, true)
				if err != nil {
					t.Fatal(err)
				}
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("%s (speculate %v) position %d: logit %d differs: %v vs %v", name, spec, pos, i, a[i], b[i])
					}
				}
				pos += step
			}
			st := pool.Stats()
			t.Logf("%s speculate=%v: %d slots, hits %d misses %d, prefetches %d (accuracy %.2f), %d bytes read", name, spec, slots, st.Hits, st.Misses, st.Prefetches, st.PrefetchAccuracy(), st.BytesRead)
			if st.Misses == 0 || st.Hits == 0 || st.BytesRead == 0 {
				t.Fatalf("implausible stats %+v", st)
			}
			if spec && st.Prefetches == 0 {
				t.Fatal("speculation prefetched nothing")
			}
		}
	}
}
