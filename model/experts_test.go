package model

import (
	"testing"

	"ferry/expert"
	"ferry/internal/fixtures"
	"ferry/kv"
	"ferry/tier"
)

// TestExpertCacheMatchesInMemory runs the MoE fixtures with experts served
// from a small cache (a quarter of them) under every policy, and checks the logits equal the in-memory run's bit for bit.
func TestExpertCacheMatchesInMemory(t *testing.T) {
	for _, name := range []string{"moe-mixtral-f32", "moe-mixtral-q4_k_m", "moe-qwen2moe-f32"} {
		for _, policy := range expert.Names() {
			spec := policy != "lru" && policy != "lfu"
			ref := fixtures.Load(t, name)
			mem, _ := load(t, ref.Path, 0, tier.Options{})
			off, store := load(t, ref.Path, 0, tier.Options{})
			slots := off.Layers[0].MoE.Gate.Weight.Shape[2] * len(off.Layers) / 4
			pol, err := expert.New(policy, len(off.Layers), off.Config.Experts)
			if err != nil {
				t.Fatal(err)
			}
			pool, err := store.NewExpertPool(off.ExpertStacks(), slots, expert.NewCache(slots, pol))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := off.UseExpertCache(pool, store, spec); err != nil {
				t.Fatal(err)
			}
			tokens := append(append([]int32{}, ref.PromptTokens...), ref.GreedyTokens...)
			sameLogits(t, mem, off, tokens, len(ref.PromptTokens), 256, name+" ("+policy+")")
			st := pool.Stats()
			t.Logf("%s %s: %d slots, hits %d misses %d, prefetches %d (accuracy %.2f), %d bytes read", name, policy, slots, st.Hits, st.Misses, st.Prefetches, st.PrefetchAccuracy(), st.BytesRead)
			_ = spec
			if st.Misses == 0 || st.Hits == 0 || st.BytesRead == 0 {
				t.Fatalf("implausible stats %+v", st)
			}
			if policy == "speculative" && st.Prefetches == 0 {
				t.Fatal("speculation prefetched nothing")
			}
		}
	}
}

// TestExpertCacheDecodeAllocatesNothing: once every expert is cached, a
// decode step through the expert cache (routing signals, guesses, fetch)
// allocates nothing.
func TestExpertCacheDecodeAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("skipped: the race detector allocates on its own")
	}
	ref := fixtures.Load(t, "moe-mixtral-q4_k_m")
	m, store := load(t, ref.Path, 0, tier.Options{})
	slots := m.Config.Experts * len(m.Layers)
	pol, err := expert.New("fmoe", len(m.Layers), m.Config.Experts)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := store.NewExpertPool(m.ExpertStacks(), slots, expert.NewCache(slots, pol))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.UseExpertCache(pool, store, true); err != nil {
		t.Fatal(err)
	}
	cache := kv.New(m.Blocks, 512, m.KVHeads, m.HeadDim)
	pos := 0
	tok := make([]int32, 1)
	step := func() {
		tok[0] = int32(1 + pos%400)
		if _, err := m.Forward(tok, pos, cache, false); err != nil {
			t.Fatal(err)
		}
		pos++
	}
	for i := 0; i < 64; i++ { // warm: every expert read once
		step()
	}
	if n := testing.AllocsPerRun(20, step); n != 0 {
		t.Errorf("%.1f allocations per decode step through the expert cache", n)
	}
}
