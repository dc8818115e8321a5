package model

import (
	"context"
	"path/filepath"
	"testing"

	"ferry/convert"
	"ferry/kernels"
	"ferry/synth"
	"ferry/tier"
)

// TestTiedOutputPacked runs a model whose output matrix is its embedding
// table (no output.weight, as Llama 3.2 and small Qwen2 models ship):
// held in memory, the table is packed for the output head's products and
// each token's embedding is unpacked from it (embedRow); streamed in
// spans, the same rows come from the file. The logits of the two runs,
// a prompt as one batch and then token by token, must be the same bits.
func TestTiedOutputPacked(t *testing.T) {
	ft, err := convert.ParseFileType("Q4_K_M")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tied.gguf")
	shape := synth.Shape{Name: "tied", Arch: "llama", Dim: 512, Layers: 2, Heads: 8, KVHeads: 2,
		FFN: 2560, Vocab: 1024, Context: 256, RopeBase: 1e4, NormEps: 1e-5, Tied: true}
	if err := synth.Write(context.Background(), path, synth.Options{Shape: shape, FileType: ft, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	mem, _ := load(t, path, 0, tier.Options{})
	if mem.Output.Weight != mem.Embed {
		t.Fatal("the synthesized model's output is not tied to its embedding table")
	}
	packed := mem.Embed.SpanType(0) != mem.Embed.Type
	if !packed && kernels.SIMD() {
		t.Errorf("the tied embedding table (%v) was not packed", mem.Embed.Type)
	}
	off, store := load(t, path, scheduleBytes(mem)/3, tier.Options{SpanBytes: 32 << 10})
	tokens := make([]int32, 24)
	for i := range tokens {
		tokens[i] = int32(37*i+11) % int32(shape.Vocab)
	}
	sameLogits(t, mem, off, tokens, 16, 64, "in memory against streamed")
	if store.Stats().RowReads == 0 {
		t.Error("the streamed run read no embedding rows from the file")
	}
}
