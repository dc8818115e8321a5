// Package synth writes GGUF models with random weights at the shapes of
// real models, so that benchmarks and tests run without a download.
//
// The weights are deterministic functions of a seed and scaled to keep
// activations sane through many layers: matrices are normal with standard
// deviation 1/sqrt(row length), the token embedding and output matrix
// 2/sqrt(dim) (logits spread over a few units), norms are 1, biases small.
// The model produces varied tokens, never NaN.
//
// Generation is fast because it draws from pools: for each (weight type,
// scale) a pool of normal values is quantized once with package quant, and
// every row is a random sequence of the pool's 256-value (or 32-value)
// units. Quantization acts on each block independently, so a row's bytes
// are exactly what quantizing its float values would give: the result is a
// real quantization of a real (if internally repetitive) random matrix, at
// the speed of a memory copy.
package synth

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"

	"ferry/convert"
	"ferry/dtype"
	"ferry/gguf"
	"ferry/quant"
)

// Options describe a model to synthesize.
type Options struct {
	Shape    Shape            // the architecture and its sizes
	FileType convert.FileType // the weight types, such as Q4_K_M
	// Types adjusts the per-tensor choice of types (llama-quantize --pure).
	Types convert.TypeOptions
	// Seed determines every weight: the same seed gives the same file.
	Seed uint64
	// Vocab is the vocabulary size; 0 means the shape's.
	Vocab int
	// Write tunes the writer (threads, progress).
	Write convert.WriteOptions
}

// poolValues is the number of values in one pool. It must be a power of two
// (so is the number of units) for matrix's permutation of units.
const poolValues = 1 << 20

// Plan returns the metadata and the tensors (with their encoders) of the
// model opts describe, in file order.
func Plan(opts Options) ([]gguf.KV, []convert.Tensor, error) {
	s := opts.Shape
	if err := s.validate(); err != nil {
		return nil, nil, err
	}
	vocab := opts.Vocab
	if vocab <= 0 {
		vocab = s.Vocab
	}
	kv, err := Metadata(s, vocab, opts.FileType, opts.Seed)
	if err != nil {
		return nil, nil, err
	}
	info := convert.ModelInfo{Arch: s.Arch, Layers: s.Layers, Heads: s.Heads, KVHeads: s.KVHeads, Experts: s.Experts, HasOutput: !s.Tied}
	g := &generator{seed: opts.Seed, pools: map[poolKey]*pool{}}
	var ts []convert.Tensor
	for _, ti := range s.Tensors(vocab) {
		typ := opts.FileType.TensorType(info, ti.Name, ti.Shape, opts.Types)
		if !quant.Supported(typ) {
			return nil, nil, fmt.Errorf("tensor %s: cannot encode %v", ti.Name, typ)
		}
		t := convert.Tensor{Name: ti.Name, Shape: ti.Shape, Type: typ}
		cols := int(ti.Shape[0])
		switch {
		case hasSuffix(ti.Name, "_norm.weight"):
			t.Encode = constant(typ, cols, 1)
		case hasSuffix(ti.Name, ".bias"):
			t.Encode = g.direct(ti.Name, typ, cols, 0.02)
		case len(ti.Shape) == 1:
			t.Encode = g.direct(ti.Name, typ, cols, float32(1/math.Sqrt(float64(cols))))
		default:
			std := 1 / math.Sqrt(float64(cols))
			if ti.Name == "token_embd.weight" || ti.Name == "output.weight" {
				std = 2 / math.Sqrt(float64(s.Dim))
			}
			t.Encode = g.matrix(ti.Name, typ, cols, float32(std))
		}
		ts = append(ts, t)
	}
	return kv, ts, nil
}

// Write synthesizes the model opts describe into the file at path (written
// as convert.WriteFile writes: to path+".tmp", renamed when complete).
func Write(ctx context.Context, path string, opts Options) error {
	kv, ts, err := Plan(opts)
	if err != nil {
		return err
	}
	return convert.WriteFile(ctx, path, kv, ts, opts.Write)
}

