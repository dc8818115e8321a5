package model

import (
	"context"
	"fmt"
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

// TestGroupedAttention runs models whose query heads share KV heads in
// groups of eight (TinyLlama), four (Llama 3), seven (Qwen2) and five
// (scored as eight), three and two (scored as four), with each group's
// heads scored together and one by one, over a prompt evaluated as a
// batch and then token by token past key block boundaries and far enough
// for decode to split its attention across the cores (attnLanes), each
// unit preparing its own heads, and checks the logits agree within float
// rounding.
func TestGroupedAttention(t *testing.T) {
	// Groups of 7 and 5 are scored as groups of 8, and 3 and 2 as 4
	// (scoredGroup).
	for _, c := range []struct{ heads, kvHeads int }{{8, 1}, {8, 2}, {4, 1}, {7, 1}, {14, 2}, {10, 2}, {12, 4}, {8, 4}} {
		t.Run(fmt.Sprintf("%d-heads-%d-kv", c.heads, c.kvHeads), func(t *testing.T) {
			if scoredGroup(c.heads/c.kvHeads) == 0 {
				t.Skip("no grouped scores on this CPU")
			}
			groupedVsPerHead(t, synth.Shape{Name: "gqa", Arch: "llama", Dim: 64 * c.heads, Layers: 2, Heads: c.heads, KVHeads: c.kvHeads,
				FFN: 512, Vocab: 512, Context: 256, RopeBase: 1e4, NormEps: 1e-5})
		})
	}
}

func groupedVsPerHead(t *testing.T, shape synth.Shape) {
	ft, err := convert.ParseFileType("F32")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gqa.gguf")
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
		cache := kv.New(m.Blocks, 128, m.KVHeads, m.HeadDim)
		logits, err := m.Forward(prompt, 0, cache, true)
		if err != nil {
			t.Fatal(err)
		}
		out := append([]float32(nil), logits...)
		for i := 0; i < 60; i++ { // positions 21..80
			if pos := len(prompt) + i; pos == 80 && grouped && m.KVHeads > 1 && kernels.Participants() > 1 && m.attnLanes(m.KVHeads, 1, pos) < 2 {
				t.Fatalf("attention at position %d not split across the cores", pos)
			}
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
