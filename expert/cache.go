package expert

import (
	"fmt"

	"ferry/internal/iheap"
)

// Cache is the bookkeeping of an expert cache of a fixed number of slots:
// which Key lives in which slot. It holds no weights: the caller keeps one
// memory slot per cache slot and reads an expert into slot i when the Cache
// says so. A key keeps its slot while it stays resident.
//
// There are two ways to drive it.
//
// Steps (Route, Access, Prefetch; what trace.Replay does): time is divided
// into steps, one per MoE layer of a forward pass (Route or NextStep starts
// one). A key accessed or prefetched during the current step is protected:
// nothing evicts it before the next step, so all the experts a layer
// selected are resident together while it computes, and a prefetch never
// evicts them. Pin protects a key across steps.
//
// The tier.ExpertCache protocol (Lookup, Admit, Touch): the caller, such as
// tier.ExpertPool, decides which slots are busy and passes that as the
// pinned predicate of each Admit; steps do not protect anything in this
// mode. Route, Guess, BeginRequest and EndRequest still feed the policy.
//
// A Cache is not safe for concurrent use: call it under the same lock as
// the slots it describes.
type Cache struct {
	p        Policy
	capacity int
	n        int // resident keys

	// Per slot.
	keys    []Key
	full    []bool
	lastUse []int64 // clock of the last access or prefetch
	prot    []int64 // step in which the slot is protected
	pins    []int32
	fetched []bool // prefetched and not yet accessed

	// With a StablePriority policy, resident slots are kept in a heap by
	// (priority, last use) instead of being scanned on every eviction.
	ordered bool
	prio    []float64
	heap    iheap.Heap

	// pinned is Admit's predicate of busy slots, set during the call.
	pinned func(slot int) bool

	index [][]int32 // [layer][expert] -> slot+1; 0: not resident
	free  []int32
	clock int64
	step  int64
	stats Stats
}

// Stats counts what a Cache did.
type Stats struct {
	Hits     int64 `json:"hits"`     // accesses that found the key resident
	Misses   int64 `json:"misses"`   // accesses that did not (loads and bypasses)
	Bypasses int64 `json:"bypasses"` // misses with no slot free to take (every slot protected or pinned)
	// Prefetches counts keys Prefetch inserted; PrefetchHits those of them
	// accessed before being evicted.
	Prefetches   int64 `json:"prefetches"`
	PrefetchHits int64 `json:"prefetch_hits"` // of them, accessed before eviction
	Evictions    int64 `json:"evictions"`     // resident keys displaced by a miss or a prefetch
}

// HitRate returns Hits / (Hits + Misses), 0 before any access.
func (s Stats) HitRate() float64 { return ratio(s.Hits, s.Hits+s.Misses) }

// PrefetchAccuracy returns the fraction of prefetched keys used before
// eviction, PrefetchHits / Prefetches (0 without prefetches). Keys still
// resident and unused count as not (yet) used.
func (s Stats) PrefetchAccuracy() float64 { return ratio(s.PrefetchHits, s.Prefetches) }

// Reads returns the number of experts read from storage: every miss (into a
// slot or, for a bypass, a staging buffer) and every prefetch.
func (s Stats) Reads() int64 { return s.Misses + s.Prefetches }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// NewCache returns an empty cache of capacity slots managed by p. A capacity
// of 0 or less caches nothing: every access is a bypass.
func NewCache(capacity int, p Policy) *Cache {
	if p == nil {
		panic("expert: NewCache with a nil policy")
	}
	capacity = max(capacity, 0)
	c := &Cache{p: p, capacity: capacity, step: 1,
		keys: make([]Key, capacity), full: make([]bool, capacity), lastUse: make([]int64, capacity),
		prot: make([]int64, capacity), pins: make([]int32, capacity), fetched: make([]bool, capacity),
		free: make([]int32, capacity)}
	for i := range c.free {
		c.free[i] = int32(capacity - 1 - i) // pop from the end: slot 0 first
	}
	if _, ok := p.(StablePriority); ok {
		c.ordered = true
		c.prio = make([]float64, capacity)
		c.heap = iheap.New(capacity, func(a, b int32) bool {
			return c.prio[a] < c.prio[b] || (c.prio[a] == c.prio[b] && c.lastUse[a] < c.lastUse[b])
		})
	}
	return c
}

// Policy returns the cache's policy.
func (c *Cache) Policy() Policy { return c.p }

// Capacity returns the number of slots.
func (c *Cache) Capacity() int { return c.capacity }

// Len returns the number of resident keys.
func (c *Cache) Len() int { return c.n }

// Stats returns the counts so far.
func (c *Cache) Stats() Stats { return c.stats }

// Resident appends the resident keys to dst, in slot order.
func (c *Cache) Resident(dst []Key) []Key {
	for s, ok := range c.full {
		if ok {
			dst = append(dst, c.keys[s])
		}
	}
	return dst
}

