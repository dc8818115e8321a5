package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/dtype"
	"ferry/gguf"
	"ferry/internal/fixtures"
)

// ferry runs the CLI in-process and returns its exit status and output.
func ferry(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunEmbeddedDefault(t *testing.T) {
	code, out, errs := ferry(t, "run", "-p", "Once upon a time", "-n", "24", "--temp", "0", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res struct {
		PromptTokens []int32 `json:"prompt_tokens"`
		Tokens       []int32 `json:"tokens"`
		Text         string  `json:"text"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	if len(res.Tokens) != 24 || res.PromptTokens[0] != 1 || !strings.Contains(out, res.Text) {
		t.Fatalf("unexpected result %+v", res)
	}
	if !strings.HasPrefix(out, "Once upon a time"+res.Text) {
		t.Fatalf("streamed text %q does not carry the prompt and continuation %q", out, res.Text)
	}
}

// TestRunMatchesLlamaCpp checks the CLI's greedy continuation of stories260k
// against llama.cpp's.
func TestRunMatchesLlamaCpp(t *testing.T) {
	ref := fixtures.Load(t, "stories260k")
	code, out, errs := ferry(t, "run", "-m", ref.Path, "-p", ref.Prompt, "-n", "32", "--temp", "0", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res struct {
		PromptTokens []int32 `json:"prompt_tokens"`
		Tokens       []int32 `json:"tokens"`
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &res)
	if !equal(res.PromptTokens, ref.PromptTokens) {
		t.Fatalf("prompt tokens %v, llama.cpp %v", res.PromptTokens, ref.PromptTokens)
	}
	if !equal(res.Tokens, ref.GreedyTokens) {
		t.Fatalf("tokens %v, llama.cpp %v", res.Tokens, ref.GreedyTokens)
	}
}

func equal(a, b []int32) bool {
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

func TestPromptFromFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "prompt.txt")
	os.WriteFile(p, []byte("Once upon a time"), 0o644)
	code, out, errs := ferry(t, "run", "-f", p, "-n", "8", "--temp", "0", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"prompt_tokens":[1,403,407,261,378]`) {
		t.Fatalf("prompt from file not used: %s", out)
	}
	if code, _, _ := ferry(t, "run", "-f", p, "-p", "x"); code != 2 {
		t.Fatalf("-f with -p: exit %d, want 2", code)
	}
}

func TestEvalWritesLogits(t *testing.T) {
	ref := fixtures.Load(t, "dense-llama-f32")
	out := filepath.Join(t.TempDir(), "l.f32")
	ids := make([]string, len(ref.PromptTokens))
	for i, id := range ref.PromptTokens {
		ids[i] = strings.TrimSpace(strings.Repeat(" ", 0) + itoa(id))
	}
	code, _, errs := ferry(t, "eval", "-m", ref.Path, "--prompt-ids", strings.Join(ids, ","), "--logits", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*len(ref.Logits) {
		t.Fatalf("%d bytes, want %d", len(b), 4*len(ref.Logits))
	}
	got := make([]float32, len(ref.Logits))
	for i := range got {
		got[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	if e := fixtures.NRMSE(got, ref.Logits); e > 2e-3 {
		t.Fatalf("NRMSE %.2e", e)
	}
}

func itoa(v int32) string { b, _ := json.Marshal(v); return string(b) }

func TestTokenize(t *testing.T) {
	code, out, _ := ferry(t, "tokenize", "Once upon a time")
	if code != 0 || strings.TrimSpace(out) != "[1,403,407,261,378]" {
		t.Fatalf("exit %d, %q", code, out)
	}
	code, out, _ = ferry(t, "tokenize", "--no-bos", "--", "Once upon a time")
	if code != 0 || strings.TrimSpace(out) != "[403,407,261,378]" {
		t.Fatalf("--no-bos: exit %d, %q", code, out)
	}
	_, plain, _ := ferry(t, "tokenize", "--no-bos", "<s>")
	_, special, _ := ferry(t, "tokenize", "--no-bos", "--parse-special", "<s>")
	if strings.TrimSpace(special) != "[1]" || strings.TrimSpace(plain) == "[1]" {
		t.Fatalf("--parse-special: plain %q, special %q", plain, special)
	}
}

func TestInspect(t *testing.T) {
	code, out, _ := ferry(t, "inspect", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var res struct {
		Architecture string `json:"architecture"`
		Tensors      []struct {
			Name  string   `json:"name"`
			Shape []uint64 `json:"shape"`
		} `json:"tensors"`
		Hyper map[string]any `json:"hyperparameters"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Architecture != "llama" || len(res.Tensors) != 48 || res.Hyper["block_count"] != 5.0 {
		t.Fatalf("inspect: arch %q, %d tensors, hyper %v", res.Architecture, len(res.Tensors), res.Hyper)
	}
	code, out, _ = ferry(t, "inspect")
	if code != 0 || !strings.Contains(out, "blk.4.ffn_down.weight") || !strings.Contains(out, "5 layers") {
		t.Fatalf("text inspect: %s", out)
	}
}

// writeModel writes a tiny GGUF with the given architecture and tensors.
func writeModel(t *testing.T, arch string, tensors []gguf.TensorInfo) string {
	t.Helper()
	kv := []gguf.KV{{Key: "general.architecture", Value: gguf.String(arch)}}
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, kv, tensors)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range w.Tensors() {
		w.WriteTensor(make([]byte, ti.Size))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.gguf")
	os.WriteFile(p, buf.Bytes(), 0o644)
	return p
}

// TestBadInput checks that each kind of bad input ends with a one-line error
// naming the problem and a non-zero exit, never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := fixtures.Load(t, "dense-llama-q8_0").Path
	data, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	badMagic := append([]byte("XXXX"), data[4:]...)
	badVersion := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(badVersion[4:], 9)
	g, _ := gguf.Open(good)
	pastEnd := data[:g.Tensors[len(g.Tensors)-1].Offset+10]
	unknownType := writeModel(t, "llama", []gguf.TensorInfo{{Name: "x", Shape: []uint64{32}, Type: dtype.F32}})
	ub, _ := os.ReadFile(unknownType)
	i := bytes.Index(ub, []byte("x\x01\x00\x00\x00"))
	binary.LittleEndian.PutUint32(ub[i+5+8:], 77)
	long := strings.Repeat("Once upon a time there was a dog. ", 200)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"run", "-m", filepath.Join(dir, "nope.gguf")}, "no such file"},
		{"truncated", []string{"run", "-m", write("trunc.gguf", data[:1000])}, "truncated"},
		{"bad magic", []string{"inspect", "-m", write("magic.gguf", badMagic)}, "bad magic"},
		{"bad version", []string{"run", "-m", write("ver.gguf", badVersion)}, "unsupported version 9"},
		{"data past end", []string{"run", "-m", write("end.gguf", pastEnd)}, "past the end"},
		{"unknown weight type", []string{"inspect", "-m", write("type.gguf", ub)}, "unknown weight type 77"},
		{"unknown architecture", []string{"run", "-m", writeModel(t, "mamba9", []gguf.TensorInfo{{Name: "x", Shape: []uint64{32}, Type: dtype.F32}})}, `unknown architecture "mamba9"`},
		{"prompt too long", []string{"run", "--ctx", "64", "-p", long}, "context"},
		{"eval prompt too long", []string{"eval", "--ctx", "64", "-p", long, "--logits", filepath.Join(dir, "x.f32")}, "context"},
		{"bad token id", []string{"eval", "--prompt-ids", "1,99999", "--logits", filepath.Join(dir, "x.f32")}, "outside the vocabulary"},
		{"bad mem", []string{"run", "--mem", "lots"}, "--mem"},
		{"absurd context", []string{"run", "--ctx", "900000000"}, "context"},
		{"mem too small", []string{"run", "-m", good, "--mem", "2MiB"}, "cannot hold the working set"},
		{"unknown command", []string{"fly"}, "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := ferry(t, c.args...)
			if code == 0 {
				t.Fatal("exit status 0")
			}
			if !strings.Contains(errs, c.want) {
				t.Fatalf("stderr %q does not mention %q", errs, c.want)
			}
			if strings.Count(strings.TrimSpace(errs), "\n") > 0 && c.name != "unknown command" {
				t.Fatalf("error is not one line: %q", errs)
			}
		})
	}
}

// TestDemo runs the README's first command at a small budget: it must
// synthesize a model four times the budget, run it within the budget and
// report the speed beside the disk bound.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: writes a 500 MB model")
	}
	// In-process, the test binary's own memory counts against the budget.
	code, out, errs := ferry(t, "demo", "--mem", "128MiB", "-n", "2", "--dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"in a budget of 128.00 MiB", "streamed from disk per token", "decode:", "disk bound:", "peak RSS:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestCorruptFiles feeds ferry fixture models with bytes flipped in the
// header, cut short, or with their weights scrambled: every run must end
// with an exit status (an error or garbage text), never a panic or a hang.
func TestCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"moe-mixtral-q4_k_m", "dense-qwen2-q8_0"} {
		src, err := os.ReadFile(fixtures.Load(t, name).Path)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(uint64(len(name)), 9))
		for trial := 0; trial < 24; trial++ {
			b := append([]byte(nil), src...)
			switch trial % 3 {
			case 0: // header bytes
				for i := 0; i < 1+r.IntN(8); i++ {
					b[r.IntN(min(len(b), 20000))] = byte(r.IntN(256))
				}
			case 1: // truncation
				b = b[:r.IntN(len(b))]
			case 2: // weights
				for i := 0; i < 50; i++ {
					b[r.IntN(len(b))] = byte(r.IntN(256))
				}
			}
			p := filepath.Join(dir, "c.gguf")
			os.WriteFile(p, b, 0o644)
			for _, args := range [][]string{
				{"inspect", "-m", p},
				{"run", "-m", p, "-n", "3", "--prompt-ids", "1,2,3"},
				{"run", "-m", p, "-n", "2", "--prompt-ids", "1,2", "--mem", "12MiB"},
			} {
				code, _, errs := ferry(t, args...)
				if code != 0 && strings.TrimSpace(errs) == "" {
					t.Fatalf("%s trial %d %v: exit %d with no message", name, trial, args, code)
				}
			}
		}
	}
}
