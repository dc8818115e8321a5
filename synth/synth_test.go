package synth

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/convert"
	"ferry/dtype"
	"ferry/gguf"
	"ferry/internal/fixtures"
	"ferry/kv"
	"ferry/model"
	"ferry/tier"
	"ferry/tokenizer"
)

func mustShape(t *testing.T, name string) Shape {
	t.Helper()
	s, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustType(t *testing.T, name string) convert.FileType {
	t.Helper()
	ft, err := convert.ParseFileType(name)
	if err != nil {
		t.Fatal(err)
	}
	return ft
}

// write synthesizes opts into a temporary file and returns its path.
func write(t *testing.T, opts Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), opts.Shape.Name+"-"+opts.FileType.Name+".gguf")
	if err := Write(context.Background(), path, opts); err != nil {
		t.Fatal(err)
	}
	return path
}

// encode synthesizes opts into memory.
func encode(t *testing.T, opts Options) []byte {
	t.Helper()
	kvs, ts, err := Plan(opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := convert.Write(context.Background(), &b, kvs, ts, opts.Write); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// run loads the model at path and evaluates tokens, returning the logits of
// every position.
func run(t *testing.T, path string, tokens []int32) (*model.Transformer, []float32) {
	t.Helper()
	g, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	store, err := tier.OpenFile(path, g, tier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m, err := model.Load(g, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(m.Schedule(), 0); err != nil {
		t.Fatal(err)
	}
	logits, err := m.Forward(tokens, 0, kv.New(m.Blocks, 64, m.KVHeads, m.HeadDim), true)
	if err != nil {
		t.Fatal(err)
	}
	return m, logits
}

// checkLogits fails unless the logits are finite, spread over a few units
// and pick different tokens at different positions.
func checkLogits(t *testing.T, logits []float32, vocab int) {
	t.Helper()
	argmaxes := map[int]bool{}
	for r := 0; r < len(logits)/vocab; r++ {
		row := logits[r*vocab : (r+1)*vocab]
		var sum, sq float64
		best := 0
		for i, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("position %d: logit %d is %v", r, i, v)
			}
			sum += float64(v)
			sq += float64(v) * float64(v)
			if v > row[best] {
				best = i
			}
		}
		mean := sum / float64(vocab)
		std := math.Sqrt(sq/float64(vocab) - mean*mean)
		if std < 0.3 || std > 20 {
			t.Errorf("position %d: logits have standard deviation %.3g, want a few units", r, std)
		}
		argmaxes[best] = true
	}
	if len(argmaxes) < 3 {
		t.Errorf("the argmax takes only %d values over %d positions", len(argmaxes), len(logits)/vocab)
	}
}

var prompt = []int32{1, 300, 301, 400, 401, 402, 500, 17, 18, 19}

// TestTinyLoadsAndRuns synthesizes the tiny shape at several types and
// checks the file's tensors, then runs it.
func TestTinyLoadsAndRuns(t *testing.T) {
	s := mustShape(t, "tiny")
	for _, name := range []string{"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_1", "Q2_K", "Q3_K", "Q4_K_M", "Q5_K_M", "Q6_K"} {
		t.Run(name, func(t *testing.T) {
			ft := mustType(t, name)
			opts := Options{Shape: s, FileType: ft, Seed: 7}
			path := write(t, opts)
			g, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			want := s.Tensors(s.Vocab)
			if len(g.Tensors) != len(want) {
				t.Fatalf("%d tensors, want %d", len(g.Tensors), len(want))
			}
			for i, w := range want {
				got := g.Tensors[i]
				if got.Name != w.Name || !equalShape(got.Shape, w.Shape) {
					t.Fatalf("tensor %d is %s %v, want %s %v", i, got.Name, got.Shape, w.Name, w.Shape)
				}
				if strings.HasSuffix(got.Name, "_norm.weight") && got.Type != dtype.F32 {
					t.Errorf("%s is %v, want F32", got.Name, got.Type)
				}
			}
			if ft, _ := g.Int("general.file_type"); uint32(ft) != opts.FileType.ID {
				t.Errorf("general.file_type %d, want %d", ft, opts.FileType.ID)
			}
			if size, err := Size(opts); err != nil || size != g.FileSize {
				t.Errorf("Size = %d, %v; the file has %d bytes", size, err, g.FileSize)
			}
			_, logits := run(t, path, prompt)
			checkLogits(t, logits, s.Vocab)
		})
	}
}

// TestMixTypes checks the types Q4_K_M gives the tiny model, by hand (the
// fixture comparison below covers every type when the fixtures are present).
func TestMixTypes(t *testing.T) {
	s := mustShape(t, "tiny")
	path := write(t, Options{Shape: s, FileType: mustType(t, "Q4_K_M"), Seed: 1})
	g, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]dtype.Type{
		"token_embd.weight": dtype.Q4_K, "output.weight": dtype.Q6_K, "output_norm.weight": dtype.F32,
		"blk.0.attn_v.weight": dtype.Q4_K, "blk.1.attn_v.weight": dtype.Q6_K,
		"blk.0.ffn_down.weight": dtype.Q4_K, "blk.1.ffn_down.weight": dtype.Q6_K,
		"blk.0.attn_q.weight": dtype.Q4_K, "blk.1.ffn_up.weight": dtype.Q4_K, "blk.1.attn_norm.weight": dtype.F32,
	}
	for name, typ := range want {
		if got := g.Tensor(name); got == nil || got.Type != typ {
			t.Errorf("%s: got %v, want %v", name, got, typ)
		}
	}
}

// TestMatchesFixtureLayout compares the tiny shape (which is the fixtures'
// dense-llama shape) with llama.cpp's files: the same tensors, shapes and
// types for every file type; and small qwen2, Mixtral and qwen2moe shapes
// with their fixtures' tensors.
func TestMatchesFixtureLayout(t *testing.T) {
	tiny := mustShape(t, "tiny")
	cases := []struct {
		fixture string
		shape   Shape
		typ     string
	}{
		{"dense-qwen2-f32", Shape{Name: "q", Arch: "qwen2", Dim: 256, Layers: 2, Heads: 4, KVHeads: 2, FFN: 768, Vocab: 512, Context: 2048, RopeBase: 1e4, NormEps: 1e-5, QKVBias: true}, "F32"},
		{"dense-qwen2-q8_0", Shape{Name: "q", Arch: "qwen2", Dim: 256, Layers: 2, Heads: 4, KVHeads: 2, FFN: 768, Vocab: 512, Context: 2048, RopeBase: 1e4, NormEps: 1e-5, QKVBias: true}, "Q8_0"},
		{"moe-mixtral-q4_k_m", Shape{Name: "m", Arch: "llama", Dim: 256, Layers: 2, Heads: 4, KVHeads: 2, FFN: 256, Vocab: 512, Context: 2048, RopeBase: 1e4, NormEps: 1e-5, Experts: 8, ExpertsUsed: 2}, "Q4_K_M"},
		{"moe-qwen2moe-f32", Shape{Name: "m", Arch: "qwen2moe", Dim: 256, Layers: 2, Heads: 4, KVHeads: 2, FFN: 256, Vocab: 512, Context: 2048, RopeBase: 1e4, NormEps: 1e-5, QKVBias: true, Experts: 8, ExpertsUsed: 2, ExpertFFN: 256, SharedFFN: 512}, "F32"},
	}
	for _, ty := range []string{"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k_m", "q4_k_m", "q5_k_m", "q6_k"} {
		cases = append(cases, struct {
			fixture string
			shape   Shape
			typ     string
		}{"dense-llama-" + ty, tiny, ty})
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			ref := fixtures.Load(t, c.fixture)
			rg, err := gguf.Open(ref.Path)
			if err != nil {
				t.Fatal(err)
			}
			ft := mustType(t, c.typ)
			path := write(t, Options{Shape: c.shape, FileType: ft, Seed: 3})
			g, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Tensors) != len(rg.Tensors) {
				t.Errorf("%d tensors, llama.cpp's file has %d", len(g.Tensors), len(rg.Tensors))
			}
			for _, r := range rg.Tensors {
				got := g.Tensor(r.Name)
				if got == nil {
					t.Errorf("missing %s", r.Name)
					continue
				}
				if !equalShape(got.Shape, r.Shape) || got.Type != r.Type {
					t.Errorf("%s: %v %v, llama.cpp %v %v", r.Name, got.Type, got.Shape, r.Type, r.Shape)
				}
			}
			if want, ok := rg.Int("general.file_type"); ok {
				if got, _ := g.Int("general.file_type"); got != want {
					t.Errorf("general.file_type %d, llama.cpp %d", got, want)
				}
			}
			cfg, err := model.ConfigFromGGUF(g)
			if err != nil {
				t.Fatal(err)
			}
			rcfg, err := model.ConfigFromGGUF(rg)
			if err != nil {
				t.Fatal(err)
			}
			cfg.RopeBase, rcfg.RopeBase = 0, 0
			if cfg != rcfg {
				t.Errorf("config %+v\n llama.cpp's %+v", cfg, rcfg)
			}
			_, logits := run(t, path, prompt)
			checkLogits(t, logits, c.shape.Vocab)
		})
	}
}

