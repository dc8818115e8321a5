package convert

import (
	"fmt"
	"strconv"
	"strings"

	"ferry/dtype"
	"ferry/gguf"
)

// FileType is a whole-model quantization target as llama.cpp's
// llama-quantize names it (a LLAMA_FTYPE): a base weight type plus the rules
// that put some tensors in other types (see TensorType).
type FileType struct {
	// Name is llama.cpp's name, such as "Q4_K_M".
	Name string
	// ID is the LLAMA_FTYPE number written as general.file_type.
	ID uint32
	// Base is the type most weights get.
	Base dtype.Type
}

// LLAMA_FTYPE numbers of the file types ferry writes.
const (
	ftypeF32   = 0
	ftypeF16   = 1
	ftypeQ4_0  = 2
	ftypeQ4_1  = 3
	ftypeQ8_0  = 7
	ftypeQ5_0  = 8
	ftypeQ5_1  = 9
	ftypeQ2_K  = 10
	ftypeQ3_KS = 11
	ftypeQ3_KM = 12
	ftypeQ3_KL = 13
	ftypeQ4_KS = 14
	ftypeQ4_KM = 15
	ftypeQ5_KS = 16
	ftypeQ5_KM = 17
	ftypeQ6_K  = 18
	ftypeBF16  = 32
)

var fileTypes = []FileType{
	{"F32", ftypeF32, dtype.F32},
	{"F16", ftypeF16, dtype.F16},
	{"BF16", ftypeBF16, dtype.BF16},
	{"Q8_0", ftypeQ8_0, dtype.Q8_0},
	{"Q4_0", ftypeQ4_0, dtype.Q4_0},
	{"Q4_1", ftypeQ4_1, dtype.Q4_1},
	{"Q5_0", ftypeQ5_0, dtype.Q5_0},
	{"Q5_1", ftypeQ5_1, dtype.Q5_1},
	{"Q2_K", ftypeQ2_K, dtype.Q2_K},
	{"Q3_K_S", ftypeQ3_KS, dtype.Q3_K},
	{"Q3_K_M", ftypeQ3_KM, dtype.Q3_K},
	{"Q3_K_L", ftypeQ3_KL, dtype.Q3_K},
	{"Q4_K_S", ftypeQ4_KS, dtype.Q4_K},
	{"Q4_K_M", ftypeQ4_KM, dtype.Q4_K},
	{"Q5_K_S", ftypeQ5_KS, dtype.Q5_K},
	{"Q5_K_M", ftypeQ5_KM, dtype.Q5_K},
	{"Q6_K", ftypeQ6_K, dtype.Q6_K},
}

// aliases name a file type by its base type alone.
var aliases = map[string]string{"Q3_K": "Q3_K_M", "Q4_K": "Q4_K_S", "Q5_K": "Q5_K_S"}

// FileTypes lists every file type ParseFileType accepts, aliases aside.
func FileTypes() []FileType { return append([]FileType(nil), fileTypes...) }

// FileTypeNames returns the accepted names, aliases included, for help texts.
func FileTypeNames() string {
	var names []string
	for _, ft := range fileTypes {
		names = append(names, ft.Name)
		for a, n := range aliases {
			if n == ft.Name {
				names = append(names, a+" (="+n+")")
			}
		}
	}
	return strings.Join(names, ", ")
}

// ParseFileType returns the file type named s (case-insensitive). Besides
// llama.cpp's names it accepts Q3_K for Q3_K_M, Q4_K for Q4_K_S and Q5_K for
// Q5_K_S.
func ParseFileType(s string) (FileType, error) {
	u := strings.ToUpper(s)
	if a, ok := aliases[u]; ok {
		u = a
	}
	for _, ft := range fileTypes {
		if ft.Name == u {
			return ft, nil
		}
	}
	return FileType{}, fmt.Errorf("unknown file type %q (known: %s)", s, FileTypeNames())
}

// String returns the file type's name.
func (ft FileType) String() string { return ft.Name }

// quantized reports whether the base type is a block-quantized type, the
// condition under which llama.cpp applies its per-tensor rules.
func (ft FileType) quantized() bool {
	switch ft.Base {
	case dtype.F32, dtype.F16, dtype.BF16:
		return false
	}
	return true
}

