package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/dtype"
	"ferry/gguf"
	"ferry/internal/fixtures"
	"ferry/kernels"
	"ferry/kv"
	"ferry/model"
	"ferry/tier"
)

func mustType(t *testing.T, name string) FileType {
	t.Helper()
	ft, err := ParseFileType(name)
	if err != nil {
		t.Fatal(err)
	}
	return ft
}

// convert converts the model at in to type name in a temporary file.
func convert(t *testing.T, in, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(in)+"."+name+".gguf")
	if err := Convert(context.Background(), in, out, Options{FileType: mustType(t, name)}); err != nil {
		t.Fatal(err)
	}
	return out
}

// eval loads the model at path and returns the logits of every position of tokens.
func eval(t *testing.T, path string, tokens []int32) []float32 {
	t.Helper()
	g, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	store, err := tier.OpenFile(path, g, tier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m, err := model.Load(g, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(m.Schedule(), 0); err != nil {
		t.Fatal(err)
	}
	logits, err := m.Forward(tokens, 0, kv.New(m.Blocks, 256, m.KVHeads, m.HeadDim), true)
	if err != nil {
		t.Fatal(err)
	}
	return logits
}

func readTensor(t *testing.T, path string, ti *gguf.TensorInfo) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, ti.Size)
	if _, err := f.ReadAt(b, ti.Offset); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMatchesLlamaCpp converts the F32 fixtures and compares every tensor,
// type and bytes, with llama.cpp's quantization of the same model.
func TestMatchesLlamaCpp(t *testing.T) {
	cases := [][2]string{{"moe-mixtral-f32", "moe-mixtral-q4_k_m"}}
	for _, ty := range []string{"f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k_m", "q4_k_m", "q5_k_m", "q6_k"} {
		cases = append(cases, [2]string{"dense-llama-f32", "dense-llama-" + ty})
	}
	for _, c := range cases {
		t.Run(c[1], func(t *testing.T) {
			src, ref := fixtures.Load(t, c[0]), fixtures.Load(t, c[1])
			typ := c[1][strings.LastIndex(c[1], "-")+1:]
			out := convert(t, src.Path, typ)
			g, err := gguf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			rg, err := gguf.Open(ref.Path)
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Tensors) != len(rg.Tensors) {
				t.Errorf("%d tensors, llama.cpp %d", len(g.Tensors), len(rg.Tensors))
			}
			for _, r := range rg.Tensors {
				got := g.Tensor(r.Name)
				switch {
				case got == nil:
					t.Errorf("missing %s", r.Name)
				case got.Type != r.Type || fmt.Sprint(got.Shape) != fmt.Sprint(r.Shape):
					t.Errorf("%s: %v %v, llama.cpp %v %v", r.Name, got.Type, got.Shape, r.Type, r.Shape)
				case !bytes.Equal(readTensor(t, out, got), readTensor(t, ref.Path, &r)):
					t.Errorf("%s (%v): bytes differ from llama.cpp's", r.Name, r.Type)
				}
			}
			for _, key := range []string{"general.file_type", "general.quantization_version"} {
				want, _ := rg.Int(key)
				if got, _ := g.Int(key); got != want {
					t.Errorf("%s = %d, llama.cpp %d", key, got, want)
				}
			}
			for _, kv := range rg.KV {
				if _, ok := g.Lookup(kv.Key); !ok {
					t.Errorf("metadata %s was not copied", kv.Key)
				}
			}
		})
	}
}

