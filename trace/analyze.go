package trace

import (
	"ferry/internal/iheap"
	"fmt"
	"runtime"
	"sync"

	"ferry/expert"
)

// DefaultSegments are the segment lengths, in tokens, at which Analyze
// computes SRP and SCH.
var DefaultSegments = []int{4, 8, 16, 32, 64}

// Options configure AnalyzeWith.
type Options struct {
	// CacheExperts is the cache size in experts, across all layers.
	CacheExperts int
	// Policies names the expert policies to replay (nil: expert.Names()).
	Policies []string
	// Segments are the SRP/SCH segment lengths (nil: DefaultSegments).
	Segments []int
	// Prefetch is the most keys a policy may prefetch per layer step
	// (0: the trace's top_k).
	Prefetch int
}

// Report is what Analyze finds. Hit rates are fractions in [0, 1].
type Report struct {
	Model     string `json:"model"`     // the header's model name
	Synthetic bool   `json:"synthetic"` // the trace came from Synth, not a model
	Layers    int    `json:"layers"`    // MoE layers
	Experts   int    `json:"experts"`   // experts per layer
	TopK      int    `json:"top_k"`     // experts selected per token per layer
	Tokens    int    `json:"tokens"`    // tokens in the trace
	Requests  int    `json:"requests"`  // requests in the trace
	Accesses  int64  `json:"accesses"`  // expert selections replayed
	HasSpec   bool   `json:"has_spec"`  // the trace carries speculative guesses
	// CacheExperts is the cache size; CacheFraction its share of all
	// layers*experts.
	CacheExperts  int     `json:"cache_experts"`
	CacheFraction float64 `json:"cache_fraction"` // of layers x experts
	// Belady is the hit rate of Belady's MIN (evict the expert whose next
	// use is farthest away), without prefetch, under the rule every policy
	// obeys: a layer's experts stay resident while the layer runs. It
	// bounds every policy that does not prefetch; prefetching ones may
	// exceed it.
	Belady   float64         `json:"belady_hit_rate"`
	Policies []PolicyReport  `json:"policies"`        // in the order asked
	Best     string          `json:"best_policy"`     // highest hit rate
	Segments []SegmentReport `json:"segments"`        // SRP and SCH per segment length
	Notes    []string        `json:"notes,omitempty"` // caveats, such as a synthetic trace
}

// PolicyReport is one policy's replay.
type PolicyReport struct {
	Name    string       `json:"name"`            // the policy
	Error   string       `json:"error,omitempty"` // the policy could not run
	HitRate float64      `json:"hit_rate"`        // hits / accesses
	Stats   expert.Stats `json:"stats"`           // the cache's counts
	// PrefetchAccuracy is the fraction of prefetched experts used before
	// eviction.
	PrefetchAccuracy float64 `json:"prefetch_accuracy"`
	// ReadsPerToken counts expert reads (misses and prefetches) per token.
	ReadsPerToken float64 `json:"reads_per_token"`
	// ExtraBytes is the policy's own memory (expert.Policy.ExtraBytes).
	ExtraBytes int64 `json:"extra_bytes"`
}

// SegmentReport holds the local routing consistency metrics of "Not All
// Models Suit Expert Offloading: On Local Routing Consistency of
// Mixture-of-Expert Models" (Liang et al. 2025) at one segment length m.
//
// SRP, Segment Routing best Performance: a segment router must predict, for
// every window of m consecutive tokens of a request (all |T|-m+1 of them)
// and every expert e, one decision for the whole window: e active on all m
// tokens or on none. Counting each token of each window as a binary
// classification sample, SRP is the best F1 score such a router can reach
// against the real routing:
//
//	SRP(m) = max over α of 2·Σ_{f≥α} f / Σ_{windows,e} (m·[f≥α] + f)
//
// where f = f(e, window) is the number of the window's tokens that selected
// e; the optimum predicts "active" exactly where f reaches a threshold α
// (the paper's appendix C). SRP is computed for the group of all experts of
// all layers (one shared threshold; the paper's model level) and, as
// LayerSRP, for each layer's experts, averaged over layers. SRPSizeRatio is
// the paper's ρ̂: the experts the optimal segment router activates per
// token over those the real router does.
//
// SCH, Segment Cache best Hit rate: the hit rate of a cache of
// CacheExperts experts that, on a miss, evicts the resident expert used
// least often in the next m tokens (each layer's next m passes; least
// recently used among equals), never one the current layer selected. It
// runs over the whole trace like the policies: requests share the cache,
// the look-ahead crosses request ends, and a first use is a miss (the
// paper's code lets an oracle preload empty slots; this does not).
type SegmentReport struct {
	Length       int     `json:"length"`         // m, tokens
	Windows      int64   `json:"windows"`        // segments of m tokens inside requests (0: requests are all shorter)
	SRP          float64 `json:"srp"`            // model level, in [0, 1]
	SRPSizeRatio float64 `json:"srp_size_ratio"` // ρ̂ of the model-level optimum
	LayerSRP     float64 `json:"layer_srp"`      // per layer, averaged
	SCH          float64 `json:"sch"`            // hit rate, in [0, 1]
}

