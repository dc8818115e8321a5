// Package convert changes the weight types of GGUF models, as llama.cpp's
// llama-quantize does, and holds what ferry's file writers share: the
// per-tensor choice of types for a file type such as Q4_K_M (FileType,
// TensorType), a streaming GGUF writer that encodes rows in parallel and
// never holds a whole tensor (Write, WriteFile), and a progress bar.
//
// Quantization uses package quant, whose quantizers reproduce llama.cpp's
// reference quantizers, and the per-tensor rules follow llama.cpp's, so
// converting an F32 model gives the bytes llama-quantize gives (without an
// importance matrix).
package convert

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"ferry/dtype"
	"ferry/gguf"
	"ferry/kernels"
	"ferry/quant"
)

// QuantizationVersion is the value written as general.quantization_version
// (GGML_QNT_VERSION).
const QuantizationVersion = 2

// Options configure Convert.
type Options struct {
	// FileType is the target.
	FileType FileType
	// Types adjusts the per-tensor choice of types.
	Types TypeOptions
	// Write tunes the writer (threads, progress).
	Write WriteOptions
}

// Planned is one tensor of a conversion's output and the input tensor it is
// computed from.
type Planned struct {
	// Out is the output tensor: Name, Shape and Type.
	Out gguf.TensorInfo
	// Source is the input tensor whose values Out holds.
	Source gguf.TensorInfo
}

// Plan decides the output tensors of converting the model f to file type
// ft: one per input tensor, in the input's order, typed by ft.TensorType.
// Tensors of a type ferry cannot decode are copied as they are.
//
// Further outputs (such as low-bit copies of MoE experts) belong here: an
// extra Planned entry with its own name and type and the expert tensor as
// Source is all Convert needs.
func Plan(f *gguf.File, ft FileType, opts TypeOptions) ([]Planned, error) {
	info := ModelInfoFromGGUF(f)
	var out []Planned
	for _, t := range f.Tensors {
		typ := t.Type
		if kernels.Supported(t.Type) {
			typ = ft.TensorType(info, t.Name, t.Shape, opts)
			if typ != t.Type && !quant.Supported(typ) {
				return nil, fmt.Errorf("tensor %s: cannot encode %v", t.Name, typ)
			}
		}
		p := Planned{Source: t}
		p.Out = gguf.TensorInfo{Name: t.Name, Shape: append([]uint64(nil), t.Shape...), Type: typ}
		out = append(out, p)
	}
	return out, nil
}

// Metadata returns the metadata of f for a file of type ft: every entry
// copied, general.file_type and general.quantization_version set.
func Metadata(f *gguf.File, ft FileType) []gguf.KV {
	kv := append([]gguf.KV(nil), f.KV...)
	return SetKV(SetKV(kv, "general.quantization_version", gguf.Uint32(QuantizationVersion)), "general.file_type", gguf.Uint32(ft.ID))
}

// SetKV sets key to v in kv, in place when the key is present, else
// appended, and returns kv.
func SetKV(kv []gguf.KV, key string, v gguf.Value) []gguf.KV {
	for i := range kv {
		if kv[i].Key == key {
			kv[i].Value = v
			return kv
		}
	}
	return append(kv, gguf.KV{Key: key, Value: v})
}

// Convert reads the GGUF model at in and writes it to out with its weights
// in opts.FileType, tensor by tensor: each is read, decoded to float32 and
// encoded in its new type in chunks of rows (copied as is when its type
// does not change). Metadata is copied, general.file_type updated. out is
// written as WriteFile writes.
func Convert(ctx context.Context, in, out string, opts Options) error {
	g, err := gguf.Open(in)
	if err != nil {
		return err
	}
	plan, err := Plan(g, opts.FileType, opts.Types)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	tensors := make([]Tensor, len(plan))
	for i, p := range plan {
		tensors[i] = Tensor{Name: p.Out.Name, Shape: p.Out.Shape, Type: p.Out.Type, Encode: Reencode(src, p.Source, p.Out.Type)}
	}
	return WriteFile(ctx, out, Metadata(g, opts.FileType), tensors, opts.Write)
}

var (
	bytePool  sync.Pool
	floatPool sync.Pool
)

func getBytes(n int) *[]byte {
	if b, ok := bytePool.Get().(*[]byte); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n)
	return &b
}

func getFloats(n int) *[]float32 {
	if b, ok := floatPool.Get().(*[]float32); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n)
	return &b
}

// Reencode returns a Tensor.Encode function that reads rows of the tensor
// src from r (the file src's offsets refer to) and encodes them as type to:
// a copy when the types agree, else decoded with kernels.Dequantize and
// encoded with quant.QuantizeInto.
func Reencode(r io.ReaderAt, src gguf.TensorInfo, to dtype.Type) func(dst []byte, row, n int) error {
	cols := int(src.Shape[0])
	srb := int64(rowBytes(src.Type, cols))
	read := func(b []byte, row int) error {
		k, err := r.ReadAt(b, src.Offset+int64(row)*srb)
		if k == len(b) {
			return nil
		}
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if src.Type == to {
		return func(dst []byte, row, n int) error { return read(dst, row) }
	}
	return func(dst []byte, row, n int) error {
		raw := getBytes(n * int(srb))
		defer bytePool.Put(raw)
		if err := read(*raw, row); err != nil {
			return err
		}
		f := getFloats(n * cols)
		defer floatPool.Put(f)
		kernels.Dequantize(*f, *raw, src.Type)
		_, err := quant.QuantizeInto(dst, to, *f)
		return err
	}
}