// ModelInfo holds the hyper-parameters that the per-tensor rules consult.
type ModelInfo struct {
	Arch    string // general.architecture
	Layers  int    // transformer blocks
	Heads   int    // attention heads
	KVHeads int    // key/value heads (grouped-query attention)
	// Experts is the number of routed experts per layer, 0 for dense models.
	Experts int
	// HasOutput says whether the model has its own output.weight; without
	// one, token_embd.weight doubles as the output matrix and gets its rules.
	HasOutput bool
}

// ModelInfoFromGGUF reads the ModelInfo of the model in f.
func ModelInfoFromGGUF(f *gguf.File) ModelInfo {
	m := ModelInfo{Arch: f.Architecture()}
	p := m.Arch + "."
	geti := func(key string) int {
		v, _ := f.Int(p + key)
		return int(v)
	}
	m.Layers = geti("block_count")
	m.Heads = geti("attention.head_count")
	m.KVHeads = geti("attention.head_count_kv")
	m.Experts = geti("expert_count")
	m.HasOutput = f.Tensor("output.weight") != nil
	if m.Layers == 0 {
		// Count the blocks from the tensor names when the metadata lacks them.
		for _, t := range f.Tensors {
			if l := layerOf(t.Name); l >= m.Layers {
				m.Layers = l + 1
			}
		}
	}
	return m
}

func (m ModelInfo) gqa() int {
	if m.KVHeads <= 0 || m.Heads <= 0 {
		return 1
	}
	return m.Heads / m.KVHeads
}

// is70B reports whether llama.cpp would classify the model as LLaMA-2-70B,
// which gets a larger type for attn_v.
func (m ModelInfo) is70B() bool {
	return m.Arch == "llama" && m.Layers == 80 && m.Heads != m.KVHeads
}

// TypeOptions adjust the per-tensor choice of types.
type TypeOptions struct {
	// Pure puts every quantizable weight in the base type, as llama-quantize
	// --pure does (rows that do not fit its blocks still fall back).
	Pure bool
}

// Quantizable reports whether llama.cpp would quantize a tensor: weights of
// two or more dimensions, except norms and MoE router (ffn_gate_inp)
// weights. Everything else (norms, biases, 1-D tensors) stays F32.
func Quantizable(name string, shape []uint64) bool {
	return strings.HasSuffix(name, "weight") && nDims(shape) >= 2 &&
		!strings.Contains(name, "_norm.weight") &&
		!strings.Contains(name, "ffn_gate_inp.weight")
}

// nDims counts dimensions as ggml_n_dims does: trailing 1s do not count.
func nDims(shape []uint64) int {
	n := 1
	for i, d := range shape {
		if d > 1 {
			n = i + 1
		}
	}
	return n
}

// TensorType returns the weight type that file type ft gives the tensor
// name of the given shape (GGML order) in model m. It follows llama.cpp's
// llama_tensor_get_type for the non-IQ file types:
//
//   - tensors that are not Quantizable are F32;
//   - F32, F16 and BF16 file types put every other weight in their type;
//   - output.weight (token_embd.weight when the output is tied) is Q6_K,
//     or Q8_0 for Q8_0 files and rows that are not a multiple of 256;
//   - Q4_K_M and Q5_K_M put attn_v and ffn_down in Q6_K in the layers where
//     "use_more_bits" holds (the first and last eighth and every third
//     layer in between); Q4_K_S puts attn_v in Q5_K in the first 4 layers
//     and ffn_down in the first eighth; Q3_K_M/L, Q2_K and 8-expert models
//     have the rules of llama.cpp as well (see the source);
//   - rows whose length is not a multiple of the chosen type's block fall
//     back as in llama.cpp: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, and
//     Q2_K/Q3_K to Q4_0 (llama.cpp uses IQ4_NL, which ferry does not have);
//     a row that no 32-value block fits is F16.
func (ft FileType) TensorType(m ModelInfo, name string, shape []uint64, opts TypeOptions) dtype.Type {
	if !Quantizable(name, shape) {
		return dtype.F32
	}
	t := ft.Base
	if ft.quantized() && !opts.Pure {
		t = ft.rules(m, name, shape)
	}
	return fallback(t, int(shape[0]))
}

