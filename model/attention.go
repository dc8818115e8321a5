package model

import (
	"math"

	"ferry/kernels"
	"ferry/kv"
)

// forward computes softmax(Q K^T / sqrt(d)) V over the cached positions for
// each head, leaving the projected result in m.s.o.
func (a *Attention) forward(m *Transformer, l int, xn []float32, n int, seqs []Seq) {
	s := &m.s
	qdim, kvdim := m.Heads*m.HeadDim, m.KVDim()
	q, k, v := s.q[:n*qdim], s.k[:n*kvdim], s.v[:n*kvdim]
	prefetchKV(m, l, seqs)
	forwardShared(m, xn, n, []*Linear{&a.Q, &a.K, &a.V}, [][]float32{q, k, v})
	at := 0
	for _, sq := range seqs {
		c := len(sq.Tokens)
		a.attend(m, l, q[at*qdim:(at+c)*qdim], k[at*kvdim:(at+c)*kvdim], v[at*kvdim:(at+c)*kvdim], s.att[at*qdim:(at+c)*qdim], sq)
		at += c
	}
	if f := m.Layers[l].FFN; f != nil {
		willMultiply(m, n, &f.Gate, &f.Up)
	}
	kernels.WillRead(m.Layers[l].FFNNorm)
	a.Out.Forward(m, s.o[:n*m.Dim], s.att[:n*qdim], n)
}

// prefetchKV has the cores bring into their caches, as they finish their
// shares of the query, key and value product, the keys and values that
// layer l's attention of seqs will write and read (kernels.WillReadFor):
// the lines have gone cold since the last token, and a short context's few
// dozen kilobytes would otherwise be waited for a line or two at a time.
// For a single new token each core fetches the heads its lane of the
// attention's units will take (attnLanes), else the caller fetches them
// all.
func prefetchKV(m *Transformer, l int, seqs []Seq) {
	for _, sq := range seqs {
		c := sq.Cache
		n := len(sq.Tokens)
		units, parts := c.Heads, 1
		if m.splitsHeads(n) {
			parts = m.attnLanes(units, n, sq.Pos)
		}
		for p := range parts {
			h0, h1 := p*units/parts, (p+1)*units/parts
			keys, kw, ks := c.KeyRuns(l, h0, h1, sq.Pos+n)
			values, vw, vs := c.ValueRuns(l, h0, h1, sq.Pos+n)
			kernels.WillReadFor(p, keys, kw, ks)
			kernels.WillReadFor(p, values, vw, vs)
			// Where the new keys and values go, when past the first
			// 32 KiB of each head's, which is all that is prefetched.
			if k := sq.Pos / kv.Block * kv.Block * c.HeadDim; k*2 >= 32<<10 {
				kernels.WillReadFor(p, keys[k:], kw-k, ks)
			}
			if v := sq.Pos * c.HeadDim; v*2 >= 32<<10 {
				kernels.WillReadFor(p, values[v:], vw-v, vs)
			}
		}
	}
}

// splitsHeads reports whether the attention of n new tokens is split into
// units that each prepare their own heads (attnWork.prepare): one token,
// with one unit per KV head.
func (m *Transformer) splitsHeads(n int) bool {
	return n == 1 && (m.Heads == m.KVHeads || scoredGroup(m.Heads/m.KVHeads) > 0)
}

// attnLanes returns how many cores share the attention of n new tokens at
// position pos, split into units: kernels.ParallelFor's lanes, or 1 when
// the work is too little to pay for a dispatch.
func (m *Transformer) attnLanes(units, n, pos int) int {
	if len(m.s.scoresW) <= 1 || n*m.Heads*(pos+n)*m.HeadDim < 1<<15 {
		return 1
	}
	return min(kernels.Participants(), units)
}

// attend applies RoPE to one sequence's new queries and keys, stores its keys
// and values in its cache, and computes causal attention into att.
func (a *Attention) attend(m *Transformer, l int, q, k, v, att []float32, sq Seq) {
	s := &m.s
	qdim, kvdim, hd := m.Heads*m.HeadDim, m.KVDim(), m.HeadDim
	n, pos, cache := len(sq.Tokens), sq.Pos, sq.Cache
	w := &s.attn
	*w = attnWork{
		q: q, att: att, cache: cache, layer: l,
		heads: m.Heads, group: m.Heads / m.KVHeads, qdim: qdim, kvdim: kvdim, hd: hd, pos: pos,
		scale: float32(1 / math.Sqrt(float64(hd))),
	}
	// One unit of work is one (token, head) pair, or one (token, KV head)
	// pair when the query heads that share a KV head are scored together
	// (each block of keys then read once for all of them); split them
	// across the cores (the kernels' worker pool) when there is enough
	// work to pay for a dispatch.
	w.padded = scoredGroup(w.group)
	w.grouped = w.padded > 0
	units := n * m.Heads
	if w.grouped {
		units = n * m.KVHeads
	}
	if m.splitsHeads(n) {
		// Each unit rotates, rounds and stores its own heads' share of
		// the token (prepare): the work is split, and each core writes
		// the cache lines it then reads, which it fetched (prefetchKV).
		m.rope.At(pos)
		w.rope, w.k, w.v = m.rope, k, v
	} else {
		for i := 0; i < n; i++ {
			m.rope.Apply(q[i*qdim:(i+1)*qdim], hd, pos+i)
			m.rope.Apply(k[i*kvdim:(i+1)*kvdim], hd, pos+i)
		}
		cache.Store(l, pos, k, v)
		// As llama.cpp does with an F16 cache: the queries and the
		// attention probabilities meet the cached halves as halves.
		roundF16(q)
	}
	if m.attnLanes(units, n, pos) == 1 {
		for u := 0; u < units; u++ {
			w.unit(u, s.scores)
		}
		return
	}
	kernels.ParallelFor(units, s.attnUnit)
}

