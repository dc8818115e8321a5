package expert

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func k(l, e int) Key { return Key{l, e} }

func newCache(t *testing.T, name string, capacity, layers, experts int) *Cache {
	t.Helper()
	p, err := New(name, layers, experts)
	if err != nil {
		t.Fatal(err)
	}
	return NewCache(capacity, p)
}

// step accesses keys in one step and returns the evicted keys ("-" for none).
func step(c *Cache, keys ...Key) []string {
	c.NextStep()
	var ev []string
	for _, key := range keys {
		_, _, v, did := c.Access(key)
		if did {
			ev = append(ev, v.String())
		} else {
			ev = append(ev, "-")
		}
	}
	return ev
}

func TestNewUnknownListsNames(t *testing.T) {
	_, err := New("arc", 4, 8)
	if err == nil {
		t.Fatal("no error for an unknown policy")
	}
	for _, n := range Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %q", err, n)
		}
		p, err := New(n, 4, 8)
		if err != nil || p.Name() != n {
			t.Errorf("New(%q) = %v, %v", n, p, err)
		}
	}
	if _, err := New("lru", 0, 8); err == nil {
		t.Error("no error for 0 layers")
	}
}

func TestLRUExact(t *testing.T) {
	c := newCache(t, "lru", 2, 1, 4)
	got := [][]string{
		step(c, k(0, 0)), step(c, k(0, 1)), step(c, k(0, 0)), // A B A
		step(c, k(0, 2)), // C evicts B, the least recently used
		step(c, k(0, 1)), // B evicts A
		step(c, k(0, 2)), // hit
		step(c, k(0, 0)), // A evicts B
	}
	want := []string{"-", "-", "-", "L0/E1", "L0/E0", "-", "L0/E1"}
	for i := range want {
		if got[i][0] != want[i] {
			t.Fatalf("step %d: evicted %v, want %v (all %v)", i, got[i], want[i], got)
		}
	}
	st := c.Stats()
	if st.Hits != 2 || st.Misses != 5 || st.Evictions != 3 {
		t.Fatalf("stats %+v", st)
	}
	if r := st.HitRate(); r != 2.0/7 {
		t.Fatalf("hit rate %v", r)
	}
}

func TestLFUExact(t *testing.T) {
	c := newCache(t, "lfu", 2, 1, 4)
	// A A B: counts A=2 B=1. C evicts B (least frequent).
	step(c, k(0, 0))
	step(c, k(0, 0))
	step(c, k(0, 1))
	if ev := step(c, k(0, 2)); ev[0] != "L0/E1" {
		t.Fatalf("C evicted %v, want L0/E1", ev)
	}
	// Counts outlive residency: B's access makes it 2. Resident A=2, C=1:
	// C goes.
	if ev := step(c, k(0, 1)); ev[0] != "L0/E2" {
		t.Fatalf("B evicted %v, want L0/E2", ev)
	}
	// Tie: B=2 (now), A=2: the least recently used, A, goes.
	if ev := step(c, k(0, 3)); ev[0] != "L0/E0" {
		t.Fatalf("D evicted %v, want L0/E0 (tie broken by LRU)", ev)
	}
}

func TestStepProtectsLayer(t *testing.T) {
	c := newCache(t, "lru", 2, 2, 4)
	step(c, k(0, 0), k(0, 1))
	// Layer 1 needs two experts: the second must not evict the first.
	ev := step(c, k(1, 0), k(1, 1))
	if ev[0] != "L0/E0" || ev[1] != "L0/E1" {
		t.Fatalf("evicted %v, want L0/E0 then L0/E1", ev)
	}
	// Capacity 1 and two experts in one step: the second is a bypass.
	c1 := newCache(t, "lru", 1, 1, 4)
	c1.NextStep()
	c1.Access(k(0, 0))
	hit, slot, _, did := c1.Access(k(0, 1))
	if hit || slot != -1 || did {
		t.Fatalf("second access: hit %v slot %d evicted %v; want a bypass", hit, slot, did)
	}
	if st := c1.Stats(); st.Bypasses != 1 || st.Misses != 2 {
		t.Fatalf("stats %+v", st)
	}
	if _, ok := c1.Contains(k(0, 0)); !ok {
		t.Fatal("the protected key was evicted")
	}
	// Capacity 0 caches nothing.
	c0 := newCache(t, "lru", 0, 1, 4)
	if _, slot, _, _ := c0.Access(k(0, 0)); slot != -1 || c0.Len() != 0 {
		t.Fatal("capacity 0 cached something")
	}
}

