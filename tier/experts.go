package tier

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"ferry/dtype"
	"ferry/expert"
)

// ExpertCache decides which experts occupy an ExpertPool's slots. Package
// expert implements it with the policies from the MoE-offloading research;
// the pool does the I/O.
type ExpertCache interface {
	// Lookup returns the slot holding expert e of layer, if any.
	Lookup(layer, e int) (slot int, ok bool)
	// Admit gives expert e of layer a slot, evicting the policy's victim
	// among slots for which pinned is false. use says whether the model is
	// about to use the expert (a miss) or it is being prefetched. ok is false
	// when every slot is pinned.
	Admit(layer, e int, use bool, pinned func(slot int) bool) (slot int, ok bool)
	// Touch records a use of a resident expert (a hit).
	Touch(layer, e int)
	// Route tells the policy a MoE layer's routing (k experts per token for
	// n tokens, with their weights) and starts a step.
	Route(layer, n int, experts []int, weights []float32)
	// Guess tells the policy the speculative guess for a layer.
	Guess(layer int, experts []int)
	// Suggest appends up to max experts worth prefetching for layer.
	Suggest(dst []expert.Key, layer, max int) []expert.Key
	// BeginRequest and EndRequest bracket one request (one generation).
	BeginRequest()
	EndRequest()
}

// ExpertPool holds MoE experts in a fixed number of equal slots, each with
// room for one expert's three matrices (gate, up and down rows). A miss reads
// the expert from the model file through the store's readers; Prefetch reads
// ahead of use.
type ExpertPool struct {
	store  *Store
	mats   [][3]*Tensor // per layer: gate, up, down expert stacks
	cache  ExpertCache
	mem    []byte
	slots  []expertSlot
	stride int64 // bytes per slot
	offs   [3]int64

	// Low-bit copies (HOBBIT): on a miss for an expert whose router weight
	// is below lowThreshold, read its copy from lowMats (in lowStore).
	lowStore     *Store
	lowMats      [][3]*Tensor
	lowThreshold float32

	mu         sync.Mutex
	stats      ExpertStats
	lowWant    []int
	guessBuf   []int
	suggestBuf []expert.Key
	// Fetch's buffers, reused from call to call.
	hitsBuf, loadingBuf, laterBuf, fetchBuf []int
}

type expertSlot struct {
	layer, e int // occupant, -1 when empty
	loading  bool
	users    int  // acquired and not released
	prefetch bool // loaded by a prefetch and not yet used
	// reserved: held by Fetch for an Acquire to come.
	reserved bool
	// fetchMiss: its read was started for a use and counted as a miss.
	fetchMiss bool
	// lowbit: the slot holds the low-bit copy of its expert.
	lowbit bool
	pending
	data  [3][]byte
	types [3]dtype.Type
}

// ExpertStats counts what the pool did. All fields only grow.
type ExpertStats struct {
	Hits, Misses int64
	LowBitLoads  int64 // misses served by the low-bit copy
	Prefetches   int64 // experts read ahead of use
	PrefetchHits int64 // prefetched experts that were then used
	BytesRead    int64
	Wait         time.Duration // time spent waiting for expert reads
}

