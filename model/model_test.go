package model

import (
	"os"
	"testing"

	"ferry/gguf"
	"ferry/internal/fixtures"
	"ferry/kv"
	"ferry/sample"
	"ferry/tier"
)

func load(t *testing.T, path string) *Transformer {
	t.Helper()
	g, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	store, err := tier.Open(fh, g)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(g, store)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFixtures checks every reference model against llama.cpp: the logits of
// the prompt evaluated as one batch, then the greedy continuation token by
// token with its logits.
func TestFixtures(t *testing.T) {
	for _, name := range fixtures.Names {
		t.Run(name, func(t *testing.T) {
			ref := fixtures.Load(t, name)
			m := load(t, ref.Path)
			cache := kv.New(m.Blocks, 256, m.KVDim())
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
