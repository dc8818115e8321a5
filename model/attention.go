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
	prefetchKV(l, seqs)
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

// prefetchKV has the caller bring into its cache, as it finishes its share
// of the query, key and value product, the keys and values that layer l's
// attention of seqs will write and read (kernels.WillRead): the lines have
// gone cold since the last token, and a short context's few dozen
// kilobytes would otherwise be waited for a line or two at a time.
func prefetchKV(l int, seqs []Seq) {
	for _, sq := range seqs {
		c := sq.Cache
		keys, values := c.Span(l, sq.Pos+len(sq.Tokens))
		kernels.WillRead(keys)
		kernels.WillRead(values)
		// Where the new keys and values go: the regions above are
		// prefetched only as far as their first 32 KiB.
		if k := sq.Pos / kv.Block * kv.Block * c.Dim; k > 0 {
			kernels.WillRead(keys[k:])
		}
		if v := sq.Pos * c.Dim; v > 0 {
			kernels.WillRead(values[v:])
		}
	}
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
		q: q, att: att, keys: cache.KeyBlocks(l), values: cache.Values(l, pos+n),
		heads: m.Heads, group: m.Heads / m.KVHeads, qdim: qdim, kvdim: kvdim, hd: hd, pos: pos,
		scale: float32(1 / math.Sqrt(float64(hd))),
	}
	// One unit of work is one (token, head) pair, or one (token, KV head)
	// pair when the query heads that share a KV head are scored together
	// (each block of keys then read once for all of them); split them
	// across the cores (the kernels' worker pool) when there is enough
	// work to pay for a dispatch.
	w.grouped = groupedScores(w.group)
	units := n * m.Heads
	if w.grouped {
		units = n * m.KVHeads
	}
	if len(s.scoresW) <= 1 || n*m.Heads*(pos+n)*hd < 1<<15 {
		for u := 0; u < units; u++ {
			w.unit(u, s.scores)
		}
		return
	}
	kernels.ParallelFor(units, s.attnUnit)
}

// unit computes unit u, one head or one group of heads.
func (w *attnWork) unit(u int, scratch []float32) {
	if w.grouped {
		w.kvHead(u, scratch)
	} else {
		w.head(u, scratch)
	}
}

// groupedScores reports whether a group of g query heads is scored
// together (kernels.GroupedScores); tests turn it off to compare.
var groupedScores = kernels.GroupedScores

// attnWork is the attention of one sequence at one layer, shared by the
// goroutines that split its (token, head) pairs.
type attnWork struct {
	q, att []float32
	// keys are in kv.Cache's blocks of kv.Block positions; values one
	// position after another.
	keys, values                  []uint16
	heads, group, qdim, kvdim, hd int
	pos                           int
	scale                         float32
	grouped                       bool // units are (token, KV head) pairs
}

// head computes unit u (token u/heads, head u%heads): softmax(q k / sqrt(d)) v
// over the positions the token may see, using scores as scratch.
func (w *attnWork) head(u int, scores []float32) {
	i, h := u/w.heads, u%w.heads
	seen := w.pos + i + 1 // causal: token i attends to positions [0, pos+i]
	qh := w.q[i*w.qdim+h*w.hd : i*w.qdim+(h+1)*w.hd]
	kvh := (h / w.group) * w.hd
	scores = scores[:seen]
	kernels.DotsF16T(scores, qh, w.keys[kvh*kv.Block:], w.kvdim*kv.Block)
	kernels.SoftmaxF16Rows(scores, 1, w.scale)
	out := w.att[i*w.qdim+h*w.hd : i*w.qdim+(h+1)*w.hd]
	clear(out)
	kernels.AxpysF16(out, scores, w.values[kvh:], w.kvdim)
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
	g, hd := w.group, w.hd
	qs := w.q[i*w.qdim+kh*g*hd : i*w.qdim+(kh+1)*g*hd]
	scores := scratch[:g*seen]
	kernels.DotsF16TGroup(scores, seen, qs, g, w.keys[kh*hd*kv.Block:], w.kvdim*kv.Block)
	kernels.SoftmaxF16Rows(scores, g, w.scale)
	out := w.att[i*w.qdim+kh*g*hd : i*w.qdim+(kh+1)*g*hd]
	clear(out)
	kernels.AxpysF16Group(out, scores, seen, g, w.values[kh*hd:], w.kvdim)
}
