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

	s scratch
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
	moeWeights             []float32
	logits                 []float32
}

func (m *Transformer) ensureScratch(n, ctx int) {
	s := &m.s
	if s.batch >= n && len(s.scores) >= ctx {
		return
	}
	n = max(n, s.batch)
	ffn := max(m.FFN, m.ExpertFFN, m.SharedFFN)
	qdim := m.Heads * m.HeadDim
	*s = scratch{
		batch:      n,
		x:          make([]float32, n*m.Dim),
		xn:         make([]float32, n*m.Dim),
		q:          make([]float32, n*qdim),
		k:          make([]float32, n*m.KVDim()),
		v:          make([]float32, n*m.KVDim()),
		att:        make([]float32, n*qdim),
		o:          make([]float32, n*m.Dim),
		gate:       make([]float32, n*ffn),
		up:         make([]float32, n*ffn),
		scores:     make([]float32, max(ctx, len(s.scores))),
		router:     make([]float32, n*max(m.Experts, 1)),
		moeIn:      make([]float32, n*m.Dim),
		moeGate:    make([]float32, n*ffn),
		moeUp:      make([]float32, n*ffn),
		moeOut:     make([]float32, n*m.Dim),
		moeAcc:     make([]float32, n*m.Dim),
		moeIdx:     make([]int, n*max(m.ExpertsUsed, 1)),
		moeOrder:   make([]int, 0, n*max(m.ExpertsUsed, 1)),
		moeWeights: make([]float32, n*max(m.ExpertsUsed, 1)),
		logits:     make([]float32, n*m.Vocab),
	}
}

// Forward runs tokens, at positions pos, pos+1, ..., through the model,
// storing their keys and values in cache. It returns the logits of every
// token when all is true, else of the last token only; the slice is reused
// by the next call.
func (m *Transformer) Forward(tokens []int32, pos int, cache *kv.Cache, all bool) ([]float32, error) {
	n := len(tokens)
	if n == 0 {
		return nil, fmt.Errorf("model: no tokens")
	}
	if pos+n > cache.Context {
		return nil, fmt.Errorf("model: %d tokens at position %d exceed the context of %d", n, pos, cache.Context)
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= m.Vocab {
			return nil, fmt.Errorf("model: token id %d outside the vocabulary of %d", t, m.Vocab)
		}
	}
	m.ensureScratch(n, cache.Context)
	s := &m.s
	x := s.x[:n*m.Dim]
	m.embed(x, tokens)
	for l, layer := range m.Layers {
		layer.forward(m, l, x, n, pos, cache)
	}
	if err := cache.SetLen(pos + n); err != nil {
		return nil, err
	}
	first := 0
	if !all {
		first = n - 1
	}
	rows := n - first
	xn := s.xn[:rows*m.Dim]
	rmsNorm(xn, x[first*m.Dim:], m.OutputNorm, m.NormEps)
	logits := s.logits[:rows*m.Vocab]
	m.Output.Forward(logits, xn, rows)
	return logits, nil
}

// embed looks up each token's row of the embedding table.
func (m *Transformer) embed(x []float32, tokens []int32) {
	rb := m.Embed.RowBytes()
	data := m.Embed.Acquire()
	for i, t := range tokens {
		kernels.Dequantize(x[i*m.Dim:(i+1)*m.Dim], data[int(t)*rb:(int(t)+1)*rb], m.Embed.Type)
	}
	m.Embed.Release()
}

func (layer *Layer) forward(m *Transformer, l int, x []float32, n, pos int, cache *kv.Cache) {
	s := &m.s
	xn := s.xn[:n*m.Dim]

	rmsNorm(xn, x, layer.AttnNorm, m.NormEps)
	layer.Attn.forward(m, l, xn, n, pos, cache)
	addTo(x, s.o[:n*m.Dim])

	rmsNorm(xn, x, layer.FFNNorm, m.NormEps)
	out := s.o[:n*m.Dim]
	if layer.MoE != nil {
		layer.MoE.forward(m, out, xn, n)
	} else {
		layer.FFN.forward(m, out, xn, n)
	}
	addTo(x, out)
}

