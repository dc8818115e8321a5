package model

import (
	"fmt"

	"ferry/gguf"
)

// RopeStyle says which pairs of dimensions rotary embedding rotates together.
type RopeStyle int

const (
	// RopeNormal rotates adjacent pairs (x[2i], x[2i+1]), as llama does.
	RopeNormal RopeStyle = iota
	// RopeNeoX rotates halves (x[i], x[i+n/2]), as qwen2 and GPT-NeoX do.
	RopeNeoX
)

// Config holds a model's hyper-parameters, read from GGUF metadata.
type Config struct {
	Arch        string
	Dim         int // embedding length
	Blocks      int // transformer blocks (block_count)
	Heads       int
	KVHeads     int
	HeadDim     int
	FFN         int // feed-forward hidden size (dense layers)
	Vocab       int
	Context     int // trained context length
	NormEps     float32
	RopeBase    float32
	RopeDim     int     // how many dimensions of each head are rotated
	RopeScale   float32 // position multiplier (1/factor for linear scaling)
	Yarn        *Yarn   // YaRN context extension, when the model asks for it
	Rope        RopeStyle
	Experts     int // routed experts per layer, 0 for dense models
	ExpertsUsed int
	ExpertFFN   int
	SharedFFN   int
	// NormTopK renormalizes the selected experts' weights to sum to one.
	NormTopK bool
}

// Supported lists the architectures ferry runs.
var Supported = []string{"llama", "qwen2", "qwen2moe"}

// ConfigFromGGUF reads the hyper-parameters of f's architecture.
func ConfigFromGGUF(f *gguf.File) (Config, error) {
	c := Config{Arch: f.Architecture()}
	switch c.Arch {
	case "llama":
		c.Rope = RopeNormal
		c.NormTopK = true
	case "qwen2", "qwen2moe":
		c.Rope = RopeNeoX
	case "":
		return c, fmt.Errorf("model has no general.architecture")
	default:
		return c, fmt.Errorf("unknown architecture %q (ferry runs %v)", c.Arch, Supported)
	}
	p := c.Arch + "."
	need := func(key string) (int, error) {
		v, ok := f.Int(p + key)
		if !ok {
			return 0, fmt.Errorf("missing %s%s", p, key)
		}
		if v <= 0 || v > 1<<24 {
			return 0, fmt.Errorf("%s%s = %d is out of range", p, key, v)
		}
		return int(v), nil
	}
	opt := func(key string, def int) int {
		if v, ok := f.Int(p + key); ok && v > 0 && v <= 1<<24 {
			return int(v)
		}
		return def
	}
	var err error
	if c.Dim, err = need("embedding_length"); err != nil {
		return c, err
	}
	if c.Blocks, err = need("block_count"); err != nil {
		return c, err
	}
	if c.Heads, err = need("attention.head_count"); err != nil {
		return c, err
	}
	c.KVHeads = opt("attention.head_count_kv", c.Heads)
	if c.Dim%c.Heads != 0 || c.Heads%c.KVHeads != 0 {
		return c, fmt.Errorf("%d heads and %d KV heads do not divide dim %d", c.Heads, c.KVHeads, c.Dim)
	}
	c.HeadDim = opt("attention.key_length", c.Dim/c.Heads)
	c.FFN = opt("feed_forward_length", 0)
	c.Context = opt("context_length", 2048)
	c.RopeDim = opt("rope.dimension_count", c.HeadDim)
	if c.RopeDim > c.HeadDim || c.RopeDim%2 != 0 {
		return c, fmt.Errorf("rope dimension %d does not fit head dimension %d", c.RopeDim, c.HeadDim)
	}
	c.NormEps = 1e-5
	if v, ok := f.Float(p + "attention.layer_norm_rms_epsilon"); ok {
		c.NormEps = float32(v)
	}
	c.RopeBase = 10000
	if v, ok := f.Float(p + "rope.freq_base"); ok {
		c.RopeBase = float32(v)
	}
	c.RopeScale = 1
	scaling, _ := f.String(p + "rope.scaling.type")
	factor, hasFactor := f.Float(p + "rope.scaling.factor")
	switch scaling {
	case "", "none":
		if v, ok := f.Float(p + "rope.scale_linear"); ok && v > 0 {
			c.RopeScale = float32(1 / v)
		}
	case "linear":
		if hasFactor && factor > 0 {
			c.RopeScale = float32(1 / factor)
		}
	case "yarn":
		if !hasFactor || factor < 1 || factor > 1e4 {
			return c, fmt.Errorf("rope scaling yarn needs %srope.scaling.factor >= 1", p)
		}
		y := &Yarn{Factor: float32(factor), OrigContext: opt("rope.scaling.original_context_length", c.Context), BetaFast: 32, BetaSlow: 1, AttnFactor: 1}
		if v, ok := f.Float(p + "rope.scaling.yarn_beta_fast"); ok && v > 0 {
			y.BetaFast = float32(v)
		}
		if v, ok := f.Float(p + "rope.scaling.yarn_beta_slow"); ok && v > 0 {
			y.BetaSlow = float32(v)
		}
		if v, ok := f.Float(p + "rope.scaling.attn_factor"); ok && v > 0 {
			y.AttnFactor = float32(v)
		}
		c.Yarn = y
	default:
		return c, fmt.Errorf("rope scaling %q is not supported (ferry supports none, linear and yarn)", scaling)
	}
	c.Experts = opt("expert_count", 0)
	c.ExpertsUsed = opt("expert_used_count", 0)
	if c.Experts > 0 && (c.ExpertsUsed <= 0 || c.ExpertsUsed > c.Experts) {
		return c, fmt.Errorf("expert_used_count %d with %d experts", c.ExpertsUsed, c.Experts)
	}
	c.ExpertFFN = opt("expert_feed_forward_length", c.FFN)
	c.SharedFFN = opt("expert_shared_feed_forward_length", 0)
	if vocab, ok := f.Strings("tokenizer.ggml.tokens"); ok {
		c.Vocab = len(vocab)
	}
	if c.Vocab == 0 {
		if v, ok := f.Int(p + "vocab_size"); ok {
			c.Vocab = int(v)
		}
	}
	return c, nil
}

// KVDim returns the width of one position's keys (or values): KV heads x head dimension.
func (c *Config) KVDim() int { return c.KVHeads * c.HeadDim }
