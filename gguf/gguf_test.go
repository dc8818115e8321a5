package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ferry/dtype"
)

func fixture(t testing.TB, name string) string {
	p := filepath.Join("..", "..", "shared", "fixtures", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s absent (../shared/fixtures is provided in CI): %v", p, err)
	}
	return p
}

func sample(t testing.TB) []byte {
	t.Helper()
	kv := []KV{
		{"general.architecture", String("llama")},
		{"general.alignment", Uint32(64)},
		{"llama.rope.freq_base", Float32(10000)},
		{"flag", Bool(true)},
		{"i64", Value{TypeInt64, int64(-5)}},
		{"tokens", ArrayOf(TypeString, []string{"<s>", "a", "b"})},
		{"scores", ArrayOf(TypeFloat32, []float32{0, -1, -2})},
		{"nested", ArrayOf(TypeArray, []Array{{Elem: TypeInt32, Values: []int32{1, 2}}, {Elem: TypeString, Values: []string{"x"}}})},
	}
	tensors := []TensorInfo{
		{Name: "a", Shape: []uint64{4, 2}, Type: dtype.F32},
		{Name: "b", Shape: []uint64{64}, Type: dtype.Q8_0},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, kv, tensors)
	if err != nil {
		t.Fatal(err)
	}
	a := make([]byte, 32)
	for i := range a {
		a[i] = byte(i)
	}
	if err := w.WriteTensor(a); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor(make([]byte, 68)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	data := sample(t)
	f, err := Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || f.Architecture() != "llama" || f.Alignment != 64 {
		t.Fatalf("header: version %d arch %q align %d", f.Version, f.Architecture(), f.Alignment)
	}
	if v, _ := f.Float("llama.rope.freq_base"); v != 10000 {
		t.Errorf("freq_base = %v", v)
	}
	if v, _ := f.Int("i64"); v != -5 {
		t.Errorf("i64 = %v", v)
	}
	if b, _ := f.Bool("flag"); !b {
		t.Errorf("flag false")
	}
	if s, _ := f.Strings("tokens"); strings.Join(s, ",") != "<s>,a,b" {
		t.Errorf("tokens = %v", s)
	}
	n, _ := f.Array("nested")
	inner := n.Values.([]Array)
	if len(inner) != 2 || inner[0].Values.([]int32)[1] != 2 || inner[1].Values.([]string)[0] != "x" {
		t.Errorf("nested = %#v", n)
	}
	a := f.Tensor("a")
	if a == nil || a.Size != 32 || a.Offset%64 != 0 || data[a.Offset+5] != 5 {
		t.Fatalf("tensor a = %+v", a)
	}
	b := f.Tensor("b")
	if b.Size != 68 || b.Type != dtype.Q8_0 || b.Offset != f.DataOffset+64 {
		t.Fatalf("tensor b = %+v (data offset %d)", b, f.DataOffset)
	}
}

// TestBadInput checks that each kind of malformed file gets an error naming
// the problem.
func TestBadInput(t *testing.T) {
	good := sample(t)
	f, _ := Parse(bytes.NewReader(good), int64(len(good)))
	cases := []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"empty", func(b []byte) []byte { return nil }, "too short"},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, "bad magic"},
		{"version 1", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 1); return b }, "unsupported version 1"},
		{"version 7", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 7); return b }, "unsupported version 7"},
		{"huge tensor count", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[8:], 1<<40); return b }, "tensor count"},
		{"huge kv count", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[16:], 1<<40); return b }, "metadata count"},
		{"huge key length", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[24:], 1<<50); return b }, "exceeds the file"},
		{"truncated header", func(b []byte) []byte { return b[:200] }, "truncated"},
		{"truncated data", func(b []byte) []byte { return b[:len(b)-70] }, "past the end"},
		{"unknown weight type", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\x01\x00\x00\x00\x00\x00\x00\x00b\x01\x00\x00\x00"))
			binary.LittleEndian.PutUint32(b[i+9+4+8:], 99)
			return b
		}, "unknown weight type 99"},
		{"data past end", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\x01\x00\x00\x00\x00\x00\x00\x00b\x01\x00\x00\x00"))
			binary.LittleEndian.PutUint64(b[i+9+4+8+4:], 1<<20)
			return b
		}, "past the end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.edit(append([]byte(nil), good...))
			_, err := Parse(bytes.NewReader(b), int64(len(b)))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
	// Every truncation of a valid file that cuts into its data must fail cleanly.
	last := f.Tensors[len(f.Tensors)-1]
	for n := 0; n < int(last.Offset+last.Size); n++ {
		if _, err := Parse(bytes.NewReader(good[:n]), int64(n)); err == nil {
			t.Fatalf("truncation to %d bytes accepted", n)
		} else if !errors.Is(err, ErrFormat) && !strings.Contains(err.Error(), "unsupported") {
			t.Fatalf("truncation to %d: unexpected error %v", n, err)
		}
	}
}

