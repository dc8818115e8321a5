// Package quant encodes float32 values as GGML weight blocks. Every quantizer
// produces the exact block layout of ggml-common.h and follows the algorithm
// of llama.cpp's reference quantizer for its type (quantize_row_*_ref, no
// importance matrix), in float32 arithmetic in the same order, so that a model
// quantized here is the model llama.cpp would write: the fixture tests in
// package kernels check that every type matches llama.cpp byte for byte on
// real tensors. Quantization is single-threaded; callers may quantize rows or
// tensors concurrently.
package quant

import (
	"fmt"

	"ferry/dtype"
)

// quantizer encodes len(src) values (a whole number of blocks) into dst,
// which holds exactly the bytes of those blocks.
type quantizer func(dst []byte, src []float32)

var quantizers = map[dtype.Type]quantizer{
	dtype.F32:  quantF32,
	dtype.F16:  quantF16,
	dtype.BF16: quantBF16,
	dtype.Q8_0: quantQ8_0,
	dtype.Q4_0: quantQ4_0,
	dtype.Q4_1: quantQ4_1,
	dtype.Q5_0: quantQ5_0,
	dtype.Q5_1: quantQ5_1,
	dtype.Q2_K: quantQ2_K,
	dtype.Q3_K: quantQ3_K,
	dtype.Q4_K: quantQ4_K,
	dtype.Q5_K: quantQ5_K,
	dtype.Q6_K: quantQ6_K,
	dtype.Q8_K: quantQ8_K,
}

// Supported reports whether Quantize can encode values as type t.
func Supported(t dtype.Type) bool {
	_, ok := quantizers[t]
	return ok
}

// Quantize encodes src, a whole number of blocks of t, as type t and returns
// the encoded bytes (t.RowBytes(len(src)) of them).
func Quantize(t dtype.Type, src []float32) ([]byte, error) {
	n, err := size(t, len(src))
	if err != nil {
		return nil, err
	}
	dst := make([]byte, n)
	quantizers[t](dst, src)
	return dst, nil
}

// QuantizeInto is Quantize writing into dst, which must hold at least
// t.RowBytes(len(src)) bytes. It returns the number of bytes written.
func QuantizeInto(dst []byte, t dtype.Type, src []float32) (int, error) {
	n, err := size(t, len(src))
	if err != nil {
		return 0, err
	}
	if len(dst) < n {
		return 0, fmt.Errorf("quant: %v: %d values need %d bytes, dst has %d", t, len(src), n, len(dst))
	}
	quantizers[t](dst[:n], src)
	return n, nil
}

func size(t dtype.Type, n int) (int, error) {
	if !Supported(t) {
		return 0, fmt.Errorf("quant: cannot quantize to %v", t)
	}
	b, err := t.RowBytes(n)
	if err != nil {
		return 0, fmt.Errorf("quant: %w", err)
	}
	return b, nil
}
