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
	// The head's spans as one product where it is held in memory
	// (forwardShared): one preparation of the activations, one barrier,
	// and the hint the last layer gave the idle cores (willMultiply)
	// names the lanes they will take. Span by span, tokens decoded
	// alternately with each took 0.1-3.3% longer on TinyLlama Q4_K_M with
	// the memory at 55-60 GB/s (median 1%), 0.2-1.2% at 35 GB/s, and 0-0.2%
	// on Q8_0 and F16.
	forwardShared(m, xn, rows, []*Linear{m.Output}, [][]float32{logits})
	return logits, nil
}

// embed looks up each token's row of the embedding table.
func (m *Transformer) embed(x []float32, tokens []int32) error {
	for i, t := range tokens {
		row, err := m.embedRow(int(t))
		if err != nil {
			return err
		}
		kernels.Dequantize(x[i*m.Dim:(i+1)*m.Dim], row, m.Embed.Type)
	}
	return nil
}

// embedRow returns token t's row of the embedding table in the file's
// layout: from memory, unpacked where the table is also the output matrix
// and so packed (PackWeights), or read from the file where it streams.
func (m *Transformer) embedRow(t int) ([]byte, error) {
	if t >= 0 && t < m.Embed.Rows() {
		if data, typ, r, ok := m.Embed.ResidentRow(t); ok && typ != m.Embed.Type {
			return kernels.UnpackRow(m.s.rowBuf, typ, data, m.Embed.Cols(), r), nil
		}
	}
	return m.Embed.Row(t)
}

func (layer *Layer) forward(m *Transformer, l int, x []float32, n int, seqs []Seq) {
	s := &m.s
	xn := s.xn[:n*m.Dim]

	rmsNorm(xn, x, layer.AttnNorm, m.NormEps)
	// Each product's dispatch tells the idle cores which product follows
	// (willMultiply), so that they fetch its first rows during the serial
	// work between the two.
	willMultiply(m, n, &layer.Attn.Out)
	layer.Attn.forward(m, l, xn, n, seqs)
	addTo(x, s.o[:n*m.Dim])

	rmsNorm(xn, x, layer.FFNNorm, m.NormEps)
	out := s.o[:n*m.Dim]
	if layer.MoE != nil {
		layer.MoE.forward(m, l, out, xn, n)
	} else {
		willMultiply(m, n, &layer.FFN.Down)
		layer.FFN.forward(m, out, xn, n, m.following(l), m.followingNorm(l))
	}
	addTo(x, out)
	if m.Speculate && m.Routing != nil && l+1 < len(m.Layers) && m.Layers[l+1].MoE != nil {
		m.speculate(l+1, x, n)
	}
}

// forward computes Down(silu(Gate x) * Up x) into out; next are the
// products after Down (willMultiply) and nextNorm the norm weights read
// right after it (kernels.WillRead).
func (f *FeedForward) forward(m *Transformer, out, xn []float32, n int, next []*Linear, nextNorm []float32) {
	s := &m.s
	hidden := f.Gate.Out()
	gate, up := s.gate[:n*hidden], s.up[:n*hidden]
	forwardShared(m, xn, n, []*Linear{&f.Gate, &f.Up}, [][]float32{gate, up})
	m.swiglu(gate, up)
	willMultiply(m, n, next...)
	kernels.WillRead(nextNorm)
	f.Down.Forward(m, out, gate, n)
}

// followingNorm returns the weights of the norm after layer l's: the next
// layer's attention norm, or the output norm.
func (m *Transformer) followingNorm(l int) []float32 {
	if l+1 < len(m.Layers) {
		return m.Layers[l+1].AttnNorm
	}
	return m.OutputNorm
}

// following returns the products that come after layer l's: the next
// layer's queries, keys and values, or the output head.
func (m *Transformer) following(l int) []*Linear {
	if l+1 < len(m.Layers) {
		a := &m.Layers[l+1].Attn
		m.s.next = [3]*Linear{&a.Q, &a.K, &a.V}
		return m.s.next[:]
	}
	m.s.next = [3]*Linear{m.Output}
	return m.s.next[:1]
}