// HitRate returns hits / (hits + misses).
func (s ExpertStats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// PrefetchAccuracy returns the fraction of prefetched experts that were used.
func (s ExpertStats) PrefetchAccuracy() float64 {
	if s.Prefetches == 0 {
		return 0
	}
	return float64(s.PrefetchHits) / float64(s.Prefetches)
}

// Sub returns the counts in s that are not in earlier.
func (s ExpertStats) Sub(earlier ExpertStats) ExpertStats {
	return ExpertStats{s.Hits - earlier.Hits, s.Misses - earlier.Misses, s.LowBitLoads - earlier.LowBitLoads,
		s.Prefetches - earlier.Prefetches, s.PrefetchHits - earlier.PrefetchHits, s.BytesRead - earlier.BytesRead, s.Wait - earlier.Wait}
}

// ExpertBytes returns the slot size the experts of mats need: one expert of
// each of the three stacks, each padded for aligned direct reads.
func ExpertBytes(mats [][3]*Tensor) int64 {
	_, stride := slotLayout(mats)
	return stride
}

// slotLayout places the three matrices of one expert within a slot.
func slotLayout(mats [][3]*Tensor) (offs [3]int64, stride int64) {
	for k := 0; k < 3; k++ {
		var m int64
		for _, l := range mats {
			t := l[k]
			if t == nil {
				continue
			}
			per := int64(t.Shape[1]) * int64(t.RowBytes())
			m = max(m, (per+directAlign-1)&^(directAlign-1)+2*directAlign)
		}
		offs[k] = stride
		stride += m
	}
	return offs, stride
}

// NewExpertPool makes a pool of slots for the expert stacks mats (per layer:
// gate, up, down, each of shape [in, out, experts]) consulting cache, whose
// capacity must equal slots.
func (s *Store) NewExpertPool(mats [][3]*Tensor, slots int, cache ExpertCache) (*ExpertPool, error) {
	p := &ExpertPool{store: s, mats: mats, cache: cache}
	p.offs, p.stride = slotLayout(mats)
	var err error
	if p.mem, err = allocAligned(int(p.stride) * slots); err != nil {
		return nil, fmt.Errorf("tier: cannot allocate %d expert slots of %d MiB: %w", slots, p.stride>>20, err)
	}
	p.slots = make([]expertSlot, slots)
	for i := range p.slots {
		p.slots[i].layer, p.slots[i].e = -1, -1
		p.slots[i].ready = make(chan struct{}, 1)
	}
	s.startReaders()
	s.pool = p
	return p, nil
}

// Bytes returns the memory the pool holds.
func (p *ExpertPool) Bytes() int64 { return int64(len(p.mem)) }

// Slots returns the number of experts the pool holds.
func (p *ExpertPool) Slots() int { return len(p.slots) }

// Stats returns a snapshot of the pool's counters.
func (p *ExpertPool) Stats() ExpertStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *ExpertPool) pinned(slot int) bool {
	p.pollLocked(slot)
	sl := &p.slots[slot]
	return sl.users > 0 || sl.loading || sl.reserved
}

// pollLocked notices, without waiting, that a slot's read has finished.
func (p *ExpertPool) pollLocked(slot int) {
	sl := &p.slots[slot]
	if !sl.loading {
		return
	}
	select {
	case <-sl.ready:
		sl.loading = false
	default:
	}
}

func (p *ExpertPool) reservedCount() int {
	n := 0
	for i := range p.slots {
		if p.slots[i].reserved {
			n++
		}
	}
	return n
}

// load starts reading expert e of layer into slot; p.mu is held.
func (p *ExpertPool) loadLocked(slot, layer, e int, lowbit bool) {
	sl := &p.slots[slot]
	sl.layer, sl.e, sl.loading, sl.err, sl.lowbit = layer, e, true, nil, lowbit
	base := p.mem[int64(slot)*p.stride:]
	mats, from := p.mats, (*Store)(nil)
	if lowbit {
		mats, from = p.lowMats, p.lowStore
		p.stats.LowBitLoads++
	}
	var jobs []readJob
	for k := 0; k < 3; k++ {
		t := mats[layer][k]
		sl.types[k] = t.Type
		rows := int64(t.Shape[1])
		size := rows * int64(t.RowBytes())
		off := t.Offset + int64(e)*size
		a0 := off &^ (directAlign - 1)
		a1 := (off + size + directAlign - 1) &^ (directAlign - 1)
		buf := base[p.offs[k] : p.offs[k]+(a1-a0)]
		sl.data[k] = buf[off-a0 : off-a0+size]
		for c := a0; c < a1; c += chunkBytes {
			end := min(c+chunkBytes, a1)
			jobs = append(jobs, readJob{from: from, p: &sl.pending, buf: buf[c-a0 : end-a0], off: c, need: min(end, off+size) - c})
		}
		p.stats.BytesRead += a1 - a0
	}
	sl.left.Store(int32(len(jobs)))
	queue := p.store.jobs
	go func() {
		for _, j := range jobs {
			queue <- j
		}
	}()
}

