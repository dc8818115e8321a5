package synth

import (
	"fmt"
	"strings"

	"ferry/gguf"
)

// Shape is a model architecture at the size of a real model.
type Shape struct {
	Name        string // what --shape calls it, such as tinyllama-1.1b
	Description string // the model it copies
	// Arch is general.architecture: llama, qwen2 or qwen2moe.
	Arch    string
	Dim     int // embedding length
	Layers  int // transformer blocks
	Heads   int // attention heads
	KVHeads int // key/value heads (grouped-query attention)
	// FFN is the feed-forward hidden size: of the dense layers, or of each
	// expert for llama-architecture MoE models (Mixtral).
	FFN     int
	Vocab   int // vocabulary size
	Context int // trained context length
	// RopeBase is the rotary embedding frequency base.
	RopeBase float32
	NormEps  float32 // RMS norm epsilon
	// Tied means the model has no output.weight: the output matrix is the
	// token embedding.
	Tied bool
	// QKVBias adds biases to the Q, K and V projections (qwen2).
	QKVBias bool
	// Experts is the number of routed experts per layer (0: dense).
	Experts     int
	ExpertsUsed int // experts each token is routed to
	// ExpertFFN is each routed expert's hidden size for qwen2moe.
	ExpertFFN int
	// SharedFFN is the hidden size of qwen2moe's shared expert.
	SharedFFN int
}

var shapes = []Shape{
	{Name: "tiny", Description: "test model (llama)", Arch: "llama", Dim: 256, Layers: 2, Heads: 4, KVHeads: 2, FFN: 768, Vocab: 512, Context: 2048, RopeBase: 10000, NormEps: 1e-5},
	{Name: "tinyllama-1.1b", Description: "TinyLlama 1.1B", Arch: "llama", Dim: 2048, Layers: 22, Heads: 32, KVHeads: 4, FFN: 5632, Vocab: 32000, Context: 2048, RopeBase: 10000, NormEps: 1e-5},
	{Name: "llama-3.2-1b", Description: "Llama 3.2 1B (tied output)", Arch: "llama", Dim: 2048, Layers: 16, Heads: 32, KVHeads: 8, FFN: 8192, Vocab: 128256, Context: 131072, RopeBase: 500000, NormEps: 1e-5, Tied: true},
	{Name: "llama-7b", Description: "Llama 2 7B", Arch: "llama", Dim: 4096, Layers: 32, Heads: 32, KVHeads: 32, FFN: 11008, Vocab: 32000, Context: 4096, RopeBase: 10000, NormEps: 1e-5},
	{Name: "qwen2-0.5b", Description: "Qwen2 0.5B (QKV biases, tied output)", Arch: "qwen2", Dim: 896, Layers: 24, Heads: 14, KVHeads: 2, FFN: 4864, Vocab: 151936, Context: 32768, RopeBase: 1e6, NormEps: 1e-6, Tied: true, QKVBias: true},
	{Name: "mixtral-8x7b", Description: "Mixtral 8x7B (8 experts, 2 used)", Arch: "llama", Dim: 4096, Layers: 32, Heads: 32, KVHeads: 8, FFN: 14336, Vocab: 32000, Context: 32768, RopeBase: 1e6, NormEps: 1e-5, Experts: 8, ExpertsUsed: 2},
	{Name: "moe-small", Description: "small Mixtral-style MoE (8 experts, 2 used)", Arch: "llama", Dim: 1024, Layers: 8, Heads: 16, KVHeads: 4, FFN: 2816, Vocab: 32000, Context: 4096, RopeBase: 10000, NormEps: 1e-5, Experts: 8, ExpertsUsed: 2},
	{Name: "qwen2moe-small", Description: "small Qwen2-MoE (16 experts, 4 used, shared expert)", Arch: "qwen2moe", Dim: 1024, Layers: 8, Heads: 16, KVHeads: 4, FFN: 512, Vocab: 32000, Context: 4096, RopeBase: 1e6, NormEps: 1e-6, QKVBias: true, Experts: 16, ExpertsUsed: 4, ExpertFFN: 512, SharedFFN: 2048},
}

// Shapes returns the shapes synth knows.
func Shapes() []Shape { return append([]Shape(nil), shapes...) }

// Lookup returns the shape called name.
func Lookup(name string) (Shape, error) {
	for _, s := range shapes {
		if strings.EqualFold(s.Name, name) {
			return s, nil
		}
	}
	var names []string
	for _, s := range shapes {
		names = append(names, s.Name)
	}
	return Shape{}, fmt.Errorf("unknown shape %q (known: %s)", name, strings.Join(names, ", "))
}