const syntheticNote = "synthetic trace: the numbers describe the generator's settings, not a model"

// Analyze replays each named policy over the trace with a cache of
// cacheExperts experts and reports hit rates beside Belady's and the local
// routing consistency metrics at DefaultSegments. Unknown policy names get
// a PolicyReport with Error set.
func Analyze(tr *Trace, cacheExperts int, policies []string) Report {
	return AnalyzeWith(tr, Options{CacheExperts: cacheExperts, Policies: policies})
}

// AnalyzeWith is Analyze with every option.
func AnalyzeWith(tr *Trace, o Options) Report {
	h := tr.Header
	if o.Policies == nil {
		o.Policies = expert.Names()
	}
	if o.Segments == nil {
		o.Segments = DefaultSegments
	}
	if o.Prefetch <= 0 {
		o.Prefetch = h.TopK
	}
	f := flatten(tr)
	rep := Report{Model: h.Model, Synthetic: h.Synthetic, Layers: h.Layers, Experts: h.Experts, TopK: h.TopK,
		Tokens: len(tr.Tokens), Requests: tr.Requests(), Accesses: int64(len(f.keys)), HasSpec: tr.HasSpec(),
		CacheExperts: o.CacheExperts}
	if n := h.Layers * h.Experts; n > 0 {
		rep.CacheFraction = float64(o.CacheExperts) / float64(n)
	}
	if h.Synthetic {
		rep.Notes = append(rep.Notes, syntheticNote)
	}
	if !rep.HasSpec {
		rep.Notes = append(rep.Notes, "no speculative guesses in the trace: speculative behaves as lru, fmoe without its gate signal")
	}
	// The replays are independent: run them side by side.
	rep.Policies = make([]PolicyReport, len(o.Policies))
	var segs []int
	for _, m := range o.Segments {
		if m >= 1 {
			segs = append(segs, m)
		}
	}
	rep.Segments = make([]SegmentReport, len(segs))
	var tasks []func()
	tasks = append(tasks, func() { rep.Belady = belady(f, o.CacheExperts) })
	for i, name := range o.Policies {
		tasks = append(tasks, func() { rep.Policies[i] = replayPolicy(tr, name, o) })
	}
	for i, m := range segs {
		tasks = append(tasks, func() {
			rep.Segments[i] = srp(tr, f, m)
			rep.Segments[i].SCH = sch(f, o.CacheExperts, m)
		})
	}
	parallel(tasks)
	best := -1.0
	for _, pr := range rep.Policies {
		if pr.Error == "" && pr.HitRate > best {
			best, rep.Best = pr.HitRate, pr.Name
		}
	}
	return rep
}

// replayPolicy replays one policy over tr.
func replayPolicy(tr *Trace, name string, o Options) PolicyReport {
	h := tr.Header
	pr := PolicyReport{Name: name}
	p, err := expert.New(name, h.Layers, h.Experts)
	if err != nil {
		pr.Error = err.Error()
		return pr
	}
	pr.Name = p.Name()
	c := expert.NewCache(o.CacheExperts, p)
	Replay(tr, c, o.Prefetch)
	st := c.Stats()
	pr.Stats, pr.HitRate, pr.PrefetchAccuracy = st, st.HitRate(), st.PrefetchAccuracy()
	if len(tr.Tokens) > 0 {
		pr.ReadsPerToken = float64(st.Reads()) / float64(len(tr.Tokens))
	}
	pr.ExtraBytes = p.ExtraBytes(h.Layers, h.Experts)
	return pr
}

