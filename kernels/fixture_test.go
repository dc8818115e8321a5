package kernels_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"ferry/dtype"
	"ferry/kernels"
	"ferry/quant"
)

// A minimal, test-only GGUF (v2/v3) tensor reader, so that these tests do not
// depend on package gguf.

type ggufTensor struct {
	name string
	dims []uint64
	typ  dtype.Type
	data []byte
}

func readGGUF(path string) (map[string]*ggufTensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := 0
	fail := errors.New("truncated")
	need := func(n int) bool { return p+n <= len(b) && n >= 0 }
	u32 := func() uint32 {
		if !need(4) {
			panic(fail)
		}
		v := binary.LittleEndian.Uint32(b[p:])
		p += 4
		return v
	}
	u64 := func() uint64 {
		if !need(8) {
			panic(fail)
		}
		v := binary.LittleEndian.Uint64(b[p:])
		p += 8
		return v
	}
	str := func() string {
		n := int(u64())
		if !need(n) {
			panic(fail)
		}
		s := string(b[p : p+n])
		p += n
		return s
	}
	var skip func(t uint32) uint64 // skips a value, returning it if integral
	skip = func(t uint32) uint64 {
		switch t {
		case 0, 1, 7: // u8 i8 bool
			p++
			return uint64(b[p-1])
		case 2, 3: // u16 i16
			p += 2
			return uint64(binary.LittleEndian.Uint16(b[p-2:]))
		case 4, 5, 6: // u32 i32 f32
			return uint64(u32())
		case 10, 11, 12: // u64 i64 f64
			return u64()
		case 8:
			str()
		case 9:
			at := u32()
			n := u64()
			for i := uint64(0); i < n; i++ {
				skip(at)
			}
		default:
			panic(fmt.Errorf("bad kv type %d", t))
		}
		return 0
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", path, r)
		}
	}()
	if string(b[:4]) != "GGUF" {
		return nil, fmt.Errorf("%s: not GGUF", path)
	}
	p = 4
	if v := u32(); v != 2 && v != 3 {
		return nil, fmt.Errorf("%s: GGUF version %d", path, v)
	}
	nt, nkv := u64(), u64()
	align := uint64(32)
	for i := uint64(0); i < nkv; i++ {
		k := str()
		v := skip(u32())
		if k == "general.alignment" {
			align = v
		}
	}
	ts := make([]*ggufTensor, nt)
	offs := make([]uint64, nt)
	for i := range ts {
		t := &ggufTensor{name: str()}
		nd := u32()
		for j := uint32(0); j < nd; j++ {
			t.dims = append(t.dims, u64())
		}
		t.typ = dtype.Type(u32())
		offs[i] = u64()
		ts[i] = t
	}
	base := (uint64(p) + align - 1) / align * align
	out := map[string]*ggufTensor{}
	for i, t := range ts {
		n := uint64(1)
		for _, d := range t.dims {
			n *= d
		}
		size, err := t.typ.RowBytes(int(n))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, t.name, err)
		}
		start := base + offs[i]
		if start+uint64(size) > uint64(len(b)) {
			return nil, fmt.Errorf("%s: %s: data out of range", path, t.name)
		}
		t.data = b[start : start+uint64(size)]
		out[t.name] = t
	}
	return out, nil
}

func fixturesDir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{
		os.Getenv("FERRY_FIXTURES"),
		"../../shared/fixtures/models",
		"../shared/fixtures/models",
		"/work/shared/fixtures/models",
	} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "dense-llama-f32.gguf")); err == nil {
			return d
		}
	}
	t.Skip("fixture models not found (set FERRY_FIXTURES to the directory holding dense-llama-*.gguf)")
	return ""
}

var fixtureFiles = []string{"f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k_m", "q4_k_m", "q5_k_m", "q6_k"}

// fixtureNRMSE bounds the error of llama.cpp's quantized tensors, decoded by
// these kernels, against the float32 originals. Measured maxima over the
// fixtures' 2-D tensors are in the comments.
var fixtureNRMSE = map[dtype.Type]float64{
	dtype.F16:  2.4e-4, // 0.00021
	dtype.BF16: 1.9e-3, // 0.00166
	dtype.Q8_0: 0.0062, // 0.00537
	dtype.Q4_0: 0.098,  // 0.0862
	dtype.Q4_1: 0.09,   // 0.0785
	dtype.Q5_0: 0.049,  // 0.0428
	dtype.Q5_1: 0.044,  // 0.0381
	dtype.Q2_K: 0.33,   // 0.297
	dtype.Q3_K: 0.17,   // 0.151
	dtype.Q4_K: 0.082,  // 0.0717
	dtype.Q5_K: 0.042,  // 0.0363
	dtype.Q6_K: 0.021,  // 0.0178
}

