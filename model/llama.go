// Package model holds the architectures ferry runs, written as plain structs
// of layers whose Forward methods read like the papers. A model asks the tier
// for each weight it touches and knows nothing of files or disks.
//
// One Transformer type covers the llama family: llama (with GQA, rope_freqs,
// linear rope scaling and tied output), Mixtral-style MoE inside llama, qwen2
// (Q/K/V biases, NeoX rope) and qwen2moe (routed experts plus a sigmoid-gated
// shared expert).
package model

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"ferry/dtype"
	"ferry/kernels"
	"ferry/kv"
	"ferry/tier"
)

// Transformer is a decoder-only transformer of the llama family.
type Transformer struct {
	Config
	Embed      *tier.Tensor // token embeddings, one row per token
	Layers     []*Layer
	OutputNorm []float32
	Output     *Linear // the LM head; shares Embed's tensor when the model ties them
	rope       *Rope

	// ExpertCache, when set, serves MoE experts from a cache instead of the
	// tier's schedule. Speculate makes each MoE layer's router also run on
	// the previous layer's output, and reports that guess to Routing (the
	// cache prefetches from it: Mixtral-offloading's speculative gate).
	ExpertCache ExpertSource
	Speculate   bool
	// Routing, when set, is told every routing decision and guess.
	Routing RoutingObserver

	s   scratch
	one [1]Seq
}

// Layer is one transformer block: pre-norm attention, then a pre-norm
// feed-forward (dense or mixture of experts), each with a residual connection.
type Layer struct {
	AttnNorm []float32
	Attn     Attention
	FFNNorm  []float32
	FFN      *FeedForward // dense layers
	MoE      *MoE         // mixture-of-experts layers
}

// Attention is grouped-query self-attention with rotary position embeddings.
type Attention struct {
	Q, K, V, Out Linear
}

// FeedForward is the SwiGLU MLP: Down(silu(Gate x) * Up x).
type FeedForward struct {
	Gate, Up, Down Linear
}

// ExpertSource hands out MoE experts one at a time: an expert cache.
type ExpertSource interface {
	// Fetch announces the experts of layer a batch will use, with each
	// one's largest router weight, and returns the order to run them in
	// (resident first, so misses read meanwhile).
	Fetch(layer int, experts []int, weights []float32) []int
	// Acquire returns expert e's gate, up and down matrices and their types.
	Acquire(layer, e int) (mats [3][]byte, types [3]dtype.Type)
	// Release gives back an acquired expert.
	Release(layer, e int)
}

// RoutingObserver is told every MoE routing decision: the expert cache's
// policy learns from it, and routing traces record it.
type RoutingObserver interface {
	// Route reports the experts a layer chose for n tokens, k per token,
	// best first, with their gate weights.
	Route(layer, n int, experts []int, weights []float32)
	// Guess reports the speculative guess for a layer, k per token: the
	// experts its router picks from the previous layer's output.
	Guess(layer, n int, experts []int)
}

// MoE is a mixture-of-experts feed-forward: a router picks the top experts
// for each token and their SwiGLU outputs are summed, weighted by the router.
// Shared, when present, is an always-on expert scaled by sigmoid(SharedGate x).
type MoE struct {
	Router         Linear
	Gate, Up, Down Experts
	Shared         *FeedForward
	SharedGate     *Linear
}

// scratch holds the activations of one forward pass, sized for a batch.
type scratch struct {
	batch                  int
	x, xn, q, k, v, att, o []float32
	gate, up               []float32
	scores                 []float32
	router                 []float32
	moeIn, moeGate, moeUp  []float32
	moeOut, moeAcc         []float32
	moeIdx, moeOrder       []int
	moeCount, moeFill      []int
	moeWeights             []float32
	moeUsed, specWant      []int
	moeTop                 []float32
	specIdx                []int
	specIn, specW          []float32
	logits                 []float32
	tmp                    []float32
	scoresW                [][]float32 // per-worker attention scores
	attn                   attnWork
}

