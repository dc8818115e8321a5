package engine

import (
	"context"
	"testing"

	"ferry/convert"
	"ferry/dtype"
	"ferry/kernels"
	"ferry/tier"

	"ferry/internal/fixtures"
	"ferry/sample"
)

func generate(t *testing.T, e *Engine, prompt []int32, n int) []int32 {
	t.Helper()
	res, err := e.Generate(context.Background(), Request{Prompt: prompt, MaxTokens: n, IgnoreEOS: true})
	if err != nil {
		t.Fatal(err)
	}
	return res.Tokens
}

func same(a, b []int32) bool {
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

// TestOffloadedTokensMatch runs each fixture under a memory budget smaller
// than the model and checks the greedy tokens equal the in-memory run's.
func TestOffloadedTokensMatch(t *testing.T) {
	for _, name := range []string{"dense-llama-q8_0", "dense-llama-f16", "dense-qwen2-f32", "moe-mixtral-q4_k_m", "moe-qwen2moe-f32", "stories260k"} {
		t.Run(name, func(t *testing.T) {
			ref := fixtures.Load(t, name)
			mem, err := Load(ref.Path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := generate(t, mem, ref.PromptTokens, 24)
			var weights int64
			for _, ti := range mem.File.Tensors {
				weights += ti.Size
			}
			mem.Close()
			off, err := Load(ref.Path, Options{WeightBudget: weights / 2, Context: mem.Cache.Context})
			if err != nil {
				t.Fatal(err)
			}
			defer off.Close()
			p := off.Store().Placement()
			if p.StreamedBytes == 0 && off.Experts == nil {
				t.Fatalf("nothing streamed under a weight budget of %d for %d bytes of weights", weights/2, weights)
			}
			got := generate(t, off, ref.PromptTokens, 24)
			if !same(got, want) {
				t.Fatalf("offloaded tokens %v, in-memory %v", got, want)
			}
			if off.Store().Stats().BytesRead+off.ExpertStats().BytesRead == 0 {
				t.Fatal("no bytes streamed")
			}
		})
	}
}

// TestPackedWeights checks that resident Q4_K and F16 weights are packed
// into the kernels' layouts (where this CPU's kernels have them), that the
// embedding table is not, and that the packed model generates the tokens
// of the file's layout (--no-pack).
func TestPackedWeights(t *testing.T) {
	for _, c := range []struct {
		name string
		typ  dtype.Type
	}{{"dense-llama-q4_k_m", dtype.Q4_K}, {"dense-llama-f16", dtype.F16}} {
		t.Run(c.name, func(t *testing.T) {
			ref := fixtures.Load(t, c.name)
			plain, err := Load(ref.Path, Options{NoPack: true})
			if err != nil {
				t.Fatal(err)
			}
			want := generate(t, plain, ref.PromptTokens, 24)
			for _, tn := range plain.Store().Tensors() {
				if tn.Spans() > 0 && tn.SpanType(0) != tn.Type {
					t.Fatalf("--no-pack packed %s", tn.Name)
				}
			}
			plain.Close()
			e, err := Load(ref.Path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			probe := make([]byte, 16*256*c.typ.BlockBytes()/c.typ.BlockSize())
			if kernels.Pack(c.typ, probe, 256) == c.typ {
				t.Logf("no packed %v layout for this CPU: comparing unpacked runs", c.typ)
			} else {
				packed := 0
				for _, tn := range e.Store().Tensors() {
					if tn.Spans() > 0 && tn.SpanType(0) != tn.Type {
						packed++
					}
				}
				if packed == 0 {
					t.Fatal("no tensor was packed")
				}
				if e.Model.Embed.SpanType(0) != e.Model.Embed.Type {
					t.Fatal("the embedding table was packed")
				}
			}
			if got := generate(t, e, ref.PromptTokens, 24); !same(got, want) {
				t.Fatalf("packed tokens %v, file layout %v", got, want)
			}
		})
	}
}

// TestBufferedFallback streams through the page cache (--no-direct, what
// ferry does where O_DIRECT is refused) and checks the tokens still match.
func TestBufferedFallback(t *testing.T) {
	ref := fixtures.Load(t, "dense-llama-q4_k_m")
	mem, err := Load(ref.Path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := generate(t, mem, ref.PromptTokens, 12)
	weights := mem.WeightBytesPerToken()
	mem.Close()
	e, err := Load(ref.Path, Options{WeightBudget: weights / 2, NoDirect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Store().Direct() {
		t.Fatal("NoDirect store reads with O_DIRECT")
	}
	if got := generate(t, e, ref.PromptTokens, 12); !same(got, want) {
		t.Fatalf("buffered streaming tokens %v, in-memory %v", got, want)
	}
	if e.Store().Stats().BytesRead == 0 {
		t.Fatal("nothing streamed")
	}
}

// TestBudgetTooSmall checks that a budget that cannot hold the working set
// is refused before anything runs, with the itemization in the message.
func TestBudgetTooSmall(t *testing.T) {
	ref := fixtures.Load(t, "dense-llama-f32")
	_, err := Load(ref.Path, Options{Mem: 1 << 20})
	if err == nil {
		t.Fatal("a 1 MiB budget was accepted")
	}
	t.Log(err)
	for _, want := range []string{"cannot hold the working set", "KV cache", "activations"} {
		if !contains(err.Error(), want) {
			t.Fatalf("error %q lacks %q", err, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestGenerateBatchMatchesSingle checks that sequences generated together in
// one batch get exactly the tokens they get alone, and that a batch step
// reads the weights once for all sequences.
func TestGenerateBatchMatchesSingle(t *testing.T) {
	ref := fixtures.Load(t, "dense-llama-q4_k_m")
	e, err := Load(ref.Path, Options{Parallel: 4, Context: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	prompts := [][]int32{ref.PromptTokens, ref.PromptTokens[:5], {1, 7, 9}, ref.PromptTokens[3:]}
	var want [][]int32
	for _, p := range prompts {
		want = append(want, generate(t, e, p, 10+len(p)%5))
	}
	var reqs []Request
	for i, p := range prompts {
		reqs = append(reqs, Request{Prompt: p, MaxTokens: len(want[i]), IgnoreEOS: true, Sampling: sample.Params{}})
	}
	res, st, err := e.GenerateBatch(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res {
		if !same(res[i].Tokens, want[i]) {
			t.Fatalf("sequence %d: batched %v, alone %v", i, res[i].Tokens, want[i])
		}
	}
	longest := 0
	for _, w := range want {
		longest = max(longest, len(w))
	}
	if st.Steps != longest-1 {
		t.Fatalf("%d decode steps for a longest sequence of %d tokens", st.Steps, longest)
	}
}

// TestLowBitExperts measures mixed precision on a miss (HOBBIT): with Q4_K
// copies of the experts of the F32 Mixtral fixture and a threshold every
// routed weight is below, every miss reads a copy. The logits move away
// from the exact run, but no further from llama.cpp's F32 reference than
// llama.cpp's own Q4_K_M file of the model, and the expert bytes read shrink.
func TestLowBitExperts(t *testing.T) {
	ref := fixtures.Load(t, "moe-mixtral-f32")
	low := t.TempDir() + "/lowbit.gguf"
	if err := convert.LowBitExperts(context.Background(), ref.Path, low, dtype.Q4_K, convert.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	run := func(lowbit string) ([]float32, tier.ExpertStats) {
		e, err := Load(ref.Path, Options{ExpertPolicy: "lru", ExpertSlots: 4, ExpertLowBit: lowbit, ExpertLowBitThreshold: 1.01})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		logits, err := e.Eval(ref.PromptTokens)
		if err != nil {
			t.Fatal(err)
		}
		return logits, e.ExpertStats()
	}
	exact, st0 := run("")
	approx, st1 := run(low)
	if st1.LowBitLoads == 0 || st1.BytesRead >= st0.BytesRead/2 {
		t.Fatalf("low-bit loads %d, bytes %d vs exact %d", st1.LowBitLoads, st1.BytesRead, st0.BytesRead)
	}
	dExact := fixtures.NRMSE(approx, exact)
	dRef := fixtures.NRMSE(approx, ref.Logits)
	t.Logf("low-bit experts: NRMSE %.2e vs the exact run, %.2e vs llama.cpp; expert bytes %d -> %d", dExact, dRef, st0.BytesRead, st1.BytesRead)
	if dExact == 0 {
		t.Fatal("low-bit copies changed nothing")
	}
	// Bound: how far llama.cpp's own Q4_K_M quantization of this model moves
	// its logits; low-bit experts alone must move them no further.
	q := fixtures.Load(t, "moe-mixtral-q4_k_m")
	bound := fixtures.NRMSE(q.Logits, ref.Logits)
	agree := fixtures.ArgmaxAgreement(approx, ref.Logits, ref.NVocab)
	qAgree := fixtures.ArgmaxAgreement(q.Logits, ref.Logits, ref.NVocab)
	t.Logf("llama.cpp Q4_K_M vs F32: NRMSE %.2e, argmax agreement %.2f; low-bit experts: %.2f", bound, qAgree, agree)
	if dRef > bound || agree < qAgree {
		t.Fatalf("low-bit run too far from the reference: NRMSE %.3e (bound %.3e), agreement %.2f (bound %.2f)", dRef, bound, agree, qAgree)
	}
}

// TestKVCacheTooLarge checks that a context whose KV cache cannot fit the
// machine's memory is refused before it is allocated.
func TestKVCacheTooLarge(t *testing.T) {
	ref := fixtures.Load(t, "stories260k")
	saved := availableMemory
	availableMemory = func() int64 { return 64 << 20 }
	defer func() { availableMemory = saved }()
	_, err := Load(ref.Path, Options{Context: 1 << 18})
	if err == nil || !contains(err.Error(), "KV cache") {
		t.Fatalf("err = %v", err)
	}
	e, err := Load(ref.Path, Options{Context: 1024})
	if err != nil {
		t.Fatalf("a small context was refused: %v", err)
	}
	e.Close()
}

// TestEmbeddingResidency checks that without a budget the embedding table
// is held in memory (a token's row is no disk read), and that with a
// weight budget it stays out of the placement (rows are read one by one).
func TestEmbeddingResidency(t *testing.T) {
	ref := fixtures.Load(t, "dense-llama-q8_0")
	e, err := Load(ref.Path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Model.Embed == e.Model.Output.Weight {
		t.Skip("the fixture ties its embeddings to the output")
	}
	if !e.Model.Embed.Resident() {
		t.Error("no budget: the embedding table is not resident")
	}
	weights := e.Placement.ResidentBytes
	b, err := Load(ref.Path, Options{WeightBudget: weights / 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Model.Embed.Resident() {
		t.Error("with a weight budget the embedding table was placed in memory")
	}
}
