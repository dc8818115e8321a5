// Package engine ties a loaded model together: tokenizer, transformer, KV
// cache and sampler, and the loop that evaluates a prompt and generates.
package engine

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"ferry/embedded"
	"ferry/gguf"
	"ferry/kv"
	"ferry/model"
	"ferry/plan"
	"ferry/sample"
	"ferry/tier"
	"ferry/tokenizer"
)

// Options configures Load.
type Options struct {
	// Context is the KV cache length in tokens; 0 means min(the model's,
	// 4096), and under a memory budget also small enough that the KV cache
	// takes at most an eighth of it.
	Context int
	// Mem is the memory budget in bytes: everything ferry allocates (weights,
	// staging, KV cache, activations, tokenizer) stays inside it. Weights
	// that do not fit stream from disk. Zero means no budget.
	Mem int64
	// Batch is the most prompt tokens evaluated in one forward pass (default 64).
	Batch int
	// NoDirect reads weights through the page cache instead of O_DIRECT.
	NoDirect bool
	// Readers is how many reads the tier keeps in flight (default 4).
	Readers int
	// Mmap maps the model file and leaves residency to the kernel's page
	// cache, as llama.cpp does; Mem then bounds nothing. A baseline.
	Mmap bool
	// WeightBudget, when positive, sets the bytes for resident weights and
	// staging directly instead of deriving them from Mem (for experiments
	// and tests that need an exact split).
	WeightBudget int64
	// PlanOnly computes the budget and the placement without reading any
	// weight or allocating the KV cache: the engine can then only be
	// inspected (ferry plan), not run.
	PlanOnly bool
	// ExpertPolicy chooses the MoE expert cache policy (see package expert).
	// Empty means DefaultExpertPolicy, and an expert cache only when the
	// model does not fit.
	ExpertPolicy string
	// ExpertSlots, when positive, sets the number of experts the cache holds.
	ExpertSlots int
	// ExpertLowBit names a file of low-bit expert copies (ferry quantize
	// --expert-lowbit). A miss for an expert whose router weight is below
	// ExpertLowBitThreshold then reads the copy: less I/O, approximate
	// results (HOBBIT). Off when empty.
	ExpertLowBit          string
	ExpertLowBitThreshold float32
	// Parallel is how many sequences can be in flight at once (each has its
	// own KV cache, all counted in the budget); default 1.
	Parallel int
	// NoPack keeps resident weights in the file's layout instead of
	// rewriting them into the one the kernels read fastest (kernels.Pack);
	// the results are the same within float rounding. For comparisons.
	NoPack bool
}

// Budget itemizes how a memory budget is spent.
type Budget struct {
	Total      int64 // --mem
	KV         int64 // the KV cache
	Scratch    int64 // activations of a forward pass
	Heap       int64 // memory in use before weights: Go heap or resident set, the larger
	Weights    int64 // what is left for resident weights and staging
	MinWeights int64 // the least the weights can run in
}

// Engine is one loaded model ready to evaluate and generate.
type Engine struct {
	Path  string
	File  *gguf.File
	Model *model.Transformer
	Tok   *tokenizer.Tokenizer
	// Cache is the KV cache of the first sequence slot; Caches holds all.
	Cache  *kv.Cache
	Caches []*kv.Cache
	Opts   Options
	Budget Budget
	// Placement says which weight spans are resident and which stream.
	Placement plan.Placement
	// Experts describes the expert cache of a MoE model, or is nil.
	Experts  *ExpertSplit
	pool     *tier.ExpertPool
	lowStore *tier.Store
	rec      *recorder
	recRows  []rowOwner
	slotReq  map[*kv.Cache]int // request id of the sequence in each cache
	nextReq  int
	active   int // requests started and not ended
	store    *tier.Store
	one      [1]int32
	seq1     [1]model.Seq
	ctx      int       // context length per sequence
	last     []float32 // logits of the last prefilled position
}

// Load opens the GGUF model at path; an empty path loads the embedded default.
func Load(path string, opts Options) (*Engine, error) {
	if opts.Batch <= 0 {
		opts.Batch = 64
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 1
	}
	var g *gguf.File
	var store *tier.Store
	var err error
	shown := path
	topts := tier.Options{NoDirect: opts.NoDirect, Readers: opts.Readers}
	if opts.Mem > 0 {
		// Streamed spans get smaller with the budget, so that a small budget
		// still holds a staging ring of several of them.
		topts.SpanBytes = min(16<<20, max(1<<20, opts.Mem/32))
	}
	if path == "" {
		shown = "(embedded) " + embedded.Name
		src := bytes.NewReader(embedded.Model)
		if g, err = gguf.Parse(src, src.Size()); err == nil {
			store, err = tier.Open(src, g, topts)
		}
	} else if g, err = gguf.Open(path); err == nil {
		if opts.Mmap {
			store, err = tier.OpenMmap(path, g, topts)
		} else {
			store, err = tier.OpenFile(path, g, topts)
		}
	}
	if err != nil {
		return nil, err
	}
	e, err := load(shown, g, store, opts)
	if err != nil {
		store.Close()
		return nil, err
	}
	return e, nil
}