// spanTmp returns scratch for n floats, growing it on first need only.
func (s *scratch) spanTmp(n int) []float32 {
	if len(s.tmp) < n {
		s.tmp = make([]float32, n)
	}
	return s.tmp[:n]
}

// scratchLayout gives the length of each activation buffer for a batch of
// n tokens and a context of ctx; ensureScratch allocates it and
// ScratchBytes sums it, so the two cannot disagree.
func (m *Transformer) scratchLayout(n, ctx int) (floats map[string]int, ints map[string]int) {
	ffn := max(m.FFN, m.ExpertFFN, m.SharedFFN)
	qdim := m.Heads * m.HeadDim
	ek := 0 // expert slots per token
	if m.Experts > 0 {
		ek = m.ExpertsUsed
	}
	floats = map[string]int{
		"x": n * m.Dim, "xn": n * m.Dim, "q": n * qdim, "k": n * m.KVDim(), "v": n * m.KVDim(),
		"att": n * qdim, "o": n * m.Dim, "gate": n * ffn, "up": n * ffn, "scores": ctx,
		"router": n * max(m.Experts, 1), "moeIn": n * ek * m.Dim, "moeGate": n * ek * ffn,
		"moeUp": n * ek * ffn, "moeOut": n * ek * m.Dim, "moeAcc": n * m.Dim,
		"moeWeights": n * max(ek, 1), "logits": n * m.Vocab,
		"specIn": n * m.Dim, "specW": n * max(ek, 1),
	}
	ints = map[string]int{"moeIdx": n * max(ek, 1), "moeOrder": n * max(ek, 1), "moeCount": m.Experts + 1, "moeFill": m.Experts,
		"moeUsed": m.Experts, "specWant": m.Experts, "specIdx": n * max(ek, 1)}
	return floats, ints
}

// attentionWorkers is the most goroutines attention is split across.
const attentionWorkers = 4

func scoresPerWorker(ctx int) [][]float32 {
	w := make([][]float32, min(runtime.GOMAXPROCS(0), attentionWorkers))
	for i := range w {
		w[i] = make([]float32, ctx)
	}
	return w
}

// ScratchBytes returns the activation memory a forward pass of n tokens
// over a context of ctx allocates, plus the staging of partial spans (at most
// spanRows rows per input).
func (m *Transformer) ScratchBytes(n, ctx, spanRows int) int64 {
	f, i := m.scratchLayout(n, ctx)
	var b int64
	for _, v := range f {
		b += 4 * int64(v)
	}
	for _, v := range i {
		b += 8 * int64(v)
	}
	return b + 4*int64(n)*int64(spanRows) + 4*int64(ctx)*attentionWorkers
}

func (m *Transformer) ensureScratch(n, ctx int) {
	s := &m.s
	if s.batch >= n && len(s.scores) >= ctx {
		return
	}
	f, i := m.scratchLayout(max(n, s.batch), max(ctx, len(s.scores)))
	*s = scratch{
		batch: max(n, s.batch), x: make([]float32, f["x"]), xn: make([]float32, f["xn"]),
		q: make([]float32, f["q"]), k: make([]float32, f["k"]), v: make([]float32, f["v"]),
		att: make([]float32, f["att"]), o: make([]float32, f["o"]), gate: make([]float32, f["gate"]),
		up: make([]float32, f["up"]), scores: make([]float32, f["scores"]), router: make([]float32, f["router"]),
		moeIn: make([]float32, f["moeIn"]), moeGate: make([]float32, f["moeGate"]), moeUp: make([]float32, f["moeUp"]),
		moeOut: make([]float32, f["moeOut"]), moeAcc: make([]float32, f["moeAcc"]),
		moeWeights: make([]float32, f["moeWeights"]), logits: make([]float32, f["logits"]),
		moeIdx: make([]int, i["moeIdx"]), moeOrder: make([]int, i["moeOrder"]),
		moeCount: make([]int, i["moeCount"]), moeFill: make([]int, i["moeFill"]), tmp: s.tmp,
		moeUsed: make([]int, 0, i["moeUsed"]), moeTop: make([]float32, 0, i["moeUsed"]), specWant: make([]int, 0, i["specWant"]), specIdx: make([]int, i["specIdx"]),
		specIn: make([]float32, f["specIn"]), specW: make([]float32, f["specW"]),
		scoresW: scoresPerWorker(f["scores"]),
	}
}

