package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/dtype"
	"ferry/gguf"
)

// TestSynthQuantizeRun synthesizes a model, quantizes it and runs it, all
// through the CLI.
func TestSynthQuantizeRun(t *testing.T) {
	dir := t.TempDir()
	q8 := filepath.Join(dir, "tiny-q8.gguf")
	code, out, errs := ferry(t, "synth", "--shape", "tiny", "--type", "Q8_0", "-o", q8, "--seed", "5")
	if code != 0 {
		t.Fatalf("synth: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "wrote "+q8) {
		t.Errorf("synth printed %q", out)
	}
	q4 := filepath.Join(dir, "tiny-q4km.gguf")
	// Flags may follow the positional arguments.
	code, _, errs = ferry(t, "quantize", q8, q4, "q4_k_m", "--threads", "1")
	if code != 0 {
		t.Fatalf("quantize: exit %d: %s", code, errs)
	}
	g, err := gguf.Open(q4)
	if err != nil {
		t.Fatal(err)
	}
	if tt := g.Tensor("output.weight"); tt == nil || tt.Type != dtype.Q6_K {
		t.Errorf("output.weight is %v, want Q6_K", tt)
	}
	if ft, _ := g.Int("general.file_type"); ft != 15 {
		t.Errorf("general.file_type %d, want 15", ft)
	}
	code, out, errs = ferry(t, "run", "-m", q4, "-p", "hello world", "-n", "8", "--temp", "0", "--json")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"tokens"`) {
		t.Errorf("run printed %q", out)
	}
	for _, p := range []string{q8 + ".tmp", q4 + ".tmp"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was left behind", p)
		}
	}
}

func TestSynthList(t *testing.T) {
	code, out, errs := ferry(t, "synth", "--list", "--type", "Q8_0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"tinyllama-1.1b", "llama-3.2-1b", "llama-7b", "qwen2-0.5b", "mixtral-8x7b", "moe-small", "qwen2moe-small", "tiny ", "1.10B", "GiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("--list output lacks %q:\n%s", want, out)
		}
	}
}

func TestSynthQuantizeUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"synth", "--shape", "no-such", "-o", filepath.Join(dir, "x")},
		{"synth", "--shape", "tiny"},
		{"synth", "-o", filepath.Join(dir, "x")},
		{"synth", "--shape", "tiny", "--type", "Q9_K", "-o", filepath.Join(dir, "x")},
		{"synth", "--shape", "tiny", "--vocab", "100", "-o", filepath.Join(dir, "x")},
		{"quantize", "a.gguf", "b.gguf"},
		{"quantize", "a.gguf", "b.gguf", "Q9_K"},
	} {
		if code, _, _ := ferry(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	code, _, errs := ferry(t, "quantize", filepath.Join(dir, "missing.gguf"), filepath.Join(dir, "out.gguf"), "Q8_0")
	if code != 1 || !strings.Contains(errs, "missing.gguf") {
		t.Errorf("missing input: exit %d, %q", code, errs)
	}
}

func TestParseInterleaved(t *testing.T) {
	fs := newFlags("x")
	threads := fs.Int("threads", 0, "")
	pos, err := parseInterleaved(fs, []string{"a", "--threads", "2", "b", "--", "-c", "--threads"})
	if err != nil || strings.Join(pos, " ") != "a b -c --threads" || *threads != 2 {
		t.Errorf("got %q, %v, threads %d", pos, err, *threads)
	}
}

// TestBenchJSON runs ferry bench on a synthesized model and checks the
// JSON keys the kernels issue asks for, and that the bound is the sampled
// bandwidth over the weights and KV cache a token reads.
func TestBenchJSON(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(dir, "tiny-q4km.gguf")
	if code, _, errs := ferry(t, "synth", "--shape", "tiny", "--type", "Q4_K_M", "-o", m); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, errs)
	}
	code, out, errs := ferry(t, "bench", "-m", m, "-p", "8", "-n", "4", "--json")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errs)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench --json printed %q: %v", out, err)
	}
	num := func(k string) float64 {
		v, ok := r[k].(float64)
		if !ok || v <= 0 {
			t.Fatalf("%s = %v, want a positive number", k, r[k])
		}
		return v
	}
	num("prefill_tok_s")
	num("decode_tok_s")
	weights, kvb := num("bytes_per_token"), num("kv_bytes_per_token")
	bw, bound := num("mem_bw_gbs"), num("decode_bound_tok_s")
	g, err := gguf.Open(m)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := g.Int("llama.block_count")
	heads, _ := g.Int("llama.attention.head_count")
	kvHeads, _ := g.Int("llama.attention.head_count_kv")
	dim, _ := g.Int("llama.embedding_length")
	// -n 4 after 8 prompt tokens: the first token comes from the prompt's
	// pass, then three decode steps attend 9, 10 and 11 positions, 10 on
	// average, of F16 keys and values.
	if r["decode_tokens"] != 3.0 {
		t.Fatalf("decode_tokens = %v, want 3", r["decode_tokens"])
	}
	if want := float64(10 * layers * dim / heads * kvHeads * 4); kvb != want {
		t.Errorf("kv_bytes_per_token = %v, want %v", kvb, want)
	}
	if want := bw * 1e9 / (weights + kvb); math.Abs(bound-want) > 1e-3*want {
		t.Errorf("decode_bound_tok_s = %v, want %v", bound, want)
	}
	// The bandwidth is the probe's, or decode's own rate where that is
	// higher: the bound is never below the decode.
	if probe := num("mem_bw_probe_gbs"); bw < probe {
		t.Errorf("mem_bw_gbs = %v, below the probe's %v", bw, probe)
	}
	if of := num("decode_of_bound"); of > 1+1e-9 {
		t.Errorf("decode_of_bound = %v, above 1", of)
	}
	// The compute bound: the dense products' bytes (all the weights a
	// token reads but its embedding row) at the kernels' rate from cache.
	cb, kg := num("compute_bound_tok_s"), num("kernel_gbs")
	if products := kg * 1e9 / cb; products > weights || products < 0.9*weights {
		t.Errorf("kernel_gbs / compute_bound_tok_s = %v bytes a token, want the products' share of %v", products, weights)
	}
	if want := r["decode_tok_s"].(float64) / cb; math.Abs(num("decode_of_compute_bound")-want) > 1e-9*want {
		t.Errorf("decode_of_compute_bound = %v, want %v", r["decode_of_compute_bound"], want)
	}
}
