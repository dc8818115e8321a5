package model

import (
	"fmt"
	"runtime"
	"sync"

	"ferry/gguf"
	"ferry/kernels"
	"ferry/tier"
)

// Load builds the model described by f from the tensors in store.
func Load(f *gguf.File, store *tier.Store) (*Transformer, error) {
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, err
	}
	l := loader{store: store}
	m := &Transformer{Config: cfg}
	m.Embed = l.matrix("token_embd.weight", cfg.Dim, 0)
	if l.err == nil && m.Vocab == 0 {
		m.Vocab = m.Embed.Rows()
	}
	if l.err == nil && m.Embed.Rows() != m.Vocab {
		return nil, fmt.Errorf("token_embd.weight has %d rows but the vocabulary has %d tokens", m.Embed.Rows(), m.Vocab)
	}
	m.OutputNorm = l.vector("output_norm.weight", cfg.Dim)
	if store.Tensor("output.weight") != nil {
		m.Output = &Linear{Weight: l.matrix("output.weight", cfg.Dim, m.Vocab)}
	} else {
		m.Output = &Linear{Weight: m.Embed}
	}
	var factors []float32
	if store.Tensor("rope_freqs.weight") != nil {
		factors = l.vector("rope_freqs.weight", cfg.RopeDim/2)
	}
	m.rope = newRope(cfg.Rope, cfg.RopeDim, cfg.RopeBase, cfg.RopeScale, factors, cfg.Yarn)

	qdim, kvdim := cfg.Heads*cfg.HeadDim, cfg.KVDim()
	for i := 0; i < cfg.Blocks && l.err == nil; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		layer := &Layer{
			AttnNorm: l.vector(p+"attn_norm.weight", cfg.Dim),
			FFNNorm:  l.vector(p+"ffn_norm.weight", cfg.Dim),
			Attn: Attention{
				Q:   l.linear(p+"attn_q", cfg.Dim, qdim),
				K:   l.linear(p+"attn_k", cfg.Dim, kvdim),
				V:   l.linear(p+"attn_v", cfg.Dim, kvdim),
				Out: l.linear(p+"attn_output", qdim, cfg.Dim),
			},
		}
		if cfg.Experts > 0 {
			moe := &MoE{
				Router: l.linear(p+"ffn_gate_inp", cfg.Dim, cfg.Experts),
				Gate:   Experts{l.experts(p+"ffn_gate_exps.weight", cfg.Dim, cfg.ExpertFFN, cfg.Experts)},
				Up:     Experts{l.experts(p+"ffn_up_exps.weight", cfg.Dim, cfg.ExpertFFN, cfg.Experts)},
				Down:   Experts{l.experts(p+"ffn_down_exps.weight", cfg.ExpertFFN, cfg.Dim, cfg.Experts)},
			}
			if store.Tensor(p+"ffn_gate_shexp.weight") != nil {
				moe.Shared = l.feedForward(p, "_shexp", cfg.Dim, cfg.SharedFFN)
				gate := l.linear(p+"ffn_gate_inp_shexp", cfg.Dim, 1)
				moe.SharedGate = &gate
			}
			layer.MoE = moe
		} else {
			layer.FFN = l.feedForward(p, "", cfg.Dim, cfg.FFN)
		}
		m.Layers = append(m.Layers, layer)
	}
	if l.err != nil {
		return nil, l.err
	}
	// The activation buffers are sized from the hidden widths; take them
	// from the tensors, which were checked against the file, not only from
	// metadata that may be missing or wrong.
	for i, layer := range m.Layers {
		if f := layer.FFN; f != nil {
			if f.Gate.Out() != f.Up.Out() || f.Down.Weight.Cols() != f.Gate.Out() {
				return nil, fmt.Errorf("layer %d: feed-forward shapes disagree (gate %v, up %v, down %v)", i, f.Gate.Weight.Shape, f.Up.Weight.Shape, f.Down.Weight.Shape)
			}
			m.FFN = max(m.FFN, f.Gate.Out())
		}
		if e := layer.MoE; e != nil {
			g, u, d := e.Gate.Weight.Shape, e.Up.Weight.Shape, e.Down.Weight.Shape
			if len(g) < 3 || len(u) < 3 || len(d) < 3 || g[1] != u[1] || d[0] != g[1] {
				return nil, fmt.Errorf("layer %d: expert shapes disagree (gate %v, up %v, down %v)", i, g, u, d)
			}
			m.ExpertFFN = max(m.ExpertFFN, e.Gate.Out())
			if s := e.Shared; s != nil {
				if s.Gate.Out() != s.Up.Out() || s.Down.Weight.Cols() != s.Gate.Out() {
					return nil, fmt.Errorf("layer %d: shared expert shapes disagree", i)
				}
				m.SharedFFN = max(m.SharedFFN, s.Gate.Out())
			}
		}
	}
	for _, t := range store.Tensors() {
		if !kernels.Supported(t.Type) {
			return nil, fmt.Errorf("tensor %s has weight type %s, which ferry cannot compute with", t.Name, t.Type)
		}
	}
	return m, nil
}

// Schedule lists the weight tensors a forward pass uses, in the order it
// uses them: the order the tier prefetches streamed spans in. Embeddings are
// not listed (they are read a row per token); small vectors (norms, biases)
// are copied at load time.
func (m *Transformer) Schedule() []*tier.Tensor { return m.schedule(m.ExpertCache == nil) }

// DenseSchedule is Schedule without MoE experts and routers: what streams
// when an expert cache serves the experts.
func (m *Transformer) DenseSchedule() []*tier.Tensor { return m.schedule(false) }