func fixtureF32(t *testing.T, dir string) map[string]*ggufTensor {
	ref, err := readGGUF(filepath.Join(dir, "dense-llama-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func tensorF32(t *testing.T, tn *ggufTensor) []float32 {
	if tn.typ != dtype.F32 {
		t.Fatalf("%s: type %v in the f32 file", tn.name, tn.typ)
	}
	v := make([]float32, len(tn.data)/4)
	kernels.Dequantize(v, tn.data, dtype.F32)
	return v
}

// TestFixtureDequant decodes every 2-D tensor of llama.cpp's quantized
// fixture files and compares it with the same tensor of the f32 file, and
// checks Dot on the real rows against the decoded values.
func TestFixtureDequant(t *testing.T) {
	dir := fixturesDir(t)
	ref := fixtureF32(t, dir)
	seen := map[dtype.Type]bool{}
	worst := map[dtype.Type]float64{}
	for _, f := range fixtureFiles {
		ts, err := readGGUF(filepath.Join(dir, "dense-llama-"+f+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		for name, tn := range ts {
			r := ref[name]
			if len(tn.dims) != 2 || r == nil || tn.typ == dtype.F32 {
				continue
			}
			want := tensorF32(t, r)
			got := make([]float32, len(want))
			kernels.Dequantize(got, tn.data, tn.typ)
			var se, ss float64
			for i := range want {
				d := float64(got[i]) - float64(want[i])
				se += d * d
				ss += float64(want[i]) * float64(want[i])
			}
			e := math.Sqrt(se / ss)
			seen[tn.typ] = true
			worst[tn.typ] = max(worst[tn.typ], e)
			bound, ok := fixtureNRMSE[tn.typ]
			if !ok {
				t.Errorf("%s %s: unexpected type %v", f, name, tn.typ)
				continue
			}
			if e > bound || math.IsNaN(e) {
				t.Errorf("%s %s (%v): NRMSE %.5f against f32 exceeds %.5f", f, name, tn.typ, e, bound)
			}
			// Dot and MatVec on the real blocks agree with the decoded rows.
			cols := int(tn.dims[0])
			rows := len(want) / cols
			rb, _ := tn.typ.RowBytes(cols)
			x := gaussian(uint64(cols), cols)
			y := make([]float32, rows)
			kernels.MatVec(y, tn.data, tn.typ, x)
			for i := 0; i < rows; i += 17 {
				dot, mag := refDot(tn.typ, tn.data[i*rb:(i+1)*rb], x)
				if d := kernels.Dot(tn.typ, tn.data[i*rb:(i+1)*rb], x); !near(d, dot, mag) || d != y[i] {
					t.Fatalf("%s %s row %d: Dot %v, MatVec %v, decoded %v", f, name, i, d, y[i], dot)
				}
			}
		}
	}
	for typ, e := range worst {
		t.Logf("%-5v worst NRMSE vs f32: %.5f", typ, e)
	}
	for typ := range fixtureNRMSE {
		if !seen[typ] {
			t.Errorf("no fixture tensor of type %v", typ)
		}
	}
}

// TestFixtureQuantizeExact quantizes the f32 fixture tensors with package
// quant and compares the bytes with llama.cpp's own quantization of the same
// tensors (the fixtures were made without an importance matrix, so llama.cpp
// used its reference quantizers).
func TestFixtureQuantizeExact(t *testing.T) {
	dir := fixturesDir(t)
	ref := fixtureF32(t, dir)
	type stat struct{ blocks, diff, tensors int }
	stats := map[dtype.Type]*stat{}
	for _, f := range fixtureFiles {
		ts, err := readGGUF(filepath.Join(dir, "dense-llama-"+f+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for name, tn := range ts {
			r := ref[name]
			if r == nil || tn.typ == dtype.F32 {
				continue
			}
			if checked++; raceEnabled && checked > 3 {
				break // a sample is enough under the race detector
			}
			q, err := quant.Quantize(tn.typ, tensorF32(t, r))
			if err != nil {
				t.Fatal(err)
			}
			s := stats[tn.typ]
			if s == nil {
				s = &stat{}
				stats[tn.typ] = s
			}
			s.tensors++
			bb := tn.typ.BlockBytes()
			if tn.typ.BlockSize() == 1 {
				bb *= 32 // count plain types in groups of 32 values
			}
			for o := 0; o < len(q); o += bb {
				s.blocks++
				if string(q[o:min(o+bb, len(q))]) != string(tn.data[o:min(o+bb, len(q))]) {
					s.diff++
				}
			}
		}
	}
	for typ, s := range stats {
		t.Logf("%-5v %2d tensors, %6d blocks, %d differ from llama.cpp", typ, s.tensors, s.blocks, s.diff)
		if s.diff != 0 {
			t.Errorf("%v: %d of %d blocks differ from llama.cpp's quantization", typ, s.diff, s.blocks)
		}
	}
}