func load(path string, g *gguf.File, store *tier.Store, opts Options) (*Engine, error) {
	if _, err := model.ConfigFromGGUF(g); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	vocab, err := tokenizer.VocabFromGGUF(g)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tok, err := tokenizer.New(vocab)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := model.Load(g, store)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Vocab != tok.NVocab() {
		return nil, fmt.Errorf("%s: the model has %d logits but the tokenizer %d tokens", path, m.Vocab, tok.NVocab())
	}
	e := &Engine{Path: path, File: g, Model: m, Tok: tok, Opts: opts, store: store}
	ctx := opts.Context
	if ctx <= 0 {
		ctx = min(m.Context, 4096)
		if opts.Mem > 0 {
			for ctx > 256 && int64(opts.Parallel)*kv.Bytes(m.Blocks, ctx, m.KVDim()) > opts.Mem/8 {
				ctx /= 2
			}
		}
	}
	if ctx > MaxContext {
		return nil, fmt.Errorf("a context of %d tokens is beyond the %d ferry supports", ctx, MaxContext)
	}
	if need := int64(opts.Parallel) * kv.Bytes(m.Blocks, ctx, m.KVDim()); opts.Mem <= 0 {
		if avail := availableMemory(); avail > 0 && need > avail {
			return nil, fmt.Errorf("the KV cache for a context of %d tokens (x%d sequences) needs %s, more than the %s of memory available: lower --ctx", ctx, opts.Parallel, MiB(need), MiB(avail))
		}
	}
	schedule := m.Schedule()
	var spanRows int
	for _, t := range schedule {
		for i := 0; i < t.Spans(); i++ {
			r0, r1 := t.SpanRows(i)
			spanRows = max(spanRows, r1-r0)
		}
	}
	b := Budget{
		Total:   opts.Mem,
		KV:      int64(opts.Parallel) * kv.Bytes(m.Blocks, ctx, m.KVDim()),
		Scratch: m.ScratchBytes(max(opts.Batch, opts.Parallel), ctx, spanRows),
	}
	b.Scratch += tier.RowBufferBytes(m.Embed.RowBytes())
	// Each sequence's sampler works over the whole vocabulary.
	b.Scratch += int64(max(opts.Parallel, 1)) * sample.ScratchBytes(m.Vocab)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	// What the process holds before weights: the Go heap (tokenizer, norms,
	// metadata) or, when larger, the whole resident set (which also counts
	// the runtime and the binary's touched pages).
	b.Heap = max(int64(ms.HeapInuse), tier.CurrentRSS())
	b.MinWeights = plan.MinBudget(tier.Units(schedule))
	if opts.Mem > 0 && !opts.Mmap {
		b.Weights = opts.Mem - b.KV - b.Scratch - b.Heap
		if b.Weights < b.MinWeights {
			return nil, fmt.Errorf("a memory budget of %s cannot hold the working set: KV cache %s (context %d) + activations %s + heap %s + the smallest weight staging %s = %s",
				MiB(opts.Mem), MiB(b.KV), ctx, MiB(b.Scratch), MiB(b.Heap), MiB(b.MinWeights), MiB(b.KV+b.Scratch+b.Heap+b.MinWeights))
		}
		// Keep the Go heap (KV cache, activations, tokenizer) near what was
		// planned for it: collect harder rather than grow past the budget.
		debug.SetMemoryLimit(b.KV + b.Scratch + b.Heap + 16<<20)
	}
	if opts.WeightBudget > 0 {
		b.Weights = opts.WeightBudget
	}
	e.Budget = b
	e.ctx = ctx
	split, useCache, err := e.planExperts(b.Weights)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	denseBudget := b.Weights
	if useCache {
		e.Experts = &split
		denseBudget = split.DenseBudget
		if !opts.PlanOnly {
			cache, err := newExpertCache(opts.ExpertPolicy, split.Slots, m)
			if err != nil {
				return nil, err
			}
			pool, err := store.NewExpertPool(m.ExpertStacks(), split.Slots, cache)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if _, err := m.UseExpertCache(pool, store, speculates(opts.ExpertPolicy)); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			e.pool = pool
			if opts.ExpertLowBit != "" {
				if err := e.openLowBit(pool); err != nil {
					return nil, err
				}
			}
		}
		schedule = m.DenseSchedule()
	}
	if opts.PlanOnly {
		p, err := plan.Place(tier.Units(schedule), denseBudget)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		e.Placement = p
		return e, nil
	}
	if denseBudget <= 0 && m.Embed != m.Output.Weight {
		// No budget: every weight is resident, the embedding table too, so
		// that a token's row is not a read from disk (~0.2 ms on an SSD).
		schedule = append(schedule[:len(schedule):len(schedule)], m.Embed)
	}
	if e.Placement, err = store.Load(schedule, denseBudget); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Weights that stay in memory are rewritten once into the layout the
	// kernels read fastest.
	if !opts.NoPack {
		m.PackWeights()
	}
	for i := 0; i < opts.Parallel; i++ {
		e.Caches = append(e.Caches, kv.New(m.Blocks, ctx, m.KVHeads, m.HeadDim))
	}
	e.Cache = e.Caches[0]
	return e, nil
}