func (m *Transformer) schedule(experts bool) []*tier.Tensor {
	var s []*tier.Tensor
	for _, l := range m.Layers {
		s = append(s, l.Attn.Q.Weight, l.Attn.K.Weight, l.Attn.V.Weight, l.Attn.Out.Weight)
		if l.MoE != nil {
			e := l.MoE
			if experts {
				s = append(s, e.Router.Weight, e.Gate.Weight, e.Up.Weight, e.Down.Weight)
			}
			if e.Shared != nil {
				s = append(s, e.Shared.Gate.Weight, e.Shared.Up.Weight, e.Shared.Down.Weight, e.SharedGate.Weight)
			}
		} else {
			s = append(s, l.FFN.Gate.Weight, l.FFN.Up.Weight, l.FFN.Down.Weight)
		}
	}
	return append(s, m.Output.Weight)
}

// PackWeights rewrites the resident spans of the weights the forward pass
// reads as matrices into the layout the kernels read fastest
// (kernels.Pack, through tier.Tensor.Pack). The embedding table, read a
// row at a time, keeps the file's layout, and so does an output matrix
// tied to it. Call it once the store has loaded the weights; streamed
// spans are left as they are read.
func (m *Transformer) PackWeights() {
	// Tensors are packed in parallel: each span is rewritten by one
	// goroutine, and a 7B model's packing takes a second on one core.
	todo := make(chan *tier.Tensor)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range todo {
				t.Pack(kernels.Pack)
			}
		}()
	}
	// Each tensor once; the embedding table only where it is also the
	// output matrix (embedRow unpacks its rows).
	seen := map[*tier.Tensor]bool{m.Embed: m.Output.Weight != m.Embed}
	for _, t := range m.schedule(true) {
		if !seen[t] {
			seen[t] = true
			todo <- t
		}
	}
	close(todo)
	wg.Wait()
}

// ExpertStacks returns, for each layer, its gate, up and down expert stacks
// (nil entries for dense layers).
func (m *Transformer) ExpertStacks() [][3]*tier.Tensor {
	out := make([][3]*tier.Tensor, len(m.Layers))
	for i, l := range m.Layers {
		if l.MoE != nil {
			out[i] = [3]*tier.Tensor{l.MoE.Gate.Weight, l.MoE.Up.Weight, l.MoE.Down.Weight}
		}
	}
	return out
}

// UseExpertCache makes the MoE layers take their experts from src instead
// of the tier's schedule. Their routers are copied out of the store and held
// (they are small, and speculative prefetch reads them out of order), so
// Schedule no longer lists experts or routers. It returns the bytes held.
func (m *Transformer) UseExpertCache(src ExpertSource, store *tier.Store, speculate bool) (int64, error) {
	if r, ok := src.(RoutingObserver); ok && m.Routing == nil {
		m.Routing = r
	}
	var held int64
	for _, l := range m.Layers {
		if l.MoE == nil {
			continue
		}
		b, err := store.ReadTensor(l.MoE.Router.Weight)
		if err != nil {
			return held, err
		}
		l.MoE.Router.Held = b
		held += int64(len(b))
	}
	m.ExpertCache, m.Speculate = src, speculate
	return held, nil
}

// loader fetches tensors by name and checks their shapes, keeping the first error.
type loader struct {
	store *tier.Store
	err   error
}

func (l *loader) fail(format string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf(format, args...)
	}
}

func (l *loader) tensor(name string, shape ...int) *tier.Tensor {
	t := l.store.Tensor(name)
	if t == nil {
		l.fail("missing tensor %s", name)
		return nil
	}
	ok := true
	for i, want := range shape {
		got := 1
		if i < len(t.Shape) {
			got = t.Shape[i]
		}
		if want != 0 && got != want {
			ok = false
		}
	}
	for i := len(shape); ok && i < len(t.Shape); i++ {
		ok = t.Shape[i] == 1
	}
	if !ok {
		l.fail("tensor %s has shape %v, want %v", name, t.Shape, shape)
		return nil
	}
	return t
}

func (l *loader) matrix(name string, in, out int) *tier.Tensor { return l.tensor(name, in, out) }

func (l *loader) experts(name string, in, out, n int) *tier.Tensor {
	return l.tensor(name, in, out, n)
}

// vector loads a small tensor (a norm weight or bias) as float32, resident.
func (l *loader) vector(name string, n int) []float32 {
	t := l.tensor(name, n)
	if t == nil {
		return nil
	}
	if t.Shape[0]%t.Type.BlockSize() != 0 {
		l.fail("tensor %s: %d values are not whole %s blocks", name, n, t.Type)
		return nil
	}
	data, err := l.store.ReadTensor(t)
	if err != nil {
		l.fail("%v", err)
		return nil
	}
	out := make([]float32, n)
	kernels.Dequantize(out, data, t.Type)
	return out
}

// linear loads NAME.weight and, when present, NAME.bias.
func (l *loader) linear(name string, in, out int) Linear {
	lin := Linear{Weight: l.matrix(name+".weight", in, out)}
	if l.store.Tensor(name+".bias") != nil {
		lin.Bias = l.vector(name+".bias", out)
	}
	return lin
}

func (l *loader) feedForward(prefix, suffix string, dim, hidden int) *FeedForward {
	return &FeedForward{
		Gate: l.linear(prefix+"ffn_gate"+suffix, dim, hidden),
		Up:   l.linear(prefix+"ffn_up"+suffix, dim, hidden),
		Down: l.linear(prefix+"ffn_down"+suffix, hidden, dim),
	}
}