// TestQuantizedLogits quantizes the F32 fixture, runs the prompt and
// compares the logits with llama.cpp's run of its own quantization to the
// same type (within the fixtures' tolerance for quantized models), and with
// llama.cpp's F32 logits: the error against F32 must be no worse than that
// of llama.cpp's quantized model. (Against F32 alone a 6e-2 bound cannot
// hold: on these random-weight models llama.cpp's own Q4_K_M is 0.15 off.)
func TestQuantizedLogits(t *testing.T) {
	f32 := fixtures.Load(t, "dense-llama-f32")
	for _, name := range []string{"Q8_0", "Q4_K_M", "Q4_0", "Q6_K", "Q5_K_M"} {
		t.Run(name, func(t *testing.T) {
			ref := fixtures.Load(t, "dense-llama-"+strings.ToLower(name))
			logits := eval(t, convert(t, f32.Path, name), ref.PromptTokens)
			e := fixtures.NRMSE(logits, ref.Logits)
			agree := fixtures.ArgmaxAgreement(logits, ref.Logits, ref.NVocab)
			eF32, eRef := fixtures.NRMSE(logits, f32.Logits), fixtures.NRMSE(ref.Logits, f32.Logits)
			t.Logf("vs llama.cpp %s: NRMSE %.2e, argmax agreement %.0f%%; vs F32: NRMSE %.3e (llama.cpp's %s: %.3e)", name, e, 100*agree, eF32, name, eRef)
			if e > 6e-2 || agree < 0.9 {
				t.Errorf("vs llama.cpp's %s: NRMSE %.3e (limit 6e-2), argmax agreement %.2f (limit 0.9)", name, e, agree)
			}
			if eF32 > 1.1*eRef+5e-3 {
				t.Errorf("vs F32: NRMSE %.3e, worse than llama.cpp's %s (%.3e)", eF32, name, eRef)
			}
		})
	}
}