// parallel runs tasks on up to GOMAXPROCS goroutines and waits for them.
func parallel(tasks []func()) {
	next := make(chan func())
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(tasks)) {
		wg.Go(func() {
			for t := range next {
				t()
			}
		})
	}
	for _, t := range tasks {
		next <- t
	}
	close(next)
	wg.Wait()
}

// Replay drives c over the trace the way the engine drives it during a
// forward pass, one token at a time: at a request boundary EndRequest and
// BeginRequest; for each layer Route (which starts the layer's step), an
// Access per selected expert, the trace's speculative guess for the next
// layer (if any) through Guess, and up to prefetch of the policy's
// suggestions for the next layer (layer 0 of the next token after the last
// layer) through Prefetch.
func Replay(tr *Trace, c *expert.Cache, prefetch int) {
	L := tr.Header.Layers
	var sugg []expert.Key
	for i := range tr.Tokens {
		t := &tr.Tokens[i]
		if i == 0 || t.Req != tr.Tokens[i-1].Req {
			if i > 0 {
				c.EndRequest()
			}
			c.BeginRequest()
		}
		for l := range t.Layers {
			r := &t.Layers[l]
			c.Route(l, 1, r.Experts, r.Weights)
			for _, e := range r.Experts {
				c.Access(expert.Key{Layer: l, Expert: e})
			}
			if len(r.Spec) > 0 && l+1 < L {
				c.Guess(l+1, r.Spec)
			}
			if prefetch > 0 {
				sugg = c.Suggest(sugg[:0], (l+1)%L, prefetch)
				for _, k := range sugg {
					c.Prefetch(k)
				}
			}
		}
	}
	if len(tr.Tokens) > 0 {
		c.EndRequest()
	}
}

// flat is a trace as one access stream: step s = token*layers + layer holds
// the keys keys[start[s]:start[s+1]], key = layer*experts + expert.
type flat struct {
	layers, experts int
	keys            []int32
	start           []int32
}

func flatten(tr *Trace) *flat {
	h := tr.Header
	f := &flat{layers: h.Layers, experts: h.Experts, start: make([]int32, 0, len(tr.Tokens)*h.Layers+1)}
	for _, t := range tr.Tokens {
		for l, r := range t.Layers {
			f.start = append(f.start, int32(len(f.keys)))
			for _, e := range r.Experts {
				f.keys = append(f.keys, int32(l*h.Experts+e))
			}
		}
	}
	f.start = append(f.start, int32(len(f.keys)))
	return f
}

func (f *flat) steps() int { return len(f.start) - 1 }

func (f *flat) step(s int) []int32 { return f.keys[f.start[s]:f.start[s+1]] }

// belady returns the hit rate of Belady's MIN with a cache of capacity
// keys, never evicting a key of the current step.
func belady(f *flat, capacity int) float64 {
	n := len(f.keys)
	if n == 0 {
		return 0
	}
	nk := f.layers * f.experts
	next := make([]int32, n) // position of the key's next use, n if none
	last := make([]int32, nk)
	for i := range last {
		last[i] = int32(n)
	}
	for p := n - 1; p >= 0; p-- {
		next[p], last[f.keys[p]] = last[f.keys[p]], int32(p)
	}
	in := make([]bool, nk)
	cur := last // reused: the next use of each resident key (read only where in)
	prot := make([]int32, nk)
	for i := range prot {
		prot[i] = -1
	}
	var hp maxHeap
	var aside []heapItem
	size, hits := 0, 0
	for s := 0; s < f.steps(); s++ {
		for p := int(f.start[s]); p < int(f.start[s+1]); p++ {
			x := f.keys[p]
			switch {
			case in[x]:
				hits++
			case size < capacity:
				in[x] = true
				size++
			default:
				aside = aside[:0]
				victim := int32(-1)
				for len(hp) > 0 {
					it := hp.pop()
					if !in[it.key] || cur[it.key] != it.next {
						continue // stale
					}
					if prot[it.key] == int32(s) {
						aside = append(aside, it)
						continue
					}
					victim = it.key
					break
				}
				for _, it := range aside {
					hp.push(it)
				}
				if victim >= 0 {
					in[victim] = false
					in[x] = true
				}
			}
			if in[x] {
				cur[x] = next[p]
				hp.push(heapItem{next[p], x})
			}
			prot[x] = int32(s)
		}
		if len(hp) > 4*capacity+1024 { // drop stale entries
			k := 0
			for _, it := range hp {
				if in[it.key] && cur[it.key] == it.next {
					hp[k] = it
					k++
				}
			}
			hp = hp[:k]
			hp.init()
		}
	}
	return float64(hits) / float64(n)
}