// unit computes unit u, one head or one group of heads.
func (w *attnWork) unit(u int, scratch []float32) {
	if w.rope != nil {
		w.prepare(u)
	}
	if w.grouped {
		w.kvHead(u, scratch)
	} else {
		w.head(u, scratch)
	}
}

// groupedScores reports whether a group of g query heads is scored
// together (kernels.GroupedScores); tests turn it off to compare.
var groupedScores = kernels.GroupedScores

// scoredGroup returns how many query heads the grouped loops take for a
// group of g that share a KV head: g where they take g, or else the next
// size they take (4 or 8) when g is at least half of it and at most three
// short, the heads past g zero queries whose sums are dropped; 0 where
// neither holds, and the heads are scored one by one. One pass over the
// keys and values for the group beats g passes even so: decode of a small
// F16 model at 1000 positions, where attention is most of the work, was
// 12% faster for groups of 2 scored as 4, 7% for 3, 8% for 5 as 8, 17%
// for 6 and 14% for 7 (Qwen2's groups are 7 and 6).
func scoredGroup(g int) int {
	for _, G := range [...]int{g, 4, 8} {
		if G >= g && G-g <= 3 && 2*g >= G && groupedScores(G) {
			return G
		}
	}
	return 0
}

// attnWork is the attention of one sequence at one layer, shared by the
// goroutines that split its (token, head) pairs.
type attnWork struct {
	q, att                        []float32
	cache                         *kv.Cache
	layer                         int
	heads, group, qdim, kvdim, hd int
	pos                           int
	scale                         float32
	grouped                       bool // units are (token, KV head) pairs
	padded                        int  // the heads a group is scored as (scoredGroup)
	// rope, when set, has each unit prepare its share of the single new
	// token: its queries, and the key and value of k and v it stores.
	rope *Rope
	k, v []float32
}

// prepare rotates and rounds unit u's query heads (a group of them, or one
// when KV heads are not shared) and rotates and stores its KV head's key
// and value, for the single new token.
func (w *attnWork) prepare(u int) {
	g, hd := w.group, w.hd
	qs := w.q[u*g*hd : (u+1)*g*hd]
	w.rope.Rotate(qs, hd)
	// As llama.cpp does with an F16 cache: the queries and the attention
	// probabilities meet the cached halves as halves.
	roundF16(qs)
	k := w.k[u*hd : (u+1)*hd]
	w.rope.Rotate(k, hd)
	w.cache.StoreHead(w.layer, w.pos, u, k, w.v[u*hd:(u+1)*hd])
}

// head computes unit u (token u/heads, head u%heads): softmax(q k / sqrt(d)) v
// over the positions the token may see, using scores as scratch.
func (w *attnWork) head(u int, scores []float32) {
	i, h := u/w.heads, u%w.heads
	seen := w.pos + i + 1 // causal: token i attends to positions [0, pos+i]
	qh := w.q[i*w.qdim+h*w.hd : i*w.qdim+(h+1)*w.hd]
	kvh := h / w.group
	scores = scores[:seen]
	kernels.DotsF16T(scores, qh, w.cache.HeadKeys(w.layer, kvh, seen), w.hd*kv.Block)
	kernels.SoftmaxF16Rows(scores, 1, w.scale)
	out := w.att[i*w.qdim+h*w.hd : i*w.qdim+(h+1)*w.hd]
	clear(out)
	kernels.AxpysF16(out, scores, w.cache.HeadValues(w.layer, kvh, seen), w.hd)
}

// kvHead computes unit u (token u/kvHeads, KV head u%kvHeads): the
// attention of the group of query heads that share the KV head, their
// scores in one pass over the keys (kernels.DotsF16TGroup) and their sums
// of values in one pass over the values (kernels.AxpysF16Group), using
// scratch for the group's scores.
func (w *attnWork) kvHead(u int, scratch []float32) {
	kvHeads := w.heads / w.group
	i, kh := u/kvHeads, u%kvHeads
	seen := w.pos + i + 1 // causal: token i attends to positions [0, pos+i]
	g, hd, G := w.group, w.hd, w.padded
	qs := w.q[i*w.qdim+kh*g*hd : i*w.qdim+(kh+1)*g*hd]
	out := w.att[i*w.qdim+kh*g*hd : i*w.qdim+(kh+1)*g*hd]
	qg, og := qs, out
	if G > g {
		// The heads past g: zero queries, so zero scores, which the
		// softmax leaves alone (it takes g rows) and which add nothing.
		qg, og = scratch[len(scratch)-2*G*hd:len(scratch)-G*hd], scratch[len(scratch)-G*hd:]
		copy(qg, qs)
		clear(qg[g*hd:])
	}
	scores := scratch[:G*seen]
	kernels.DotsF16TGroup(scores, seen, qg, G, w.cache.HeadKeys(w.layer, kh, seen), hd*kv.Block)
	kernels.SoftmaxF16Rows(scores[:g*seen], g, w.scale)
	clear(og)
	kernels.AxpysF16Group(og, scores, seen, G, w.cache.HeadValues(w.layer, kh, seen), hd)
	if G > g {
		copy(out, og[:g*hd])
	}
}
