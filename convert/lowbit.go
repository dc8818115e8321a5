package convert

import (
	"context"
	"fmt"
	"os"
	"strings"

	"ferry/dtype"
	"ferry/gguf"
	"ferry/quant"
)

// LowBitKey is the metadata key of a low-bit expert file that names the
// weight type its experts were converted to.
const LowBitKey = "ferry.expert_lowbit.type"

// IsExpertStack reports whether a tensor name is a stack of MoE routed
// experts (ffn_gate_exps, ffn_up_exps, ffn_down_exps).
func IsExpertStack(name string) bool {
	return strings.HasSuffix(name, "_exps.weight")
}

// LowBitPath returns where the low-bit expert copy of the model at path is
// kept: beside it, as NAME.lowbit-TYPE.gguf.
func LowBitPath(path string, t dtype.Type) string {
	return strings.TrimSuffix(path, ".gguf") + ".lowbit-" + t.String() + ".gguf"
}

// LowBitExperts writes to out a copy of the MoE model in's routed experts
// (and nothing else) in type t, under the same tensor names: the low-bit
// copies that an expert cache loads on a miss for an expert whose router
// weight is small (HOBBIT). The model's metadata is copied so the file
// describes the same model, with LowBitKey added.
func LowBitExperts(ctx context.Context, in, out string, t dtype.Type, w WriteOptions) error {
	if !quant.Supported(t) {
		return fmt.Errorf("cannot encode experts as %v", t)
	}
	g, err := gguf.Open(in)
	if err != nil {
		return err
	}
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	var tensors []Tensor
	for _, ti := range g.Tensors {
		if !IsExpertStack(ti.Name) {
			continue
		}
		if ti.Shape[0]%uint64(t.BlockSize()) != 0 {
			return fmt.Errorf("tensor %s: rows of %d values are not whole %v blocks", ti.Name, ti.Shape[0], t)
		}
		tensors = append(tensors, Tensor{Name: ti.Name, Shape: ti.Shape, Type: t, Encode: Reencode(src, ti, t)})
	}
	if len(tensors) == 0 {
		return fmt.Errorf("%s has no MoE expert tensors (*_exps.weight)", in)
	}
	kv := SetKV(append([]gguf.KV(nil), g.KV...), LowBitKey, gguf.String(t.String()))
	return WriteFile(ctx, out, kv, tensors, w)
}
