// Package expert decides which MoE experts stay in memory and which to fetch
// early: a Cache of expert slots driven by a replacement and prefetch Policy.
//
// A mixture-of-experts layer routes each token to a few of its experts
// (Mixtral: 2 of 8). When all experts do not fit the memory budget, the
// engine keeps C of them (across all layers) in fixed memory slots and
// reads the others from disk on a miss. The Cache is bookkeeping only: it
// says which Key lives in which slot, never touches bytes, and the caller
// maps slot i to its own buffer i.
//
// The policies implement the offloading research:
//
//   - "lru": least recently used (Mixtral-offloading, Eliseev & Mazur 2023).
//   - "lfu": least frequently used, counting every use since the start.
//   - "activation": MoE-Infinity (Xue et al. 2024): a per-request Expert
//     Activation Matrix matched against recent requests' matrices predicts
//     each expert's activation; the lowest prediction is evicted, and the
//     highest are prefetched.
//   - "speculative": LRU plus speculative prefetch (Mixtral-offloading):
//     the next layer's router applied to the current hidden state guesses
//     the next layer's experts, which are fetched early.
//   - "fmoe": fine-grained (after fMoE, Yu et al. 2025): a per-token
//     probability of use learned online from the expert's recency, the
//     request-history prediction and the speculative guess; scores both
//     eviction and prefetch.
//
// # Driving the cache
//
// Either with steps, for every MoE layer of a forward pass, in layer order
// (what trace.Replay does):
//
//	c.Route(layer, n, idx, weights)     // the router has run: starts the layer's step
//	for each distinct expert e in idx:
//	    hit, slot, old, evicted := c.Access(expert.Key{Layer: layer, Expert: e})
//	    // miss: read e into slot (old, if evicted, no longer lives there)
//	... compute the layer ...
//	c.Guess(layer+1, guess)             // optional: the next layer's router on this hidden state
//	for _, k := range c.Suggest(buf[:0], layer+1, topK) {
//	    slot, old, evicted, ok := c.Prefetch(k) // ok: start reading k into slot
//	}
//
// Keys accessed or prefetched during a step cannot be evicted until the
// next step starts, so a layer's experts stay resident while it computes;
// Pin holds a key longer (for example while its read is in flight).
//
// Or as a tier.ExpertCache (Lookup, Admit, Touch), which *Cache satisfies:
// tier.ExpertPool does the I/O and says which slots are busy; the model
// still reports Route (before the pool's Fetch), Guess, and BeginRequest /
// EndRequest, and may pass Suggest's keys to the pool's Prefetch.
package expert

import (
	"fmt"
	"strings"
)

// Key names one expert: its MoE layer (0-based, counting MoE layers only)
// and its index within the layer.
type Key struct {
	Layer  int // MoE layer, 0-based
	Expert int // expert within the layer, 0-based
}

// String formats k as "L3/E5".
func (k Key) String() string { return fmt.Sprintf("L%d/E%d", k.Layer, k.Expert) }

// Policy chooses eviction victims and prefetch candidates for a Cache.
//
// The Cache calls Used and Priority; the caller's routing signals reach the
// policy through the Cache's Route, Guess, BeginRequest, EndRequest and
// Suggest, which forward here. Keys must lie in the layers x experts the
// policy was made for; a policy panics on others. Policies are not safe for
// concurrent use.
type Policy interface {
	// Name returns the name New knows the policy by.
	Name() string
	// ExtraBytes returns the memory the policy's own state takes for a model
	// of layers x experts (the cache's slot table is not counted).
	ExtraBytes(layers, experts int) int64

	// BeginRequest starts a new request (a prompt and its continuation).
	BeginRequest()
	// EndRequest ends the current request.
	EndRequest()
	// Route reports the router's choice at layer for a forward pass of n
	// tokens: experts holds every token's selected experts back to back
	// (n*topK of them) and weights their gate weights (may be nil). A call
	// with a layer not above the previous call's starts a new pass.
	Route(layer, n int, experts []int, weights []float32)
	// Guess reports a speculative guess of the experts layer will use, best
	// first: the experts chosen by layer's router applied to the previous
	// layer's hidden state. The guess holds until layer's Route.
	Guess(layer int, experts []int)
	// Suggest appends to dst up to max keys of layer worth prefetching now,
	// best first, and returns the extended slice.
	Suggest(dst []Key, layer, max int) []Key

	// Used records a use of k (a cache hit or a load on a miss).
	Used(k Key)
	// Priority returns how much k is worth keeping: the cache evicts the
	// resident key of lowest priority, least recently used first among
	// equals, and admits a prefetch only over a victim of no higher
	// priority than the prefetched key.
	Priority(k Key) float64
}