// Size returns the size in bytes of the file Write would write.
func Size(opts Options) (int64, error) {
	kv, ts, err := Plan(opts)
	if err != nil {
		return 0, err
	}
	infos := make([]gguf.TensorInfo, len(ts))
	for i, t := range ts {
		infos[i] = gguf.TensorInfo{Name: t.Name, Shape: t.Shape, Type: t.Type}
	}
	l, err := gguf.NewLayout(kv, infos)
	if err != nil {
		return 0, err
	}
	return l.FileSize, nil
}

// Metadata returns the GGUF metadata of shape s with a vocabulary of vocab
// tokens in file type ft: what model.ConfigFromGGUF reads, and a
// SentencePiece vocabulary (see Vocab) that package tokenizer loads.
func Metadata(s Shape, vocab int, ft convert.FileType, seed uint64) ([]gguf.KV, error) {
	tokens, scores, types, err := Vocab(vocab)
	if err != nil {
		return nil, err
	}
	p := s.Arch + "."
	u32 := func(v int) gguf.Value { return gguf.Uint32(uint32(v)) }
	var kv []gguf.KV
	add := func(key string, v gguf.Value) { kv = append(kv, gguf.KV{Key: key, Value: v}) }
	add("general.architecture", gguf.String(s.Arch))
	add("general.name", gguf.String(s.Name))
	add("general.description", gguf.String(fmt.Sprintf("random weights at the shape of %s, synthesized by ferry synth (seed %d)", s.Description, seed)))
	add("general.file_type", gguf.Uint32(ft.ID))
	add("general.quantization_version", u32(convert.QuantizationVersion))
	add("general.alignment", u32(32))
	add(p+"context_length", u32(s.Context))
	add(p+"embedding_length", u32(s.Dim))
	add(p+"block_count", u32(s.Layers))
	add(p+"feed_forward_length", u32(s.FFN))
	add(p+"attention.head_count", u32(s.Heads))
	add(p+"attention.head_count_kv", u32(s.KVHeads))
	add(p+"rope.dimension_count", u32(s.HeadDim()))
	add(p+"rope.freq_base", gguf.Float32(s.RopeBase))
	add(p+"attention.layer_norm_rms_epsilon", gguf.Float32(s.NormEps))
	add(p+"vocab_size", u32(vocab))
	if s.Experts > 0 {
		add(p+"expert_count", u32(s.Experts))
		add(p+"expert_used_count", u32(s.ExpertsUsed))
		if s.ExpertFFN > 0 {
			add(p+"expert_feed_forward_length", u32(s.ExpertFFN))
		}
		if s.SharedFFN > 0 {
			add(p+"expert_shared_feed_forward_length", u32(s.SharedFFN))
		}
	}
	add("tokenizer.ggml.model", gguf.String("llama"))
	add("tokenizer.ggml.tokens", gguf.ArrayOf(gguf.TypeString, tokens))
	add("tokenizer.ggml.scores", gguf.ArrayOf(gguf.TypeFloat32, scores))
	add("tokenizer.ggml.token_type", gguf.ArrayOf(gguf.TypeInt32, types))
	add("tokenizer.ggml.bos_token_id", u32(1))
	add("tokenizer.ggml.eos_token_id", u32(2))
	add("tokenizer.ggml.unknown_token_id", u32(0))
	add("tokenizer.ggml.add_bos_token", gguf.Bool(true))
	add("tokenizer.ggml.add_eos_token", gguf.Bool(false))
	return kv, nil
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// constant encodes rows of cols values that all equal v.
func constant(typ dtype.Type, cols int, v float32) func([]byte, int, int) error {
	row := make([]float32, cols)
	for i := range row {
		row[i] = v
	}
	enc, err := quant.Quantize(typ, row)
	return func(dst []byte, _, n int) error {
		if err != nil {
			return err
		}
		for r := 0; r < n; r++ {
			copy(dst[r*len(enc):], enc)
		}
		return nil
	}
}

// generator draws the weights of one model.
type generator struct {
	seed  uint64
	mu    sync.Mutex
	pools map[poolKey]*pool
}

type poolKey struct {
	typ  dtype.Type
	unit int
	std  float32
}

// pool is poolValues normal values, quantized: units of unit values, each
// unitBytes long.
type pool struct {
	once      sync.Once
	units     int
	unitBytes int
	data      []byte
	err       error
}

// nameSeed mixes the generator's seed with a tensor name.
func (g *generator) nameSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return mix(h.Sum64() ^ mix(g.seed))
}

