package model

import (
	"strings"
	"testing"

	"ferry/gguf"
	"ferry/internal/fixtures"
	"ferry/kv"
	"ferry/sample"
	"ferry/tier"
)

// load opens a model with every weight resident, or, with a budget, with
// the weights that do not fit streamed from disk.
func load(t *testing.T, path string, budget int64, opts tier.Options) (*Transformer, *tier.Store) {
	t.Helper()
	g, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	store, err := tier.OpenFile(path, g, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m, err := Load(g, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(m.Schedule(), budget); err != nil {
		t.Fatal(err)
	}
	m.PackWeights() // as the engine does
	return m, store
}

// scheduleBytes returns the bytes of the weights m's forward pass reads.
func scheduleBytes(m *Transformer) int64 {
	var total int64
	for _, u := range tier.Units(m.Schedule()) {
		total += u.Bytes
	}
	return total
}

// sameLogits runs tokens through a and b, the first prompt of them as one
// batch and the rest one at a time, each model with a cache of ctx
// positions, and fails at the first logit in which the two differ (what
// names the runs in the message).
func sameLogits(t *testing.T, a, b *Transformer, tokens []int32, prompt, ctx int, what string) {
	t.Helper()
	ca, cb := kv.New(a.Blocks, ctx, a.KVHeads, a.HeadDim), kv.New(b.Blocks, ctx, b.KVHeads, b.HeadDim)
	for pos := 0; pos < len(tokens); {
		step := 1
		if pos == 0 {
			step = prompt
		}
		la, err := a.Forward(tokens[pos:pos+step], pos, ca, true)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := b.Forward(tokens[pos:pos+step], pos, cb, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range la {
			if la[i] != lb[i] {
				t.Fatalf("%s: position %d: logit %d differs: %v against %v", what, pos, i, la[i], lb[i])
			}
		}
		pos += step
	}
}

// TestFixtures checks every reference model against llama.cpp: the logits of
// the prompt evaluated as one batch, then the greedy continuation token by
// token with its logits.
func TestFixtures(t *testing.T) {
	for _, name := range fixtures.Names {
		t.Run(name, func(t *testing.T) {
			ref := fixtures.Load(t, name)
			m, _ := load(t, ref.Path, 0, tier.Options{})
			cache := kv.New(m.Blocks, 256, m.KVHeads, m.HeadDim)
			logits, err := m.Forward(ref.PromptTokens, 0, cache, true)
			if err != nil {
				t.Fatal(err)
			}
			tol := fixtures.Tolerance(name)
			e := fixtures.NRMSE(logits, ref.Logits)
			agree := fixtures.ArgmaxAgreement(logits, ref.Logits, ref.NVocab)
			t.Logf("prompt logits: NRMSE %.2e (limit %.0e), argmax agreement %.0f%%", e, tol, 100*agree)
			if e > tol || agree < 0.9 {
				t.Errorf("prompt logits: NRMSE %.3e (limit %.0e), argmax agreement %.2f", e, tol, agree)
			}
			// Greedy continuation: feed the reference tokens one at a time.
			pos := len(ref.PromptTokens)
			next := sample.Greedy(logits[len(logits)-ref.NVocab:])
			var got []float32
			var gen []int32
			for i, tok := range ref.GreedyTokens {
				gen = append(gen, next)
				l, err := m.Forward([]int32{tok}, pos+i, cache, false)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, l...)
				next = sample.Greedy(l)
			}
			ge := fixtures.NRMSE(got, ref.Greedy)
			t.Logf("greedy logits: NRMSE %.2e", ge)
			if ge > tol {
				t.Errorf("greedy logits NRMSE %.3e > %.0e", ge, tol)
			}
			if fixtures.ExactGreedy(name) {
				for i := range gen {
					if gen[i] != ref.GreedyTokens[i] {
						t.Fatalf("greedy token %d = %d, llama.cpp %d (got %v, want %v)", i, gen[i], ref.GreedyTokens[i], gen, ref.GreedyTokens)
					}
				}
			}
		})
	}
}

// TestOffloadedMatchesInMemory runs every fixture with a weight budget of a
// third of its size, so that most spans stream from disk through the staging
// ring, and checks the logits are bit-identical to the in-memory run, the
// schedule is followed (no resyncs) and bytes were really streamed.
func TestOffloadedMatchesInMemory(t *testing.T) {
	for _, name := range fixtures.Names {
		t.Run(name, func(t *testing.T) {
			ref := fixtures.Load(t, name)
			mem, _ := load(t, ref.Path, 0, tier.Options{})
			total := scheduleBytes(mem)
			off, store := load(t, ref.Path, total/3, tier.Options{SpanBytes: 32 << 10})
			if p := store.Placement(); p.StreamedBytes == 0 || p.ResidentBytes+p.StagingBytes > total/3 {
				t.Fatalf("placement %+v does not stream within budget %d", p, total/3)
			}
			tokens := append(append([]int32{}, ref.PromptTokens...), ref.GreedyTokens...)
			sameLogits(t, mem, off, tokens, len(ref.PromptTokens), 256, "in memory against offloaded")
			st := store.Stats()
			if st.BytesRead == 0 || st.Resyncs != 0 {
				t.Fatalf("stats %+v: want bytes streamed and no resyncs", st)
			}
			if !strings.HasPrefix(name, "moe") && st.SpansSkipped != 0 {
				t.Fatalf("dense model skipped %d prefetched spans", st.SpansSkipped)
			}
		})
	}
}

// TestDecodeAllocatesNothing checks that a decode step, once warm, makes no
// heap allocation: the per-token loop reuses its buffers.
func TestDecodeAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("skipped: the race detector allocates on its own")
	}
	for _, name := range []string{"dense-llama-q4_k_m", "moe-mixtral-q4_k_m"} {
		ref := fixtures.Load(t, name)
		m, _ := load(t, ref.Path, 0, tier.Options{})
		cache := kv.New(m.Blocks, 256, m.KVHeads, m.HeadDim)
		tok := []int32{ref.PromptTokens[0]}
		pos := 0
		step := func() {
			if _, err := m.Forward(tok, pos, cache, false); err != nil {
				t.Fatal(err)
			}
			pos++
		}
		step()
		if n := testing.AllocsPerRun(20, step); n != 0 {
			t.Errorf("%s: %.1f allocations per decode step", name, n)
		}
	}
}