// useMoreBits is llama.cpp's choice of the layers that get more bits.
func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// layerOf returns N of a tensor named blk.N.*, or -1.
func layerOf(name string) int {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return -1
	}
	num, _, ok := strings.Cut(rest, ".")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func (ft FileType) rules(m ModelInfo, name string, shape []uint64) dtype.Type {
	t := ft.Base
	id := ft.ID
	falcon := m.Arch == "falcon"
	i, n := max(layerOf(name), 0), max(m.Layers, 1)
	switch {
	case name == "output.weight" || (!m.HasOutput && name == "token_embd.weight"):
		if falcon || shape[0]%dtype.QK_K != 0 {
			return dtype.Q8_0
		}
		if t != dtype.Q8_0 {
			return dtype.Q6_K
		}
	case name == "token_embd.weight":
		// No rule for the file types ferry writes.
	case strings.Contains(name, "attn_v.weight"):
		switch {
		case id == ftypeQ2_K:
			t = dtype.Q3_K
			if m.gqa() >= 4 {
				t = dtype.Q4_K
			}
		case id == ftypeQ3_KM:
			t = dtype.Q4_K
			if i < 2 {
				t = dtype.Q5_K
			}
		case id == ftypeQ3_KL:
			t = dtype.Q5_K
		case (id == ftypeQ4_KM || id == ftypeQ5_KM) && useMoreBits(i, n):
			t = dtype.Q6_K
		case id == ftypeQ4_KS && i < 4:
			t = dtype.Q5_K
		}
		if m.is70B() && (t == dtype.Q3_K || t == dtype.Q4_K) {
			t = dtype.Q5_K
		}
		if m.Experts == 8 {
			t = dtype.Q8_0
		}
	case strings.Contains(name, "attn_k.weight"):
		if m.Experts == 8 {
			t = dtype.Q8_0
		}
	case strings.Contains(name, "ffn_down"):
		switch {
		case id == ftypeQ2_K:
			t = dtype.Q3_K
		case id == ftypeQ3_KM:
			switch {
			case i < n/16:
				t = dtype.Q5_K
			case !falcon || useMoreBits(i, n):
				t = dtype.Q4_K
			}
		case id == ftypeQ3_KL:
			t = dtype.Q5_K
			if falcon {
				t = dtype.Q4_K
			}
		case id == ftypeQ4_KM:
			if falcon {
				switch {
				case i < n/16:
					t = dtype.Q6_K
				case useMoreBits(i, n):
					t = dtype.Q5_K
				}
			} else if useMoreBits(i, n) {
				t = dtype.Q6_K
			}
		case id == ftypeQ5_KM && useMoreBits(i, n):
			t = dtype.Q6_K
		case id == ftypeQ4_KS && !falcon && i < n/8:
			t = dtype.Q5_K
		}
	case strings.Contains(name, "attn_output.weight"):
		switch {
		case falcon:
			if id == ftypeQ3_KL {
				t = dtype.Q4_K
			}
		case m.Experts == 8:
			switch id {
			case ftypeQ2_K, ftypeQ3_KS, ftypeQ3_KM, ftypeQ4_KS, ftypeQ4_KM:
				t = dtype.Q5_K
			}
		default:
			switch id {
			case ftypeQ2_K:
				t = dtype.Q3_K
			case ftypeQ3_KM:
				t = dtype.Q4_K
			case ftypeQ3_KL:
				t = dtype.Q5_K
			}
		}
	case strings.Contains(name, "attn_qkv.weight"):
		switch id {
		case ftypeQ3_KM, ftypeQ3_KL:
			t = dtype.Q4_K
		case ftypeQ4_KM:
			t = dtype.Q5_K
		case ftypeQ5_KM:
			t = dtype.Q6_K
		}
	}
	return t
}

// fallback returns t, or the type llama.cpp falls back to when a row of
// cols values is not a whole number of t's blocks.
func fallback(t dtype.Type, cols int) dtype.Type {
	if cols%t.BlockSize() == 0 {
		return t
	}
	switch t {
	case dtype.Q4_K:
		t = dtype.Q5_0
	case dtype.Q5_K:
		t = dtype.Q5_1
	case dtype.Q6_K:
		t = dtype.Q8_0
	case dtype.Q2_K, dtype.Q3_K:
		t = dtype.Q4_0
	default:
		t = dtype.F16
	}
	if cols%t.BlockSize() != 0 {
		t = dtype.F16
	}
	return t
}