func TestFixtures(t *testing.T) {
	f, err := Open(fixture(t, "models/dense-llama-q4_k_m.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Architecture() != "llama" {
		t.Errorf("arch %q", f.Architecture())
	}
	if n, _ := f.Int("llama.block_count"); n != 2 {
		t.Errorf("block_count %d", n)
	}
	emb := f.Tensor("token_embd.weight")
	if emb == nil || emb.Shape[0] != 256 || emb.Shape[1] != 512 {
		t.Fatalf("token_embd = %+v", emb)
	}
	var sum int64
	for _, t := range f.Tensors {
		sum += t.Size
	}
	if sum > f.FileSize-f.DataOffset {
		t.Errorf("tensor bytes %d exceed data section %d", sum, f.FileSize-f.DataOffset)
	}
	v, err := Open(fixture(t, "tokenizer/ggml-vocab-gpt-2.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if toks, _ := v.Strings("tokenizer.ggml.tokens"); len(toks) < 50000 {
		t.Errorf("gpt-2 vocab has %d tokens", len(toks))
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample(f))
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, ti := range g.Tensors {
			if ti.Offset < 0 || ti.Size < 0 || ti.Offset+ti.Size > int64(len(data)) {
				t.Fatalf("tensor %q outside file", ti.Name)
			}
		}
	})
}

// TestEveryValueType writes metadata of every kind and reads it back.
func TestEveryValueType(t *testing.T) {
	kvs := []KV{
		{"a.u8", Value{TypeUint8, uint8(7)}},
		{"a.i8", Value{TypeInt8, int8(-7)}},
		{"a.u16", Value{TypeUint16, uint16(700)}},
		{"a.i16", Value{TypeInt16, int16(-700)}},
		{"a.u32", Uint32(70000)},
		{"a.i32", Value{TypeInt32, int32(-70000)}},
		{"a.f32", Float32(1.5)},
		{"a.bool", Bool(true)},
		{"a.str", String("héllo")},
		{"a.u64", Value{TypeUint64, uint64(1 << 40)}},
		{"a.i64", Value{TypeInt64, int64(-1 << 40)}},
		{"a.f64", Value{TypeFloat64, 2.25}},
		{"a.strs", ArrayOf(TypeString, []string{"x", "", "yz"})},
		{"a.i32s", ArrayOf(TypeInt32, []int32{1, -2, 3})},
		{"a.f32s", ArrayOf(TypeFloat32, []float32{0.5})},
		{"a.bools", ArrayOf(TypeBool, []bool{true, false})},
		{"a.u8s", ArrayOf(TypeUint8, []uint8{1, 2, 3})},
		{"a.i16s", ArrayOf(TypeInt16, []int16{-1, 2})},
		{"a.u64s", ArrayOf(TypeUint64, []uint64{1 << 50})},
		{"a.f64s", ArrayOf(TypeFloat64, []float64{-0.25})},
		{"a.nested", ArrayOf(TypeArray, []Array{{Elem: TypeUint32, Values: []uint32{1, 2}}, {Elem: TypeArray, Values: []Array{{Elem: TypeString, Values: []string{"deep"}}}}})},
		{"general.alignment", Uint32(64)},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, kvs, []TensorInfo{{Name: "t", Shape: []uint64{256, 2}, Type: dtype.Q4_K}})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteTensor(make([]byte, 288))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range kvs {
		got, ok := f.Lookup(kv.Key)
		if !ok || got.Type != kv.Value.Type || !reflect.DeepEqual(got.V, kv.Value.V) {
			t.Errorf("%s: got %#v, wrote %#v", kv.Key, got, kv.Value)
		}
	}
	if tt := f.Tensor("t"); tt == nil || tt.Size != 288 || tt.Offset%64 != 0 {
		t.Errorf("tensor %+v", tt)
	}
	// A value whose Go type does not match its declared type is refused.
	if _, err := NewWriter(&buf, []KV{{"bad", Value{TypeUint32, "x"}}}, nil); err == nil {
		t.Error("mismatched value type accepted")
	}
}