// Seq is one sequence's share of a batched forward pass: its new tokens,
// the position of the first, its KV cache, and whether the logits of every
// token are wanted (else only the last token's).
type Seq struct {
	Tokens []int32
	Pos    int
	Cache  *kv.Cache
	All    bool
}

// Forward runs tokens, at positions pos, pos+1, ..., through the model,
// storing their keys and values in cache. It returns the logits of every
// token when all is true, else of the last token only; the slice is reused
// by the next call.
func (m *Transformer) Forward(tokens []int32, pos int, cache *kv.Cache, all bool) ([]float32, error) {
	m.one[0] = Seq{Tokens: tokens, Pos: pos, Cache: cache, All: all}
	return m.ForwardBatch(m.one[:])
}

// ForwardBatch runs several sequences through the model in one pass: every
// weight is read once for all their tokens (FlexGen's throughput mode and the
// server's continuous batching). It returns the wanted logits of each
// sequence in order, concatenated; the slice is reused by the next call.
func (m *Transformer) ForwardBatch(seqs []Seq) ([]float32, error) {
	n, ctx, rows := 0, 0, 0
	for _, sq := range seqs {
		if len(sq.Tokens) == 0 {
			return nil, fmt.Errorf("model: a sequence has no tokens")
		}
		if sq.Pos < 0 || sq.Pos+len(sq.Tokens) > sq.Cache.Context {
			return nil, fmt.Errorf("model: %d tokens at position %d exceed the context of %d", len(sq.Tokens), sq.Pos, sq.Cache.Context)
		}
		for _, t := range sq.Tokens {
			if t < 0 || int(t) >= m.Vocab {
				return nil, fmt.Errorf("model: token id %d outside the vocabulary of %d", t, m.Vocab)
			}
		}
		n += len(sq.Tokens)
		ctx = max(ctx, sq.Cache.Context)
		if sq.All {
			rows += len(sq.Tokens)
		} else {
			rows++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("model: no tokens")
	}
	m.ensureScratch(n, ctx)
	s := &m.s
	x := s.x[:n*m.Dim]
	at := 0
	for _, sq := range seqs {
		if err := m.embed(x[at*m.Dim:], sq.Tokens); err != nil {
			return nil, err
		}
		at += len(sq.Tokens)
	}
	for l, layer := range m.Layers {
		layer.forward(m, l, x, n, seqs)
	}
	for _, sq := range seqs {
		if err := sq.Cache.SetLen(sq.Pos + len(sq.Tokens)); err != nil {
			return nil, err
		}
	}
	// Gather the rows whose logits are wanted, then the final norm and head.
	xn := s.xn[:rows*m.Dim]
	at, r := 0, 0
	for _, sq := range seqs {
		first := at
		if !sq.All {
			first = at + len(sq.Tokens) - 1
		}
		for i := first; i < at+len(sq.Tokens); i++ {
			rmsNorm(xn[r*m.Dim:(r+1)*m.Dim], x[i*m.Dim:(i+1)*m.Dim], m.OutputNorm, m.NormEps)
			r++
		}
		at += len(sq.Tokens)
	}
	logits := s.logits[:rows*m.Vocab]
	m.Output.Forward(m, logits, xn, rows)
	return logits, nil
}

// embed looks up each token's row of the embedding table.
func (m *Transformer) embed(x []float32, tokens []int32) error {
	for i, t := range tokens {
		row, err := m.Embed.Row(int(t))
		if err != nil {
			return err
		}
		kernels.Dequantize(x[i*m.Dim:(i+1)*m.Dim], row, m.Embed.Type)
	}
	return nil
}

func (layer *Layer) forward(m *Transformer, l int, x []float32, n int, seqs []Seq) {
	s := &m.s
	xn := s.xn[:n*m.Dim]

	rmsNorm(xn, x, layer.AttnNorm, m.NormEps)
	layer.Attn.forward(m, l, xn, n, seqs)
	addTo(x, s.o[:n*m.Dim])

	rmsNorm(xn, x, layer.FFNNorm, m.NormEps)
	out := s.o[:n*m.Dim]
	if layer.MoE != nil {
		layer.MoE.forward(m, l, out, xn, n)
	} else {
		layer.FFN.forward(m, out, xn, n)
	}
	addTo(x, out)
	if m.Speculate && m.Routing != nil && l+1 < len(m.Layers) && m.Layers[l+1].MoE != nil {
		m.speculate(l+1, x, n)
	}
}

// speculate guesses the experts layer l will pick by applying its router to
// the hidden state as it leaves layer l-1, and reports the guess.
func (m *Transformer) speculate(l int, x []float32, n int) {
	s := &m.s
	next := m.Layers[l]
	xn := s.specIn[:n*m.Dim]
	rmsNorm(xn, x, next.FFNNorm, m.NormEps)
	k := m.ExpertsUsed
	idx, w := s.specIdx[:n*k], s.specW[:n*k]
	next.MoE.route(m, xn, n, idx, w)
	m.Routing.Guess(l, n, idx)
}

// forward computes softmax(Q K^T / sqrt(d)) V over the cached positions for
// each head, leaving the projected result in m.s.o.
func (a *Attention) forward(m *Transformer, l int, xn []float32, n int, seqs []Seq) {
	s := &m.s
	qdim, kvdim := m.Heads*m.HeadDim, m.KVDim()
	q, k, v := s.q[:n*qdim], s.k[:n*kvdim], s.v[:n*kvdim]
	a.Q.Forward(m, q, xn, n)
	a.K.Forward(m, k, xn, n)
	a.V.Forward(m, v, xn, n)
	at := 0
	for _, sq := range seqs {
		c := len(sq.Tokens)
		a.attend(m, l, q[at*qdim:(at+c)*qdim], k[at*kvdim:(at+c)*kvdim], v[at*kvdim:(at+c)*kvdim], s.att[at*qdim:(at+c)*qdim], sq)
		at += c
	}
	a.Out.Forward(m, s.o[:n*m.Dim], s.att[:n*qdim], n)
}

// attend applies RoPE to one sequence's new queries and keys, stores its keys
// and values in its cache, and computes causal attention into att.
func (a *Attention) attend(m *Transformer, l int, q, k, v, att []float32, sq Seq) {
	s := &m.s
	qdim, kvdim, hd := m.Heads*m.HeadDim, m.KVDim(), m.HeadDim
	n, pos, cache := len(sq.Tokens), sq.Pos, sq.Cache
	for i := 0; i < n; i++ {
		m.rope.Apply(q[i*qdim:(i+1)*qdim], hd, pos+i)
		m.rope.Apply(k[i*kvdim:(i+1)*kvdim], hd, pos+i)
	}
	cache.Store(l, pos, k, v)
	// As llama.cpp does with an F16 cache: the queries and the attention
	// probabilities meet the cached halves as halves.
	roundF16(q)

	w := &s.attn
	*w = attnWork{
		q: q, att: att, keys: cache.Keys(l, pos+n), values: cache.Values(l, pos+n),
		heads: m.Heads, group: m.Heads / m.KVHeads, qdim: qdim, kvdim: kvdim, hd: hd, pos: pos,
		scale: float32(1 / math.Sqrt(float64(hd))),
	}
	// One unit of work is one (token, head) pair; split them across the
	// cores when there is enough work to pay for it (long prompts).
	units := n * m.Heads
	workers := min(runtime.GOMAXPROCS(0), len(s.scoresW))
	if workers <= 1 || units*(pos+n)*hd < 1<<18 {
		for u := 0; u < units; u++ {
			w.head(u, s.scores)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func(scores []float32) {
			defer wg.Done()
			for {
				u := int(next.Add(1)) - 1
				if u >= units {
					return
				}
				w.head(u, scores)
			}
		}(s.scoresW[k])
	}
	wg.Wait()
}

// attnWork is the attention of one sequence at one layer, shared by the
// goroutines that split its (token, head) pairs.
type attnWork struct {
	q, att                        []float32
	keys, values                  []uint16
	heads, group, qdim, kvdim, hd int
	pos                           int
	scale                         float32
}

// head computes unit u (token u/heads, head u%heads): softmax(q k / sqrt(d)) v
// over the positions the token may see, using scores as scratch.
func (w *attnWork) head(u int, scores []float32) {
	i, h := u/w.heads, u%w.heads
	seen := w.pos + i + 1 // causal: token i attends to positions [0, pos+i]
	qh := w.q[i*w.qdim+h*w.hd : i*w.qdim+(h+1)*w.hd]
	kvh := (h / w.group) * w.hd
	scores = scores[:seen]
	for j := range scores {
		scores[j] = kernels.DotF16(qh, w.keys[j*w.kvdim+kvh:j*w.kvdim+kvh+w.hd]) * w.scale
	}
	softmax(scores)
	roundF16(scores)
	out := w.att[i*w.qdim+h*w.hd : i*w.qdim+(h+1)*w.hd]
	clear(out)
	for j, p := range scores {
		kernels.AxpyF16(out, p, w.values[j*w.kvdim+kvh:j*w.kvdim+kvh+w.hd])
	}
}

// forward computes Down(silu(Gate x) * Up x) into out.
func (f *FeedForward) forward(m *Transformer, out, xn []float32, n int) {
	s := &m.s
	hidden := f.Gate.Out()
	gate, up := s.gate[:n*hidden], s.up[:n*hidden]
	f.Gate.Forward(m, gate, xn, n)
	f.Up.Forward(m, up, xn, n)
	swiglu(gate, up)
	f.Down.Forward(m, out, gate, n)
}

// route picks each token's top experts from the router logits and returns
// their indices and weights, ExpertsUsed per token.
func (e *MoE) route(m *Transformer, xn []float32, n int, idx []int, w []float32) {
	probs := m.s.router[:n*m.Experts]
	e.Router.Forward(m, probs, xn, n)
	k := m.ExpertsUsed
	for i := 0; i < n; i++ {
		p := probs[i*m.Experts : (i+1)*m.Experts]
		softmax(p)
		sel := idx[i*k : (i+1)*k]
		topK(p, sel)
		var sum float32
		for j, ex := range sel {
			w[i*k+j] = p[ex]
			sum += p[ex]
		}
		if m.NormTopK {
			for j := range sel {
				w[i*k+j] /= sum
			}
		}
	}
}

// topK fills sel with the indices of the len(sel) largest values of p,
// largest first; ties go to the lower index.
func topK(p []float32, sel []int) {
	for j := range sel {
		best := -1
		for e, v := range p {
			taken := false
			for _, s := range sel[:j] {
				if s == e {
					taken = true
					break
				}
			}
			if !taken && (best < 0 || v > p[best]) {
				best = e
			}
		}
		sel[j] = best
	}
}

// forward routes each token to its experts, runs every selected expert on the
// tokens that chose it, and sums the weighted outputs (plus the shared
// expert). Experts run in ascending order, one projection at a time (all
// gates, all ups, all downs), the order the schedule streams them in.
func (e *MoE) forward(m *Transformer, l int, out, xn []float32, n int) {
	s := &m.s
	k := m.ExpertsUsed
	idx, weights := s.moeIdx[:n*k], s.moeWeights[:n*k]
	e.route(m, xn, n, idx, weights)
	if m.Routing != nil {
		m.Routing.Route(l, n, idx, weights)
	}

	// Order the (token, choice) slots by expert: a counting sort.
	count := s.moeCount[:m.Experts+1]
	clear(count)
	for _, ex := range idx {
		count[ex+1]++
	}
	for ex := 1; ex <= m.Experts; ex++ {
		count[ex] += count[ex-1]
	}
	order := s.moeOrder[:n*k]
	fill := s.moeFill[:m.Experts]
	copy(fill, count[:m.Experts])
	for slot, ex := range idx {
		order[fill[ex]] = slot
		fill[ex]++
	}
	in := s.moeIn[:n*k*m.Dim]
	for r, slot := range order {
		tok := slot / k
		copy(in[r*m.Dim:(r+1)*m.Dim], xn[tok*m.Dim:(tok+1)*m.Dim])
	}
	hidden := e.Gate.Out()
	gate, up := s.moeGate[:n*k*hidden], s.moeUp[:n*k*hidden]
	res := s.moeOut[:n*k*m.Dim]
	if m.ExpertCache != nil {
		e.runCached(m, l, count, order, weights, in, gate, up, res)
	} else {
		e.runScheduled(m, count, in, gate, up, res)
	}
	clear(out)
	for r, slot := range order {
		tok := slot / k
		axpy(out[tok*m.Dim:(tok+1)*m.Dim], weights[slot], res[r*m.Dim:(r+1)*m.Dim])
	}
	if e.Shared != nil {
		acc := s.moeAcc[:n*m.Dim]
		e.Shared.forward(m, acc, xn, n)
		g := s.router[:n]
		e.SharedGate.Forward(m, g, xn, n)
		for i := 0; i < n; i++ {
			axpy(out[i*m.Dim:(i+1)*m.Dim], sigmoid(g[i]), acc[i*m.Dim:(i+1)*m.Dim])
		}
	}
}

// runScheduled runs the selected experts through the tier's schedule: all
// gates, all ups, all downs, experts in ascending order. count holds the
// expert boundaries of the rows of in (a prefix sum).
func (e *MoE) runScheduled(m *Transformer, count []int, in, gate, up, res []float32) {
	hidden := e.Gate.Out()
	for ex := 0; ex < m.Config.Experts; ex++ {
		if r0, cnt := count[ex], count[ex+1]-count[ex]; cnt > 0 {
			e.Gate.Forward(m, ex, gate[r0*hidden:(r0+cnt)*hidden], in[r0*m.Dim:(r0+cnt)*m.Dim], cnt)
		}
	}
	for ex := 0; ex < m.Config.Experts; ex++ {
		if r0, cnt := count[ex], count[ex+1]-count[ex]; cnt > 0 {
			e.Up.Forward(m, ex, up[r0*hidden:(r0+cnt)*hidden], in[r0*m.Dim:(r0+cnt)*m.Dim], cnt)
		}
	}
	swiglu(gate, up)
	for ex := 0; ex < m.Config.Experts; ex++ {
		if r0, cnt := count[ex], count[ex+1]-count[ex]; cnt > 0 {
			e.Down.Forward(m, ex, res[r0*m.Dim:(r0+cnt)*m.Dim], gate[r0*hidden:(r0+cnt)*hidden], cnt)
		}
	}
}

// runCached runs the selected experts from the expert cache, resident ones
// first so that the misses read from disk while they compute.
func (e *MoE) runCached(m *Transformer, l int, count []int, order []int, weights []float32, in, gate, up, res []float32) {
	s := &m.s
	hidden := e.Gate.Out()
	used, top := s.moeUsed[:0], s.moeTop[:0]
	for ex := 0; ex < m.Config.Experts; ex++ {
		if count[ex+1] > count[ex] {
			used = append(used, ex)
			var w float32
			for _, slot := range order[count[ex]:count[ex+1]] {
				w = max(w, weights[slot])
			}
			top = append(top, w)
		}
	}
	s.moeUsed, s.moeTop = used, top
	for _, ex := range m.ExpertCache.Fetch(l, used, top) {
		r0, cnt := count[ex], count[ex+1]-count[ex]
		w, types := m.ExpertCache.Acquire(l, ex)
		xs := in[r0*m.Dim : (r0+cnt)*m.Dim]
		gs, us := gate[r0*hidden:(r0+cnt)*hidden], up[r0*hidden:(r0+cnt)*hidden]
		kernels.MatMul(gs, w[0], types[0], xs, cnt)
		kernels.MatMul(us, w[1], types[1], xs, cnt)
		swiglu(gs, us)
		kernels.MatMul(res[r0*m.Dim:(r0+cnt)*m.Dim], w[2], types[2], gs, cnt)
		m.ExpertCache.Release(l, ex)
	}
}