// mix is the splitmix64 finalizer: a bijective scramble of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// normals returns n normal values with standard deviation std drawn from seed.
func normals(seed uint64, n int, std float32) []float32 {
	r := rand.New(rand.NewPCG(seed, mix(seed)))
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64()) * std
	}
	return out
}

func (g *generator) pool(k poolKey) (*pool, error) {
	g.mu.Lock()
	p := g.pools[k]
	if p == nil {
		p = &pool{}
		g.pools[k] = p
	}
	g.mu.Unlock()
	p.once.Do(func() {
		seed := mix(g.seed ^ mix(uint64(k.typ)<<32|uint64(k.unit)) ^ mix(uint64(math.Float32bits(k.std))))
		p.data, p.err = quant.Quantize(k.typ, normals(seed, poolValues, k.std))
		p.units = poolValues / k.unit
		p.unitBytes, _ = k.typ.RowBytes(k.unit)
	})
	return p, p.err
}

// matrix encodes rows of a weight matrix: each row a random sequence of
// units of the pool for (typ, std), chosen by a generator seeded by the
// tensor's name and the row's index, so that the bytes do not depend on how
// rows are split among threads.
func (g *generator) matrix(name string, typ dtype.Type, cols int, std float32) func([]byte, int, int) error {
	unit := 32
	if cols%256 == 0 {
		unit = 256
	}
	ts := g.nameSeed(name)
	return func(dst []byte, row, n int) error {
		if cols%unit != 0 || unit%typ.BlockSize() != 0 {
			return fmt.Errorf("a row of %d values does not split into %s blocks", cols, typ)
		}
		p, err := g.pool(poolKey{typ, unit, std})
		if err != nil {
			return err
		}
		ub, per := p.unitBytes, cols/unit
		rb := per * ub
		// The first unit of row r is unit (a*r + b) mod units, a bijection
		// (units is a power of two, a odd), so that rows differ even when
		// they hold a single unit; the others are drawn at random.
		a, b := ts|1, mix(ts)
		for r := 0; r < n; r++ {
			s := mix(ts+uint64(row+r)) | 1 // xorshift needs a nonzero state
			d := dst[r*rb : (r+1)*rb]
			i := int((a*uint64(row+r) + b) & uint64(p.units-1))
			for u := 0; u < per; u++ {
				if u > 0 {
					// xorshift64 step, then a multiply-shift into [0, units).
					s ^= s << 13
					s ^= s >> 7
					s ^= s << 17
					i = int((s >> 32) * uint64(p.units) >> 32)
				}
				copy(d[u*ub:(u+1)*ub], p.data[i*ub:(i+1)*ub])
			}
		}
		return nil
	}
}

// direct encodes rows drawn value by value (for small tensors such as
// biases): normal with standard deviation std, seeded by name and row.
func (g *generator) direct(name string, typ dtype.Type, cols int, std float32) func([]byte, int, int) error {
	ts := g.nameSeed(name)
	return func(dst []byte, row, n int) error {
		rb := len(dst) / max(n, 1)
		for r := 0; r < n; r++ {
			if _, err := quant.QuantizeInto(dst[r*rb:(r+1)*rb], typ, normals(mix(ts+uint64(row+r)), cols, std)); err != nil {
				return err
			}
		}
		return nil
	}
}