// lookup returns k's slot or -1.
func (c *Cache) lookup(k Key) int {
	if k.Layer < 0 || k.Expert < 0 {
		panic(fmt.Sprintf("expert: negative key %v", k))
	}
	if k.Layer >= len(c.index) || k.Expert >= len(c.index[k.Layer]) {
		return -1
	}
	return int(c.index[k.Layer][k.Expert]) - 1
}

func (c *Cache) setIndex(k Key, slot int) {
	for k.Layer >= len(c.index) {
		c.index = append(c.index, nil)
	}
	row := c.index[k.Layer]
	if k.Expert >= len(row) {
		row = append(row, make([]int32, k.Expert+1-len(row))...)
		c.index[k.Layer] = row
	}
	row[k.Expert] = int32(slot + 1)
}

// Contains returns k's slot if k is resident.
func (c *Cache) Contains(k Key) (slot int, ok bool) {
	s := c.lookup(k)
	return s, s >= 0
}

// NextStep ends the current step: keys it protected become evictable again
// (unless pinned). Route calls it; call it directly only when not reporting
// routing.
func (c *Cache) NextStep() { c.step++ }

// Route starts the step of a MoE layer and reports its routing to the
// policy (see Policy.Route): call it once per MoE layer of a forward pass of
// n tokens, after the router has run and before the layer's accesses.
func (c *Cache) Route(layer, n int, experts []int, weights []float32) {
	c.NextStep()
	c.p.Route(layer, n, experts, weights)
}

// Guess reports a speculative guess for layer's experts (see Policy.Guess).
func (c *Cache) Guess(layer int, experts []int) { c.p.Guess(layer, experts) }

// BeginRequest tells the policy a request starts.
func (c *Cache) BeginRequest() { c.p.BeginRequest() }

// EndRequest tells the policy the current request has ended.
func (c *Cache) EndRequest() { c.p.EndRequest() }

// Suggest appends to dst up to max keys of layer the policy would prefetch
// now, best first (resident ones included: Prefetch skips them).
func (c *Cache) Suggest(dst []Key, layer, max int) []Key { return c.p.Suggest(dst, layer, max) }

// Access records a use of k by the current step. On a hit it returns
// hit=true and k's slot. On a miss it assigns k a slot, evicting the
// policy's victim if no slot is free (evicted, didEvict): the caller must
// read k into that slot. If every slot is protected or pinned it returns
// slot -1 (a bypass): the caller computes with k from a staging buffer
// without caching it. Either way k is protected until the step ends.
func (c *Cache) Access(k Key) (hit bool, slot int, evicted Key, didEvict bool) {
	c.clock++
	if s := c.lookup(k); s >= 0 {
		c.stats.Hits++
		if c.fetched[s] {
			c.stats.PrefetchHits++
			c.fetched[s] = false
		}
		c.lastUse[s], c.prot[s] = c.clock, c.step
		c.p.Used(k)
		if c.ordered {
			c.prio[s] = c.p.Priority(k)
			c.heap.Fix(int32(s))
		}
		return true, s, Key{}, false
	}
	c.stats.Misses++
	c.p.Used(k)
	s, v, ok := c.take(k, false)
	if s < 0 {
		c.stats.Bypasses++
		return false, -1, Key{}, false
	}
	c.lastUse[s], c.prot[s] = c.clock, c.step
	c.placed(s)
	return false, s, v, ok
}

// placed enters a newly filled slot into the heap, its last use set.
func (c *Cache) placed(s int) {
	if c.ordered {
		c.prio[s] = c.p.Priority(c.keys[s])
		c.heap.Push(int32(s))
	}
}

// Prefetch inserts k without counting a use, so that a later Access hits.
// ok reports whether k was inserted: the caller must then read k into slot
// (and, if didEvict, evicted no longer lives there). If k was already
// resident, slot is its slot and ok is false; if the policy ranks every
// evictable key above k, or none is evictable, slot is -1 and ok is false.
// A prefetch never evicts a key protected by the current step or pinned,
// and the prefetched key is protected until the step ends.
func (c *Cache) Prefetch(k Key) (slot int, evicted Key, didEvict bool, ok bool) {
	if s := c.lookup(k); s >= 0 {
		return s, Key{}, false, false
	}
	c.clock++
	s, v, did := c.take(k, true)
	if s < 0 {
		return -1, Key{}, false, false
	}
	c.stats.Prefetches++
	c.fetched[s] = true
	c.lastUse[s], c.prot[s] = c.clock, c.step
	c.placed(s)
	return s, v, did, true
}