// forward computes softmax(Q K^T / sqrt(d)) V over the cached positions for
// each head, leaving the projected result in m.s.o.
func (a *Attention) forward(m *Transformer, l int, xn []float32, n, pos int, cache *kv.Cache) {
	s := &m.s
	qdim, kvdim, hd := m.Heads*m.HeadDim, m.KVDim(), m.HeadDim
	q, k, v := s.q[:n*qdim], s.k[:n*kvdim], s.v[:n*kvdim]
	a.Q.Forward(q, xn, n)
	a.K.Forward(k, xn, n)
	a.V.Forward(v, xn, n)
	for i := 0; i < n; i++ {
		m.rope.Apply(q[i*qdim:(i+1)*qdim], hd, pos+i)
		m.rope.Apply(k[i*kvdim:(i+1)*kvdim], hd, pos+i)
	}
	cache.Store(l, pos, k, v)

	keys, values := cache.Keys(l, pos+n), cache.Values(l, pos+n)
	scale := float32(1 / math.Sqrt(float64(hd)))
	group := m.Heads / m.KVHeads
	att := s.att[:n*qdim]
	for i := 0; i < n; i++ {
		seen := pos + i + 1 // causal: token i attends to positions [0, pos+i]
		for h := 0; h < m.Heads; h++ {
			qh := q[i*qdim+h*hd : i*qdim+(h+1)*hd]
			kvh := (h / group) * hd
			scores := s.scores[:seen]
			for j := range scores {
				scores[j] = dot(qh, keys[j*kvdim+kvh:j*kvdim+kvh+hd]) * scale
			}
			softmax(scores)
			out := att[i*qdim+h*hd : i*qdim+(h+1)*hd]
			clear(out)
			for j, w := range scores {
				axpy(out, w, values[j*kvdim+kvh:j*kvdim+kvh+hd])
			}
		}
	}
	a.Out.Forward(s.o[:n*m.Dim], att, n)
}

// forward computes Down(silu(Gate x) * Up x) into out.
func (f *FeedForward) forward(m *Transformer, out, xn []float32, n int) {
	s := &m.s
	hidden := f.Gate.Out()
	gate, up := s.gate[:n*hidden], s.up[:n*hidden]
	f.Gate.Forward(gate, xn, n)
	f.Up.Forward(up, xn, n)
	swiglu(gate, up)
	f.Down.Forward(out, gate, n)
}

// route picks each token's top experts from the router logits and returns
// their indices and weights, ExpertsUsed per token.
func (e *MoE) route(m *Transformer, xn []float32, n int, idx []int, w []float32) {
	probs := m.s.router[:n*m.Experts]
	e.Router.Forward(probs, xn, n)
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
// tokens that chose it, and sums the weighted outputs (plus the shared expert).
func (e *MoE) forward(m *Transformer, out, xn []float32, n int) {
	s := &m.s
	k := m.ExpertsUsed
	idx, weights := s.moeIdx[:n*k], s.moeWeights[:n*k]
	e.route(m, xn, n, idx, weights)

	acc := s.moeAcc[:n*m.Dim]
	clear(acc)
	hidden := e.Gate.Weight.Shape[1]
	order := s.moeOrder[:0]
	for ex := 0; ex < m.Experts; ex++ {
		// Gather the tokens routed to this expert.
		order = order[:0]
		for i := 0; i < n*k; i++ {
			if idx[i] == ex {
				order = append(order, i)
			}
		}
		if len(order) == 0 {
			continue
		}
		cnt := len(order)
		in := s.moeIn[:cnt*m.Dim]
		for r, slot := range order {
			tok := slot / k
			copy(in[r*m.Dim:(r+1)*m.Dim], xn[tok*m.Dim:(tok+1)*m.Dim])
		}
		gate, up := s.moeGate[:cnt*hidden], s.moeUp[:cnt*hidden]
		e.Gate.Forward(ex, gate, in, cnt)
		e.Up.Forward(ex, up, in, cnt)
		swiglu(gate, up)
		res := s.moeOut[:cnt*m.Dim]
		e.Down.Forward(ex, res, gate, cnt)
		for r, slot := range order {
			tok := slot / k
			axpy(acc[tok*m.Dim:(tok+1)*m.Dim], weights[slot], res[r*m.Dim:(r+1)*m.Dim])
		}
	}
	copy(out, acc)
	if e.Shared != nil {
		e.Shared.forward(m, acc, xn, n)
		g := s.router[:n]
		e.SharedGate.Forward(g, xn, n)
		for i := 0; i < n; i++ {
			axpy(out[i*m.Dim:(i+1)*m.Dim], sigmoid(g[i]), acc[i*m.Dim:(i+1)*m.Dim])
		}
	}
}