// StablePriority is an optional interface of a Policy whose Priority of a
// key changes only when the key is used (Used): the Cache then keeps its
// keys ordered in a heap, O(log capacity) per eviction, instead of asking
// every resident key's priority, O(capacity). lru, lfu and speculative
// implement it.
type StablePriority interface {
	Policy
	StablePriority()
}

// Names lists the policies New knows.
func Names() []string { return []string{"lru", "lfu", "activation", "speculative", "fmoe"} }

// Limits on the shapes New accepts.
const (
	MaxLayers  = 1 << 12
	MaxExperts = 1 << 16
	MaxKeys    = 1 << 20 // layers * experts
)

// New returns the policy called name for a model with layers MoE layers of
// experts experts each.
func New(name string, layers, experts int) (Policy, error) {
	if layers < 1 || experts < 1 || layers > MaxLayers || experts > MaxExperts || layers*experts > MaxKeys {
		return nil, fmt.Errorf("expert: %d layers x %d experts is not a model shape a policy handles (at most %d layers, %d experts, %d in all)",
			layers, experts, MaxLayers, MaxExperts, MaxKeys)
	}
	b := base{layers: layers, experts: experts}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "lru":
		return &lru{base: b}, nil
	case "lfu":
		return newLFU(b), nil
	case "activation":
		return newActivation(b), nil
	case "speculative":
		return newSpeculative(b), nil
	case "fmoe":
		return newFMoE(b), nil
	}
	return nil, fmt.Errorf("expert: unknown policy %q (known: %s)", name, strings.Join(Names(), ", "))
}

// base holds the model shape and the no-op signal handlers.
type base struct{ layers, experts int }

func (b *base) index(k Key) int {
	if uint(k.Layer) >= uint(b.layers) || uint(k.Expert) >= uint(b.experts) {
		panic(fmt.Sprintf("expert: key %v outside the policy's %d layers x %d experts", k, b.layers, b.experts))
	}
	return k.Layer*b.experts + k.Expert
}

func (b *base) BeginRequest()                           {}
func (b *base) EndRequest()                             {}
func (b *base) Route(int, int, []int, []float32)        {}
func (b *base) Guess(int, []int)                        {}
func (b *base) Suggest(dst []Key, layer, max int) []Key { return dst }
func (b *base) Used(Key)                                {}
func (b *base) Priority(Key) float64                    { return 0 }

// lru evicts the least recently used expert and never prefetches. Its
// recency is the cache's own per-slot clock, so it needs no memory of its
// own: ExtraBytes is 0.
type lru struct{ base }

func (*lru) StablePriority()                     {}
func (*lru) Name() string                        { return "lru" }
func (*lru) ExtraBytes(int, int) int64           { return 0 }
func (p *lru) Suggest(dst []Key, _, _ int) []Key { return dst }

// lfu evicts the expert used least often since the policy was made (every
// hit or load counts), least recently used first among equals; it never
// prefetches. Memory: one 4-byte counter per expert, 4*layers*experts bytes.
type lfu struct {
	base
	count []uint32
}

func newLFU(b base) *lfu { return &lfu{base: b, count: make([]uint32, b.layers*b.experts)} }

func (*lfu) StablePriority()                      {}
func (*lfu) Name() string                         { return "lfu" }
func (*lfu) ExtraBytes(layers, experts int) int64 { return 4 * int64(layers) * int64(experts) }
func (p *lfu) Used(k Key)                         { i := p.index(k); p.count[i]++ }
func (p *lfu) Priority(k Key) float64             { return float64(p.count[p.index(k)]) }

// speculative is LRU plus speculative prefetch (Mixtral-offloading): the
// guess for the next layer (its router applied to the current hidden state,
// given through Guess) is suggested for prefetch, best first. Without
// guesses it is exactly lru. Memory: the pending guess, at most one 8-byte
// entry per expert of a layer: 8*experts bytes.
type speculative struct {
	base
	guessLayer int
	guess      []int
}

func newSpeculative(b base) *speculative {
	return &speculative{base: b, guessLayer: -1, guess: make([]int, 0, b.experts)}
}

func (*speculative) StablePriority()                 {}
func (*speculative) Name() string                    { return "speculative" }
func (*speculative) ExtraBytes(_, experts int) int64 { return 8 * int64(experts) }

func (p *speculative) Guess(layer int, experts []int) {
	p.guessLayer, p.guess = layer, p.guess[:0]
	for _, e := range experts {
		p.index(Key{layer, e})
		if len(p.guess) < p.experts {
			p.guess = append(p.guess, e)
		}
	}
}

func (p *speculative) Route(layer, _ int, _ []int, _ []float32) {
	if layer == p.guessLayer {
		p.guessLayer = -1 // the real routing replaces the guess
	}
}

func (p *speculative) Suggest(dst []Key, layer, max int) []Key {
	if layer != p.guessLayer {
		return dst
	}
	for i, e := range p.guess {
		if i >= max {
			break
		}
		dst = append(dst, Key{layer, e})
	}
	return dst
}