// HeadDim returns the dimension of one attention head.
func (s Shape) HeadDim() int { return s.Dim / s.Heads }

func (s Shape) validate() error {
	switch {
	case s.Dim <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.FFN <= 0 || s.Vocab <= 0:
		return fmt.Errorf("shape %s: sizes must be positive", s.Name)
	case s.Dim%s.Heads != 0 || s.Heads%s.KVHeads != 0:
		return fmt.Errorf("shape %s: %d heads and %d KV heads do not divide dim %d", s.Name, s.Heads, s.KVHeads, s.Dim)
	case s.HeadDim()%2 != 0:
		return fmt.Errorf("shape %s: head dimension %d is odd", s.Name, s.HeadDim())
	case s.Dim%32 != 0 || s.FFN%32 != 0 || s.ExpertFFN%32 != 0 || s.SharedFFN%32 != 0:
		return fmt.Errorf("shape %s: dimensions must be multiples of 32", s.Name)
	case s.Experts > 0 && (s.ExpertsUsed <= 0 || s.ExpertsUsed > s.Experts):
		return fmt.Errorf("shape %s: %d experts used of %d", s.Name, s.ExpertsUsed, s.Experts)
	case s.Arch == "qwen2moe" && (s.Experts == 0 || s.ExpertFFN == 0):
		return fmt.Errorf("shape %s: qwen2moe needs experts and an expert FFN size", s.Name)
	case s.Arch != "llama" && s.Arch != "qwen2" && s.Arch != "qwen2moe":
		return fmt.Errorf("shape %s: unknown architecture %q", s.Name, s.Arch)
	}
	return nil
}

// Tensors returns the tensors of the shape with a vocabulary of vocab
// tokens, named and shaped as llama.cpp names and shapes them (GGML order,
// innermost first), in file order. Their Type is left F32.
func (s Shape) Tensors(vocab int) []gguf.TensorInfo {
	var ts []gguf.TensorInfo
	add := func(name string, shape ...int) {
		sh := make([]uint64, len(shape))
		for i, d := range shape {
			sh[i] = uint64(d)
		}
		ts = append(ts, gguf.TensorInfo{Name: name, Shape: sh})
	}
	qdim, kvdim := s.Heads*s.HeadDim(), s.KVHeads*s.HeadDim()
	add("token_embd.weight", s.Dim, vocab)
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		add(p+"attn_norm.weight", s.Dim)
		add(p+"attn_q.weight", s.Dim, qdim)
		add(p+"attn_k.weight", s.Dim, kvdim)
		add(p+"attn_v.weight", s.Dim, kvdim)
		if s.QKVBias {
			add(p+"attn_q.bias", qdim)
			add(p+"attn_k.bias", kvdim)
			add(p+"attn_v.bias", kvdim)
		}
		add(p+"attn_output.weight", qdim, s.Dim)
		add(p+"ffn_norm.weight", s.Dim)
		if s.Experts == 0 {
			add(p+"ffn_gate.weight", s.Dim, s.FFN)
			add(p+"ffn_up.weight", s.Dim, s.FFN)
			add(p+"ffn_down.weight", s.FFN, s.Dim)
			continue
		}
		effn := s.FFN
		if s.ExpertFFN > 0 {
			effn = s.ExpertFFN
		}
		add(p+"ffn_gate_inp.weight", s.Dim, s.Experts)
		add(p+"ffn_gate_exps.weight", s.Dim, effn, s.Experts)
		add(p+"ffn_up_exps.weight", s.Dim, effn, s.Experts)
		add(p+"ffn_down_exps.weight", effn, s.Dim, s.Experts)
		if s.SharedFFN > 0 {
			add(p+"ffn_gate_inp_shexp.weight", s.Dim)
			add(p+"ffn_gate_shexp.weight", s.Dim, s.SharedFFN)
			add(p+"ffn_up_shexp.weight", s.Dim, s.SharedFFN)
			add(p+"ffn_down_shexp.weight", s.SharedFFN, s.Dim)
		}
	}
	add("output_norm.weight", s.Dim)
	if !s.Tied {
		add("output.weight", s.Dim, vocab)
	}
	return ts
}

// Params returns the number of parameters of the shape with a vocabulary
// of vocab tokens (0: the shape's).
func (s Shape) Params(vocab int) int64 {
	if vocab <= 0 {
		vocab = s.Vocab
	}
	var n int64
	for _, t := range s.Tensors(vocab) {
		n += int64(t.Elements())
	}
	return n
}