// take finds k a slot, evicting if needed; for a prefetch it evicts only a
// victim the policy ranks no higher than k. It returns -1 if no slot.
func (c *Cache) take(k Key, prefetch bool) (slot int, evicted Key, didEvict bool) {
	if n := len(c.free); n > 0 {
		s := int(c.free[n-1])
		c.free = c.free[:n-1]
		c.insert(k, s)
		return s, Key{}, false
	}
	s := c.victim()
	if s < 0 {
		return -1, Key{}, false
	}
	v := c.keys[s]
	if prefetch && c.p.Priority(k) < c.p.Priority(v) {
		return -1, Key{}, false
	}
	c.index[v.Layer][v.Expert] = 0
	c.full[s] = false
	c.fetched[s] = false
	c.n--
	c.stats.Evictions++
	if c.ordered {
		c.heap.Remove(int32(s))
	}
	c.insert(k, s)
	return s, v, true
}

func (c *Cache) insert(k Key, s int) {
	c.keys[s], c.full[s] = k, true
	c.n++
	c.setIndex(k, s)
}

// evictable reports whether slot s may be evicted now.
func (c *Cache) evictable(s int) bool {
	return c.full[s] && c.prot[s] != c.step && c.pins[s] == 0 && (c.pinned == nil || !c.pinned(s))
}

// victim returns the evictable slot of lowest (priority, last use), or -1.
func (c *Cache) victim() int {
	if c.ordered {
		// Pop past protected and pinned slots, then put them all back.
		var aside [16]int32
		popped := aside[:0]
		best := -1
		for c.heap.Len() > 0 {
			s := c.heap.Pop()
			popped = append(popped, s)
			if c.evictable(int(s)) {
				best = int(s)
				break
			}
		}
		for _, s := range popped {
			c.heap.Push(s)
		}
		return best
	}
	best, bestP, bestT := -1, 0.0, int64(0)
	for s := range c.keys {
		if !c.evictable(s) {
			continue
		}
		p := c.p.Priority(c.keys[s])
		if best < 0 || p < bestP || (p == bestP && c.lastUse[s] < bestT) {
			best, bestP, bestT = s, p, c.lastUse[s]
		}
	}
	return best
}

// Pin protects resident k from eviction until a matching Unpin (pins
// nest). It reports whether k is resident.
func (c *Cache) Pin(k Key) bool {
	s := c.lookup(k)
	if s < 0 {
		return false
	}
	c.pins[s]++
	return true
}

// Unpin undoes one Pin of k; it panics if k is not pinned.
func (c *Cache) Unpin(k Key) {
	s := c.lookup(k)
	if s < 0 || c.pins[s] == 0 {
		panic(fmt.Sprintf("expert: Unpin of %v, which is not pinned", k))
	}
	c.pins[s]--
}

// Remove drops k from the cache (for example after its read failed) and
// reports whether it was resident. Its slot becomes free; pins are dropped.
func (c *Cache) Remove(k Key) bool {
	s := c.lookup(k)
	if s < 0 {
		return false
	}
	c.index[k.Layer][k.Expert] = 0
	c.full[s], c.fetched[s], c.pins[s], c.prot[s] = false, false, 0, 0
	c.n--
	if c.ordered {
		c.heap.Remove(int32(s))
	}
	c.free = append(c.free, int32(s))
	return true
}

// Lookup returns the slot holding expert e of layer, if any (the
// tier.ExpertCache protocol; the same as Contains).
func (c *Cache) Lookup(layer, e int) (slot int, ok bool) { return c.Contains(Key{layer, e}) }

// Admit gives expert e of layer a slot, evicting the policy's victim among
// the slots for which pinned (may be nil) is false (the tier.ExpertCache
// protocol). use says whether the expert is about to be used (a miss,
// counted as a use) or prefetched (then, as with Prefetch, the policy may
// decline to evict a key it values more). ok is false when no slot can be
// had; nothing is counted then, so that the caller may retry. A resident
// expert keeps its slot (and, with use, counts as a hit).
func (c *Cache) Admit(layer, e int, use bool, pinned func(slot int) bool) (slot int, ok bool) {
	k := Key{layer, e}
	if s := c.lookup(k); s >= 0 {
		if use {
			c.Touch(layer, e)
		}
		return s, true
	}
	c.clock++
	c.pinned = pinned
	s, _, _ := c.take(k, !use)
	c.pinned = nil
	if s < 0 {
		return 0, false
	}
	if use {
		c.stats.Misses++
		c.p.Used(k)
	} else {
		c.stats.Prefetches++
		c.fetched[s] = true
	}
	c.lastUse[s] = c.clock
	c.placed(s)
	return s, true
}

// Touch records a use of resident expert e of layer, a hit (the
// tier.ExpertCache protocol). It does nothing if the expert is not resident.
func (c *Cache) Touch(layer, e int) {
	k := Key{layer, e}
	s := c.lookup(k)
	if s < 0 {
		return
	}
	c.clock++
	c.stats.Hits++
	if c.fetched[s] {
		c.stats.PrefetchHits++
		c.fetched[s] = false
	}
	c.lastUse[s] = c.clock
	c.p.Used(k)
	if c.ordered {
		c.prio[s] = c.p.Priority(k)
		c.heap.Fix(int32(s))
	}
}