// wait blocks until the slot's load is done; p.mu is held and released while waiting.
func (p *ExpertPool) waitLocked(slot int) error {
	sl := &p.slots[slot]
	if sl.loading {
		p.mu.Unlock()
		<-sl.ready
		p.mu.Lock()
		sl.loading = false
	}
	p.store.mu.Lock()
	err := sl.err
	p.store.mu.Unlock()
	return err
}

// Fetch prepares the experts of layer the model is about to use: it holds
// the resident ones so they cannot be evicted, and starts reading the
// missing ones (as far as free slots allow) so they load while the resident
// ones compute. It returns the experts reordered: resident first, then those
// being read, then those Acquire will have to read.
//
// weights holds, for each expert, its largest router weight in the batch:
// with low-bit copies, a missing expert whose weight is below the threshold
// is read in low precision, and a resident low-bit copy is replaced by the
// full expert when its weight reaches the threshold.
func (p *ExpertPool) Fetch(layer int, experts []int, weights []float32) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	hits, loading, later := p.hitsBuf[:0], p.loadingBuf[:0], p.laterBuf[:0]
	defer func() { p.hitsBuf, p.loadingBuf, p.laterBuf = hits, loading, later }()
	p.lowWant = p.lowWant[:0]
	for i, e := range experts {
		low := p.lowStore != nil && weights != nil && weights[i] < p.lowThreshold
		if low {
			p.lowWant = append(p.lowWant, e)
		}
		if slot, ok := p.cache.Lookup(layer, e); ok && p.slots[slot].lowbit && !low && !p.pinned(slot) {
			// An approximate copy where full precision is wanted: reload.
			p.stats.Misses++
			sl := &p.slots[slot]
			sl.prefetch, sl.reserved, sl.fetchMiss = false, true, true
			p.loadLocked(slot, layer, e, false)
			loading = append(loading, e)
			continue
		}
		if slot, ok := p.cache.Lookup(layer, e); ok {
			p.pollLocked(slot)
			if !p.slots[slot].loading {
				hits = append(hits, e)
			} else {
				loading = append(loading, e)
			}
			p.slots[slot].reserved = true
		}
	}
	for _, e := range experts {
		if _, ok := p.cache.Lookup(layer, e); ok {
			continue
		}
		if p.reservedCount() >= len(p.slots)-1 {
			later = append(later, e)
			continue
		}
		slot, ok := p.cache.Admit(layer, e, true, p.pinned)
		if !ok {
			later = append(later, e)
			continue
		}
		p.stats.Misses++
		sl := &p.slots[slot]
		sl.prefetch, sl.reserved = false, true
		sl.fetchMiss = true
		p.loadLocked(slot, layer, e, slices.Contains(p.lowWant, e))
		loading = append(loading, e)
	}
	out := append(append(append(p.fetchBuf[:0], hits...), loading...), later...)
	p.fetchBuf = out
	return out
}

// Prefetch reads experts of a later layer ahead of use. Experts already
// resident, and those the policy declines or for which no slot can be
// freed, are skipped.
func (p *ExpertPool) Prefetch(layer int, experts []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prefetchLocked(layer, experts)
}

// Route passes a MoE layer's routing to the cache policy.
func (p *ExpertPool) Route(layer, n int, experts []int, weights []float32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cache.Route(layer, n, experts, weights)
}

// Guess passes the speculative guess for layer (k experts per token for n
// tokens) to the policy and prefetches what the policy then suggests.
func (p *ExpertPool) Guess(layer, n int, experts []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	want := p.guessBuf[:0]
	for _, e := range experts {
		if !slices.Contains(want, e) {
			want = append(want, e)
		}
	}
	p.guessBuf = want
	p.cache.Guess(layer, want)
	keys := p.cache.Suggest(p.suggestBuf[:0], layer, max(len(want), 1))
	p.suggestBuf = keys
	for _, k := range keys {
		p.prefetchOneLocked(k.Layer, k.Expert)
	}
}

// BeginRequest tells the policy a request starts.
func (p *ExpertPool) BeginRequest() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cache.BeginRequest()
}

// EndRequest tells the policy a request ended.
func (p *ExpertPool) EndRequest() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cache.EndRequest()
}