// MaxContext is the longest context ferry accepts.
const MaxContext = 1 << 20

// availableMemory returns MemAvailable from /proc/meminfo, or 0 when unknown.
var availableMemory = func() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if n, _ := fmt.Sscanf(line, "MemAvailable: %d kB", &kb); n == 1 {
			return kb << 10
		}
	}
	return 0
}

// MiB formats a byte count in mebibytes.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Store returns the tier that holds the model's weights.
func (e *Engine) Store() *tier.Store { return e.store }

// openLowBit attaches the low-bit expert copies to the pool.
func (e *Engine) openLowBit(pool *tier.ExpertPool) error {
	path := e.Opts.ExpertLowBit
	g, err := gguf.Open(path)
	if err != nil {
		return err
	}
	low, err := tier.OpenFile(path, g, tier.Options{NoDirect: e.Opts.NoDirect})
	if err != nil {
		return err
	}
	if err := pool.UseLowBit(low, e.Opts.ExpertLowBitThreshold); err != nil {
		low.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	e.lowStore = low
	return nil
}

// Close releases the model's memory and file.
func (e *Engine) Close() error {
	if e.lowStore != nil {
		e.lowStore.Close()
	}
	return e.store.Close()
}

// OpenHeader parses the header of the GGUF file at path (the embedded default
// when path is empty) without loading any weights. It returns the path as shown to users.
func OpenHeader(path string) (string, *gguf.File, error) {
	if path == "" {
		g, err := gguf.Parse(bytes.NewReader(embedded.Model), int64(len(embedded.Model)))
		return "(embedded) " + embedded.Name, g, err
	}
	g, err := gguf.Open(path)
	return path, g, err
}

// WeightBytesPerToken returns the weight bytes one decoded token reads:
// every dense weight once, the chosen experts of each MoE layer, and one
// embedding row.
func (e *Engine) WeightBytesPerToken() int64 {
	var n int64
	for _, u := range tier.Units(e.Model.DenseSchedule()) {
		n += u.Bytes
	}
	for _, st := range e.Model.ExpertStacks() {
		for _, t := range st {
			if t != nil {
				n += t.Size / int64(t.Shape[2]) * int64(e.Model.ExpertsUsed)
			}
		}
	}
	for _, l := range e.Model.Layers {
		if l.MoE != nil {
			n += l.MoE.Router.Weight.Size
		}
	}
	return n + int64(e.Model.Embed.RowBytes())
}

// Cache0Context returns the context length the engine plans or holds for
// each sequence.
func (e *Engine) Cache0Context() int {
	if e.Cache != nil {
		return e.Cache.Context
	}
	return e.ctx
}

// ExpertStats returns the expert cache's counters (zero without a cache).
func (e *Engine) ExpertStats() tier.ExpertStats {
	if e.pool == nil {
		return tier.ExpertStats{}
	}
	return e.pool.Stats()
}

// startRequest gives the sequence in cache a new request id (for routing
// traces) and, when no other request is running, tells the expert cache's
// policy a request begins. Requests that overlap (a batch, the server's
// continuous batching) share one bracket: the activation-aware policies
// then learn from their union, which is what the shared cache serves.
func (e *Engine) startRequest(cache *kv.Cache) {
	if e.slotReq == nil {
		e.slotReq = map[*kv.Cache]int{}
	}
	e.slotReq[cache] = e.nextReq
	e.nextReq++
	if e.active == 0 && e.pool != nil {
		e.pool.BeginRequest()
	}
	e.active++
}

// endRequest closes what startRequest opened.
func (e *Engine) endRequest() {
	e.active--
	if e.active == 0 && e.pool != nil {
		e.pool.EndRequest()
	}
}

// TraceRouting records every MoE routing decision (and speculative guess)
// from now on to w as a routing trace (package trace); call the returned
// function to flush it when done.
func (e *Engine) TraceRouting(w io.Writer) (flush func() error, err error) {
	name, _ := e.File.String("general.name")
	if name == "" {
		name = e.Path
	}
	r, err := newRecorder(w, e.Model, name)
	if err != nil {
		return nil, err
	}
	obs := routers{r}
	if e.pool != nil {
		obs = routers{e.pool, r}
	}
	e.Model.Routing = obs
	e.Model.Speculate = true // record the speculative guess too
	e.rec = r
	return r.Close, nil
}
