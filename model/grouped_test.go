package model

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"ferry/convert"
	"ferry/internal/fixtures"
	"ferry/kernels"
	"ferry/kv"
	"ferry/synth"
	"ferry/tier"
)

// TestGroupedAttention runs a model whose eight query heads share each KV
// head (as TinyLlama's do) with the heads scored together and one by one,
// over a prompt evaluated as a batch and then token by token past a key
// block boundary, and checks the logits agree within float rounding.
func TestGroupedAttention(t *testing.T) {
	if !kernels.GroupedScores(8) {
		t.Skip("no grouped scores on this CPU")
	}
	ft, err := convert.ParseFileType("F32")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gqa8.gguf")
	shape := synth.Shape{Name: "gqa8", Arch: "llama", Dim: 512, Layers: 2, Heads: 8, KVHeads: 1, FFN: 512,
		Vocab: 512, Context: 256, RopeBase: 1e4, NormEps: 1e-5}
	if err := synth.Write(context.Background(), path, synth.Options{Shape: shape, FileType: ft, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	prompt := make([]int32, 21)
	for i := range prompt {
		prompt[i] = int32(7*i+3) % 256
	}
	run := func(grouped bool) []float32 {
		saved := groupedScores
		if !grouped {
			groupedScores = func(int) bool { return false }
		}
		defer func() { groupedScores = saved }()
		m, _ := load(t, path, 0, tier.Options{})
		cache := kv.New(m.Blocks, 64, m.KVDim())
		logits, err := m.Forward(prompt, 0, cache, true)
		if err != nil {
			t.Fatal(err)
		}
		out := append([]float32(nil), logits...)
		for i := 0; i < 15; i++ { // positions 21..35: past the second block
			l, err := m.Forward([]int32{int32(i * 11 % 256)}, len(prompt)+i, cache, false)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, l...)
		}
		return out
	}
	want, got := run(false), run(true)
	if len(got) != len(want) {
		t.Fatalf("%d logits, want %d", len(got), len(want))
	}
	for _, v := range got {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatal("non-finite logit")
		}
	}
	if e := fixtures.NRMSE(got, want); e > 1e-4 { // the sums are taken in another order
		t.Fatalf("grouped vs per-head logits: NRMSE %.2e", e)
	}
}