func TestPinAndRemove(t *testing.T) {
	c := newCache(t, "lru", 2, 1, 4)
	step(c, k(0, 0))
	step(c, k(0, 1))
	if !c.Pin(k(0, 0)) || c.Pin(k(0, 3)) {
		t.Fatal("Pin reported the wrong residency")
	}
	if ev := step(c, k(0, 2)); ev[0] != "L0/E1" {
		t.Fatalf("evicted %v, want L0/E1: L0/E0 is pinned", ev)
	}
	c.Unpin(k(0, 0))
	if ev := step(c, k(0, 3)); ev[0] != "L0/E0" {
		t.Fatalf("evicted %v after Unpin, want L0/E0", ev)
	}
	s, _ := c.Contains(k(0, 2))
	if !c.Remove(k(0, 2)) || c.Remove(k(0, 2)) || c.Len() != 1 {
		t.Fatal("Remove")
	}
	// The freed slot is reused without eviction.
	c.NextStep()
	if _, slot, _, did := c.Access(k(0, 1)); did || slot != s {
		t.Fatalf("after Remove: slot %d evicted %v, want free slot %d", slot, did, s)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Unpin of an unpinned key did not panic")
		}
	}()
	c.Unpin(k(0, 1))
}

func TestPrefetchAccuracyAndProtection(t *testing.T) {
	c := newCache(t, "lru", 3, 2, 4)
	step(c, k(0, 0))
	// Prefetch two keys for layer 1; one will be used.
	for _, key := range []Key{k(1, 0), k(1, 1)} {
		if _, _, _, ok := c.Prefetch(key); !ok {
			t.Fatalf("prefetch %v refused", key)
		}
	}
	if _, _, _, ok := c.Prefetch(k(1, 0)); ok {
		t.Fatal("prefetch of a resident key reported an insertion")
	}
	// Cache full, every key protected by this step: a further prefetch fails.
	if s, _, _, ok := c.Prefetch(k(1, 2)); ok || s != -1 {
		t.Fatal("prefetch evicted a key protected by the current step")
	}
	step(c, k(1, 0))          // prefetch hit
	step(c, k(0, 1), k(0, 2)) // evicts the two least recent: L0/E0 and the unused L1/E1
	step(c, k(1, 0))          // plain hit
	if _, ok := c.Contains(k(1, 1)); ok {
		t.Fatal("unused prefetched key still resident")
	}
	st := c.Stats()
	if st.Prefetches != 2 || st.PrefetchHits != 1 || st.PrefetchAccuracy() != 0.5 {
		t.Fatalf("stats %+v, accuracy %v; want 2 prefetches, 1 hit, 0.5", st, st.PrefetchAccuracy())
	}
	if st.Hits != 2 || st.Reads() != st.Misses+2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestInvariants drives every policy with random steps and checks that the
// cache never exceeds its capacity, that slots are stable while resident
// and unique, and that Access and Contains agree.
func TestInvariants(t *testing.T) {
	const layers, experts = 4, 8
	for _, name := range Names() {
		for _, capacity := range []int{1, 3, 8, 20} {
			c := newCache(t, name, capacity, layers, experts)
			rng := rand.New(rand.NewPCG(1, uint64(capacity)))
			slotOf := map[Key]int{}
			var sugg []Key
			for tok := 0; tok < 400; tok++ {
				if tok%50 == 0 {
					c.EndRequest()
					c.BeginRequest()
				}
				for l := 0; l < layers; l++ {
					sel := []int{rng.IntN(experts)}
					if e := rng.IntN(experts); e != sel[0] {
						sel = append(sel, e)
					}
					c.Route(l, 1, sel, nil)
					for _, e := range sel {
						key := k(l, e)
						hit, s, v, did := c.Access(key)
						if did {
							if slotOf[v] != s {
								t.Fatalf("%s: %v evicted from slot %d, was in %d", name, v, s, slotOf[v])
							}
							delete(slotOf, v)
						}
						if hit && slotOf[key] != s {
							t.Fatalf("%s: %v moved from slot %d to %d", name, key, slotOf[key], s)
						}
						if s >= 0 {
							slotOf[key] = s
						}
					}
					if l+1 < layers {
						c.Guess(l+1, []int{rng.IntN(experts)})
					}
					sugg = c.Suggest(sugg[:0], (l+1)%layers, 2)
					for _, key := range sugg {
						if key.Layer != (l+1)%layers || key.Expert < 0 || key.Expert >= experts {
							t.Fatalf("%s suggested %v for layer %d", name, key, (l+1)%layers)
						}
						s, v, did, ok := c.Prefetch(key)
						if did {
							delete(slotOf, v)
						}
						if ok {
							slotOf[key] = s
						}
					}
					if c.Len() > capacity || len(slotOf) != c.Len() {
						t.Fatalf("%s: %d resident, capacity %d, tracked %d", name, c.Len(), capacity, len(slotOf))
					}
					used := map[int]bool{}
					for key, s := range slotOf {
						if got, ok := c.Contains(key); !ok || got != s {
							t.Fatalf("%s: Contains(%v) = %d, %v; want %d", name, key, got, ok, s)
						}
						if s < 0 || s >= capacity || used[s] {
							t.Fatalf("%s: slot %d out of range or shared", name, s)
						}
						used[s] = true
					}
				}
			}
			st := c.Stats()
			if st.Hits+st.Misses == 0 || st.PrefetchHits > st.Prefetches {
				t.Fatalf("%s: stats %+v", name, st)
			}
		}
	}
}

func TestExtraBytes(t *testing.T) {
	const L, E = 32, 8
	want := map[string]int64{
		"lru":         0,
		"lfu":         4 * L * E,
		"speculative": 8 * E,
		"activation":  72*L*E + 16*E,
		"fmoe":        76*L*E + 18*E + 640,
	}
	for _, n := range Names() {
		p, _ := New(n, L, E)
		if got := p.ExtraBytes(L, E); got != want[n] {
			t.Errorf("%s: ExtraBytes %d, documented %d", n, got, want[n])
		}
	}
}

func TestSpeculativeSuggestsGuess(t *testing.T) {
	c := newCache(t, "speculative", 4, 2, 8)
	c.Route(0, 1, []int{1, 2}, nil)
	c.Guess(1, []int{5, 6, 7})
	got := c.Suggest(nil, 1, 2)
	if len(got) != 2 || got[0] != k(1, 5) || got[1] != k(1, 6) {
		t.Fatalf("Suggest = %v, want [L1/E5 L1/E6]", got)
	}
	if got := c.Suggest(nil, 0, 2); len(got) != 0 {
		t.Fatalf("Suggest for an unguessed layer = %v", got)
	}
	c.Route(1, 1, []int{5, 0}, nil) // the real routing retires the guess
	if got := c.Suggest(nil, 1, 2); len(got) != 0 {
		t.Fatalf("Suggest after the layer's Route = %v", got)
	}
}

// TestActivationPredictsFromHistory: after requests that use a fixed pair
// of experts, a new request's prediction ranks that pair first before it
// has routed anything.
func TestActivationPredictsFromHistory(t *testing.T) {
	for _, name := range []string{"activation", "fmoe"} {
		p, _ := New(name, 2, 8)
		for r := 0; r < 3; r++ {
			p.BeginRequest()
			for tok := 0; tok < 10; tok++ {
				p.Route(0, 1, []int{3, 4}, nil)
				p.Route(1, 1, []int{6, 7}, nil)
			}
			p.EndRequest()
		}
		p.BeginRequest()
		got := p.Suggest(nil, 1, 2)
		if name == "activation" && (len(got) != 2 || got[0].Expert < 6 || got[1].Expert < 6) {
			t.Errorf("%s: Suggest(1) = %v, want experts 6 and 7", name, got)
		}
		if p.Priority(k(0, 3)) <= p.Priority(k(0, 0)) {
			t.Errorf("%s: a used expert does not outrank an unused one", name)
		}
	}
}

func TestKeyOutOfRangePanics(t *testing.T) {
	for _, name := range Names() {
		p, _ := New(name, 2, 4)
		func() {
			defer func() {
				if recover() == nil && name != "lru" {
					t.Errorf("%s: Route with expert 9 of 4 did not panic", name)
				}
			}()
			p.Used(k(0, 9))
			p.Route(0, 1, []int{9}, nil)
			p.Guess(1, []int{9})
		}()
	}
}

func BenchmarkAccess(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			p, _ := New(name, 32, 8)
			c := NewCache(64, p)
			rng := rand.New(rand.NewPCG(1, 2))
			sel := make([]int, 2)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				l := i % 32
				sel[0], sel[1] = rng.IntN(4), 4+rng.IntN(4)
				c.Route(l, 1, sel, nil)
				c.Access(k(l, sel[0]))
				c.Access(k(l, sel[1]))
			}
		})
	}
}