// TestDequantizeToF32 converts a Q8_0 fixture back to F32: every weight must
// be the exact dequantization, and the model must match llama.cpp's Q8_0 run.
func TestDequantizeToF32(t *testing.T) {
	ref := fixtures.Load(t, "dense-llama-q8_0")
	out := convert(t, ref.Path, "F32")
	g, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	rg, err := gguf.Open(ref.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rg.Tensors {
		got := g.Tensor(r.Name)
		if got == nil || got.Type != dtype.F32 {
			t.Fatalf("%s: %v, want F32", r.Name, got)
		}
		want := make([]float32, r.Elements())
		kernels.Dequantize(want, readTensor(t, ref.Path, &r), r.Type)
		have := make([]float32, got.Elements())
		kernels.Dequantize(have, readTensor(t, out, got), dtype.F32)
		for i := range want {
			if want[i] != have[i] {
				t.Fatalf("%s[%d] = %v, the dequantized value is %v", r.Name, i, have[i], want[i])
			}
		}
	}
	if ft, _ := g.Int("general.file_type"); ft != 0 {
		t.Errorf("general.file_type %d, want 0", ft)
	}
	logits := eval(t, out, ref.PromptTokens)
	if e := fixtures.NRMSE(logits, ref.Logits); e > fixtures.Tolerance(ref.Name) {
		t.Errorf("NRMSE %.3e against llama.cpp's Q8_0 run", e)
	}
}

// TestTensorTypes checks the rules on shapes of real models.
func TestTensorTypes(t *testing.T) {
	llama7b := ModelInfo{Arch: "llama", Layers: 32, Heads: 32, KVHeads: 32, HasOutput: true}
	q4km := mustType(t, "Q4_K_M")
	var six []int
	for i := 0; i < 32; i++ {
		name := fmt.Sprintf("blk.%d.attn_v.weight", i)
		v := q4km.TensorType(llama7b, name, []uint64{4096, 4096}, TypeOptions{})
		d := q4km.TensorType(llama7b, fmt.Sprintf("blk.%d.ffn_down.weight", i), []uint64{11008, 4096}, TypeOptions{})
		if v != d {
			t.Errorf("layer %d: attn_v %v, ffn_down %v", i, v, d)
		}
		if v == dtype.Q6_K {
			six = append(six, i)
		}
	}
	// llama.cpp: the first and last 4 of 32 layers and every third between.
	if want := "[0 1 2 3 6 9 12 15 18 21 24 27 28 29 30 31]"; fmt.Sprint(six) != want {
		t.Errorf("Q6_K layers %v, want %s", six, want)
	}
	cases := []struct {
		ft    string
		m     ModelInfo
		name  string
		shape []uint64
		opts  TypeOptions
		want  dtype.Type
	}{
		{"Q4_K_M", llama7b, "output.weight", []uint64{4096, 32000}, TypeOptions{}, dtype.Q6_K},
		{"Q4_K_M", llama7b, "output.weight", []uint64{4096, 32000}, TypeOptions{Pure: true}, dtype.Q4_K},
		{"Q4_K_M", llama7b, "blk.0.attn_v.weight", []uint64{4096, 4096}, TypeOptions{Pure: true}, dtype.Q4_K},
		{"Q4_K_M", llama7b, "token_embd.weight", []uint64{4096, 32000}, TypeOptions{}, dtype.Q4_K},
		{"Q4_K_M", llama7b, "blk.0.attn_norm.weight", []uint64{4096}, TypeOptions{}, dtype.F32},
		{"Q4_K_M", llama7b, "blk.0.ffn_gate_inp.weight", []uint64{4096, 8}, TypeOptions{}, dtype.F32},
		{"Q8_0", llama7b, "output.weight", []uint64{4096, 32000}, TypeOptions{}, dtype.Q8_0},
		{"Q4_0", llama7b, "output.weight", []uint64{4096, 32000}, TypeOptions{}, dtype.Q6_K},
		{"F16", llama7b, "output.weight", []uint64{4096, 32000}, TypeOptions{}, dtype.F16},
		{"F16", llama7b, "blk.0.attn_q.bias", []uint64{4096}, TypeOptions{}, dtype.F32},
		// Qwen2 0.5B: rows of 896 do not fit K-quant blocks.
		{"Q4_K_M", ModelInfo{Arch: "qwen2", Layers: 24, Heads: 14, KVHeads: 2}, "token_embd.weight", []uint64{896, 151936}, TypeOptions{}, dtype.Q8_0},
		{"Q4_K_M", ModelInfo{Arch: "qwen2", Layers: 24, Heads: 14, KVHeads: 2}, "blk.5.attn_q.weight", []uint64{896, 896}, TypeOptions{}, dtype.Q5_0},
		{"Q4_K_M", ModelInfo{Arch: "qwen2", Layers: 24, Heads: 14, KVHeads: 2}, "blk.0.ffn_down.weight", []uint64{4864, 896}, TypeOptions{}, dtype.Q6_K},
		{"Q5_K_M", ModelInfo{Arch: "qwen2", Layers: 24, Heads: 14, KVHeads: 2}, "blk.5.attn_q.weight", []uint64{896, 896}, TypeOptions{}, dtype.Q5_1},
		{"Q6_K", ModelInfo{Arch: "qwen2", Layers: 24, Heads: 14, KVHeads: 2}, "blk.5.attn_q.weight", []uint64{896, 896}, TypeOptions{}, dtype.Q8_0},
		{"Q2_K", ModelInfo{Arch: "qwen2", Layers: 24, Heads: 14, KVHeads: 2}, "blk.5.attn_q.weight", []uint64{896, 896}, TypeOptions{}, dtype.Q4_0},
		{"Q4_0", llama7b, "blk.0.attn_q.weight", []uint64{80, 4096}, TypeOptions{}, dtype.F16},
		// Mixtral: 8 experts.
		{"Q4_K_M", ModelInfo{Arch: "llama", Layers: 32, Heads: 32, KVHeads: 8, Experts: 8, HasOutput: true}, "blk.4.attn_k.weight", []uint64{4096, 1024}, TypeOptions{}, dtype.Q8_0},
		{"Q4_K_M", ModelInfo{Arch: "llama", Layers: 32, Heads: 32, KVHeads: 8, Experts: 8, HasOutput: true}, "blk.4.attn_output.weight", []uint64{4096, 4096}, TypeOptions{}, dtype.Q5_K},
		{"Q4_K_M", ModelInfo{Arch: "llama", Layers: 32, Heads: 32, KVHeads: 8, Experts: 8, HasOutput: true}, "blk.31.ffn_down_exps.weight", []uint64{14336, 4096, 8}, TypeOptions{}, dtype.Q6_K},
		// Tied output: token_embd gets the output's type.
		{"Q4_K_M", ModelInfo{Arch: "llama", Layers: 16, Heads: 32, KVHeads: 8}, "token_embd.weight", []uint64{2048, 128256}, TypeOptions{}, dtype.Q6_K},
		// LLaMA-2-70B: attn_v one step up.
		{"Q4_K_S", ModelInfo{Arch: "llama", Layers: 80, Heads: 64, KVHeads: 8, HasOutput: true}, "blk.40.attn_v.weight", []uint64{8192, 1024}, TypeOptions{}, dtype.Q5_K},
		{"Q4_K", llama7b, "blk.1.ffn_down.weight", []uint64{11008, 4096}, TypeOptions{}, dtype.Q5_K},
		{"Q4_K", llama7b, "blk.9.ffn_down.weight", []uint64{11008, 4096}, TypeOptions{}, dtype.Q4_K},
	}
	for _, c := range cases {
		if got := mustType(t, c.ft).TensorType(c.m, c.name, c.shape, c.opts); got != c.want {
			t.Errorf("%s %s %v (pure %v): %v, want %v", c.ft, c.name, c.shape, c.opts.Pure, got, c.want)
		}
	}
}

func TestParseFileType(t *testing.T) {
	for name, id := range map[string]uint32{"f32": 0, "F16": 1, "Q4_0": 2, "q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10,
		"Q3_K": 12, "Q3_K_M": 12, "Q4_K": 14, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K": 16, "Q5_K_M": 17, "Q6_K": 18, "bf16": 32} {
		ft, err := ParseFileType(name)
		if err != nil || ft.ID != id {
			t.Errorf("%s: %v %v, want file type %d", name, ft, err, id)
		}
	}
	if _, err := ParseFileType("Q7_K"); err == nil {
		t.Error("Q7_K was accepted")
	}
}

// TestWriteFailures checks the errors of WriteFile: a full disk, a failing
// encoder; and that no file or temporary file is left.
func TestWriteFailures(t *testing.T) {
	boom := errors.New("boom")
	tensors := []Tensor{{Name: "a", Shape: []uint64{32, 1000}, Type: dtype.F32, Encode: func(dst []byte, row, n int) error {
		if row > 500 {
			return boom
		}
		return nil
	}}}
	path := filepath.Join(t.TempDir(), "x.gguf")
	err := WriteFile(context.Background(), path, nil, tensors, WriteOptions{ChunkValues: 64})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "tensor a") {
		t.Errorf("error %v, want one naming tensor a and wrapping the cause", err)
	}
	for _, p := range []string{path, path + ".tmp"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was left behind", p)
		}
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	ref := fixtures.Load(t, "dense-llama-f32")
	err = Convert(context.Background(), ref.Path, "/dev/full", Options{FileType: mustType(t, "Q8_0")})
	if err == nil || !strings.Contains(err.Error(), "disk is full") {
		t.Errorf("converting to /dev/full: %v, want a disk-full error", err)
	}
	if _, err := os.Stat("/dev/full.tmp"); err == nil {
		t.Error("/dev/full.tmp was created")
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := ProgressBar(&b, "x")
	p(0, 1<<30)
	p(1<<29, 1<<30) // within 200ms of the first: not drawn
	p(1<<30, 1<<30)
	p(1<<30, 1<<30) // after the end: nothing
	out := b.String()
	if strings.Count(out, "\r") != 2 || !strings.HasSuffix(out, "\n") || !strings.Contains(out, "1.00 GiB / 1.00 GiB 100%") {
		t.Errorf("progress output %q", out)
	}
}