type heapItem struct{ next, key int32 }

// maxHeap orders items by next use, farthest first.
type maxHeap []heapItem

func (h maxHeap) less(i, j int) bool { return h[i].next > h[j].next }

func (h *maxHeap) push(it heapItem) {
	*h = append(*h, it)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a.less(i, p) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *maxHeap) pop() heapItem {
	a := *h
	it := a[0]
	n := len(a) - 1
	a[0] = a[n]
	*h = a[:n]
	a.down(0)
	return it
}

func (h maxHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

func (h maxHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// sch returns the segment cache best hit rate at segment length m (see
// SegmentReport). Resident keys sit in a heap by (uses in the look-ahead
// window, last use), updated as the window slides.
func sch(f *flat, capacity, m int) float64 {
	n := len(f.keys)
	if n == 0 {
		return 0
	}
	nk := f.layers * f.experts
	S := f.steps()
	W := m * f.layers // look-ahead in steps
	cnt := make([]int32, nk)
	for s := 1; s <= min(W, S-1); s++ {
		for _, x := range f.step(s) {
			cnt[x]++
		}
	}
	lastUse := make([]int64, nk)
	prot := make([]int32, nk)
	for i := range prot {
		prot[i] = -1
	}
	h := iheap.New(nk, func(a, b int32) bool {
		return cnt[a] < cnt[b] || (cnt[a] == cnt[b] && lastUse[a] < lastUse[b])
	})
	var clock int64
	var aside []int32
	hits := 0
	for s := 0; s < S; s++ {
		if s > 0 {
			for _, x := range f.step(s) {
				cnt[x]--
				h.Fix(x)
			}
			if s+W < S {
				for _, x := range f.step(s + W) {
					cnt[x]++
					h.Fix(x)
				}
			}
		}
		for _, x := range f.step(s) {
			clock++
			lastUse[x], prot[x] = clock, int32(s)
			switch {
			case h.Contains(x):
				hits++
				h.Fix(x)
			case h.Len() < capacity:
				h.Push(x)
			default:
				aside = aside[:0]
				victim := int32(-1)
				for h.Len() > 0 {
					y := h.Pop()
					if prot[y] != int32(s) {
						victim = y
						break
					}
					aside = append(aside, y)
				}
				for _, y := range aside {
					h.Push(y)
				}
				if victim >= 0 {
					h.Push(x)
				}
			}
		}
	}
	return float64(hits) / float64(n)
}

// srp computes the SRP metrics at segment length m (see SegmentReport).
func srp(tr *Trace, f *flat, m int) SegmentReport {
	L, E := f.layers, f.experts
	hist := make([]int64, L*(m+1)) // per layer: windows x experts by active count f
	cnt := make([]int32, E)
	var windows int64
	T := tr.Tokens
	for a := 0; a < len(T); {
		b := a + 1
		for b < len(T) && T[b].Req == T[a].Req {
			b++
		}
		if b-a >= m {
			windows += int64(b - a - m + 1)
			for l := 0; l < L; l++ {
				clear(cnt)
				hl := hist[l*(m+1) : (l+1)*(m+1)]
				for t := a; t < b; t++ {
					for _, e := range T[t].Layers[l].Experts {
						cnt[e]++
					}
					if t-a >= m {
						for _, e := range T[t-m].Layers[l].Experts {
							cnt[e]--
						}
					}
					if t-a >= m-1 {
						for _, c := range cnt {
							hl[c]++
						}
					}
				}
			}
		}
		a = b
	}
	rep := SegmentReport{Length: m, Windows: windows}
	if windows == 0 {
		return rep
	}
	model := make([]int64, m+1)
	var layerSum float64
	for l := 0; l < L; l++ {
		hl := hist[l*(m+1) : (l+1)*(m+1)]
		v, _ := bestF1(hl, m)
		layerSum += v
		for i, c := range hl {
			model[i] += c
		}
	}
	rep.LayerSRP = layerSum / float64(L)
	var active int64
	rep.SRP, active = bestF1(model, m)
	var total int64
	for c, k := range model {
		total += int64(c) * k
	}
	if total > 0 {
		rep.SRPSizeRatio = float64(int64(m)*active) / float64(total)
	}
	return rep
}

// bestF1 returns the best F1 of a segment router over a histogram of
// (window, expert) pairs by active count f in [0, m], and the number of
// pairs it predicts active.
func bestF1(hist []int64, m int) (float64, int64) {
	var total int64 // Σ f over all pairs
	for c, k := range hist {
		total += int64(c) * k
	}
	if total == 0 {
		return 0, 0
	}
	best, bestN := 0.0, int64(0)
	var n, s int64 // pairs with f >= α, and their Σ f
	for a := m; a >= 1; a-- {
		n += hist[a]
		s += int64(a) * hist[a]
		if v := 2 * float64(s) / float64(int64(m)*n+total); v > best {
			best, bestN = v, n
		}
	}
	return best, bestN
}

// String formats r as the text table ferry trace analyze prints.
func (r Report) String() string {
	var b []byte
	if r.Synthetic {
		b = fmt.Appendf(b, "%s\n", syntheticNote)
	}
	b = fmt.Appendf(b, "model %s: %d MoE layers x %d experts, top-%d; %d tokens in %d requests; speculative guesses: %s\n",
		r.Model, r.Layers, r.Experts, r.TopK, r.Tokens, r.Requests, yesNo(r.HasSpec))
	b = fmt.Appendf(b, "cache: %d experts (%.1f%% of %d)\n\n", r.CacheExperts, 100*r.CacheFraction, r.Layers*r.Experts)
	b = fmt.Appendf(b, "%-12s %8s %8s %7s %9s %10s %10s\n", "POLICY", "HIT", "BELADY", "GAP", "PREF.ACC", "READS/TOK", "EXTRA MEM")
	for _, p := range r.Policies {
		if p.Error != "" {
			b = fmt.Appendf(b, "%-12s error: %s\n", p.Name, p.Error)
			continue
		}
		acc := "-"
		if p.Stats.Prefetches > 0 {
			acc = fmt.Sprintf("%.1f%%", 100*p.PrefetchAccuracy)
		}
		mark := ""
		if p.Name == r.Best {
			mark = "  best"
		}
		b = fmt.Appendf(b, "%-12s %7.1f%% %7.1f%% %+7.1f %9s %10.2f %10s%s\n", p.Name, 100*p.HitRate, 100*r.Belady,
			100*(p.HitRate-r.Belady), acc, p.ReadsPerToken, fmtBytes(p.ExtraBytes), mark)
	}
	b = append(b, "\nBelady: MIN without prefetch, the bound for demand caching; prefetching policies can pass it.\n\n"...)
	b = fmt.Appendf(b, "%-8s %8s %10s %10s %8s %10s\n", "SEGMENT", "SRP", "SRP SIZE", "LAYER SRP", "SCH", "WINDOWS")
	for _, s := range r.Segments {
		if s.Windows == 0 {
			b = fmt.Appendf(b, "%-8d %8s %10s %10s %7.1f%% %10d\n", s.Length, "-", "-", "-", 100*s.SCH, 0)
			continue
		}
		b = fmt.Appendf(b, "%-8d %8.3f %9.2fx %10.3f %7.1f%% %10d\n", s.Length, s.SRP, s.SRPSizeRatio, s.LayerSRP, 100*s.SCH, s.Windows)
	}
	for _, n := range r.Notes {
		if n != syntheticNote { // already the first line
			b = fmt.Appendf(b, "note: %s\n", n)
		}
	}
	return string(b)
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func fmtBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