func (p *ExpertPool) prefetchLocked(layer int, experts []int) {
	for _, e := range experts {
		p.prefetchOneLocked(layer, e)
	}
}

func (p *ExpertPool) prefetchOneLocked(layer, e int) {
	if _, ok := p.cache.Lookup(layer, e); ok {
		return
	}
	slot, ok := p.cache.Admit(layer, e, false, p.pinned)
	if !ok {
		return // the policy declined, or every slot is busy
	}
	p.stats.Prefetches++
	p.slots[slot].prefetch = true
	p.loadLocked(slot, layer, e, false)
}

// Acquire returns the gate, up and down matrices of expert e of layer and
// their weight types (those of the low-bit copy when that is what the slot
// holds), waiting for its read if it is in flight and reading it if it is
// absent.
func (p *ExpertPool) Acquire(layer, e int) (mats [3][]byte, types [3]dtype.Type) {
	start := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		slot, ok := p.cache.Lookup(layer, e)
		if !ok {
			slot, ok = p.cache.Admit(layer, e, true, p.pinned)
			if !ok {
				// Every slot is in use or loading: wait for a load to finish.
				p.mu.Unlock()
				time.Sleep(20 * time.Microsecond)
				p.mu.Lock()
				continue
			}
			p.stats.Misses++
			p.slots[slot].prefetch = false
			p.slots[slot].fetchMiss = true
			p.loadLocked(slot, layer, e, slices.Contains(p.lowWant, e))
		}
		sl := &p.slots[slot]
		if sl.fetchMiss {
			sl.fetchMiss = false // counted as a miss when its read started
		} else {
			p.stats.Hits++
			p.cache.Touch(layer, e)
		}
		if sl.prefetch {
			p.stats.PrefetchHits++
			sl.prefetch = false
		}
		sl.users++
		sl.reserved = false
		if err := p.waitLocked(slot); err != nil {
			sl.users--
			panic(IOError{err})
		}
		p.stats.Wait += time.Since(start)
		return sl.data, sl.types
	}
}

// UseLowBit makes misses for experts whose router weight is below threshold
// read the low-bit copies in low (a file written by ferry quantize
// --expert-lowbit, with the same expert tensors at a smaller type). The
// results are then approximate.
func (p *ExpertPool) UseLowBit(low *Store, threshold float32) error {
	p.lowMats = make([][3]*Tensor, len(p.mats))
	for l, st := range p.mats {
		for k, t := range st {
			if t == nil {
				continue
			}
			lt := low.Tensor(t.Name)
			if lt == nil {
				return fmt.Errorf("tier: the low-bit file has no tensor %s", t.Name)
			}
			if len(lt.Shape) != len(t.Shape) || lt.Shape[0] != t.Shape[0] || lt.Shape[1] != t.Shape[1] || lt.Shape[2] != t.Shape[2] {
				return fmt.Errorf("tier: low-bit %s has shape %v, the model %v", t.Name, lt.Shape, t.Shape)
			}
			if int64(lt.Shape[1])*int64(lt.RowBytes()) > int64(t.Shape[1])*int64(t.RowBytes()) {
				return fmt.Errorf("tier: low-bit %s (%s) is larger than the model's (%s)", t.Name, lt.Type, t.Type)
			}
			p.lowMats[l][k] = lt
		}
	}
	p.lowStore, p.lowThreshold = low, threshold
	return nil
}

// Ready reports, without waiting, whether expert e of layer is resident
// and read.
func (p *ExpertPool) Ready(layer, e int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	slot, ok := p.cache.Lookup(layer, e)
	if !ok || p.slots[slot].layer != layer || p.slots[slot].e != e {
		return false
	}
	p.pollLocked(slot)
	return !p.slots[slot].loading
}

// Release gives back expert e of layer after use.
func (p *ExpertPool) Release(layer, e int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if slot, ok := p.cache.Lookup(layer, e); ok && p.slots[slot].users > 0 {
		p.slots[slot].users--
	}
}

// close waits for in-flight loads so their buffers can be freed.
func (p *ExpertPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.slots {
		p.waitLocked(i)
	}
	freeAligned(p.mem)
	p.mem = nil
}