func equalShape(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDeterministic checks that the seed alone determines the bytes: not the
// number of threads nor the chunking, and that another seed changes them.
func TestDeterministic(t *testing.T) {
	s := mustShape(t, "tiny")
	for _, name := range []string{"Q4_K_M", "F16"} {
		opts := Options{Shape: s, FileType: mustType(t, name), Seed: 42}
		a := encode(t, opts)
		opts.Write = convert.WriteOptions{Threads: 1, ChunkValues: 1000}
		b := encode(t, opts)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the same seed gave different bytes with other threads and chunks", name)
		}
		opts.Seed = 43
		c := encode(t, opts)
		if len(c) != len(a) {
			t.Fatalf("%s: another seed changed the size", name)
		}
		g, err := gguf.Parse(bytes.NewReader(a), int64(len(a)))
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range g.Tensors {
			if strings.HasSuffix(ti.Name, "_norm.weight") {
				continue
			}
			if bytes.Equal(a[ti.Offset:ti.Offset+ti.Size], c[ti.Offset:ti.Offset+ti.Size]) {
				t.Errorf("%s: %s is the same with seeds 42 and 43", name, ti.Name)
			}
		}
	}
}

// TestRowsDiffer checks that a matrix's rows are not copies of each other.
func TestRowsDiffer(t *testing.T) {
	s := mustShape(t, "tiny")
	b := encode(t, Options{Shape: s, FileType: mustType(t, "Q8_0"), Seed: 1})
	g, err := gguf.Parse(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	ti := g.Tensor("blk.0.ffn_gate.weight")
	rb, _ := ti.Type.RowBytes(int(ti.Shape[0]))
	seen := map[string]bool{}
	data := b[ti.Offset : ti.Offset+ti.Size]
	for r := 0; r < int(ti.Shape[1]); r++ {
		row := string(data[r*rb : (r+1)*rb])
		if seen[row] {
			t.Fatalf("row %d repeats an earlier row", r)
		}
		seen[row] = true
	}
}

// TestTokenizer checks that package tokenizer loads the vocabulary and
// round-trips text.
func TestTokenizer(t *testing.T) {
	s := mustShape(t, "tiny")
	for _, vocab := range []int{MinVocab, 512, 5000} {
		b := encode(t, Options{Shape: s, FileType: mustType(t, "Q8_0"), Vocab: vocab})
		g, err := gguf.Parse(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if g.Tensor("token_embd.weight").Shape[1] != uint64(vocab) {
			t.Fatalf("token_embd has %d rows, want %d", g.Tensor("token_embd.weight").Shape[1], vocab)
		}
		v, err := tokenizer.VocabFromGGUF(g)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := tokenizer.New(v)
		if err != nil {
			t.Fatal(err)
		}
		text := "Hello world, the quick brown fox: 42 ünïcode!"
		ids := tok.Encode(text, true, false)
		if len(ids) < 2 || ids[0] != 1 {
			t.Fatalf("vocab %d: %q encodes to %v", vocab, text, ids)
		}
		if vocab == MinVocab {
			continue // byte tokens only: "▁" itself is three bytes
		}
		if got := tok.Decode(ids[1:]); got != text {
			t.Errorf("vocab %d: decode(encode(%q)) = %q", vocab, text, got)
		}
		if vocab == 5000 && len(ids) > len(text)*2/3 {
			var pieces []string
			for _, id := range ids {
				pieces = append(pieces, tok.Token(id))
			}
			t.Errorf("vocab %d: %q takes %d tokens %q; word pieces should merge", vocab, text, len(ids), pieces)
		}
	}
}

func TestVocab(t *testing.T) {
	if _, _, _, err := Vocab(MinVocab - 1); err == nil {
		t.Error("a vocabulary smaller than MinVocab was accepted")
	}
	tokens, scores, types, err := Vocab(152000)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 152000 || len(scores) != len(tokens) || len(types) != len(tokens) {
		t.Fatalf("lengths %d %d %d", len(tokens), len(scores), len(types))
	}
	seen := map[string]bool{}
	for i, s := range tokens {
		if seen[s] {
			t.Fatalf("token %d %q repeats", i, s)
		}
		seen[s] = true
	}
	if tokens[0] != "<unk>" || tokens[1] != "<s>" || tokens[2] != "</s>" || tokens[3] != "<0x00>" || tokens[258] != "<0xFF>" || types[3] != TokenByte || types[1] != TokenControl {
		t.Errorf("special tokens %q, types %v", tokens[:4], types[:4])
	}
	for i := MinVocab + 1; i < len(tokens); i++ {
		if !(scores[i] < scores[i-1]) {
			t.Fatalf("score %d (%v) does not fall below %v", i, scores[i], scores[i-1])
		}
	}
}

// TestShapes checks the parameter counts of the real shapes against the
// models they copy.
func TestShapes(t *testing.T) {
	want := map[string][2]float64{ // billions of parameters, with a tolerance
		"tinyllama-1.1b": {1.100, 0.002},
		"llama-3.2-1b":   {1.236, 0.002},
		"llama-7b":       {6.738, 0.002},
		"qwen2-0.5b":     {0.494, 0.002},
		"mixtral-8x7b":   {46.70, 0.01},
		"moe-small":      {0.640, 0.002},
	}
	for _, s := range Shapes() {
		if err := s.validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if w, ok := want[s.Name]; ok {
			got := float64(s.Params(0)) / 1e9
			if math.Abs(got-w[0]) > w[1] {
				t.Errorf("%s: %.4fB parameters, want %.3fB", s.Name, got, w[0])
			}
		}
	}
	size, err := Size(Options{Shape: mustShape(t, "moe-small"), FileType: mustType(t, "Q8_0")})
	if err != nil {
		t.Fatal(err)
	}
	if size < 640e6 || size > 720e6 {
		t.Errorf("moe-small at Q8_0 is %d bytes, want about 680 MB", size)
	}
	if _, err := Lookup("no-such-shape"); err == nil {
		t.Error("Lookup accepted an unknown shape")
	}
}

// TestWriteErrors checks that a failed write leaves neither the file nor its
// temporary file behind.
func TestWriteErrors(t *testing.T) {
	s := mustShape(t, "tiny")
	path := filepath.Join(t.TempDir(), "m.gguf")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Write(ctx, path, Options{Shape: s, FileType: mustType(t, "Q8_0")})
	if err == nil {
		t.Fatal("a cancelled write succeeded")
	}
	for _, p := range []string{path, path + ".tmp"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was left behind", p)
		}
	}
	if _, err := os.Stat("/dev/full"); err == nil {
		err := Write(context.Background(), "/dev/full", Options{Shape: s, FileType: mustType(t, "Q8_0")})
		if err == nil || !strings.Contains(err.Error(), "disk is full") {
			t.Errorf("writing to /dev/full: %v, want a disk-full error", err)
		}
	}
}
