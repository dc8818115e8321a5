// Package kernels holds the numeric kernels that work directly on GGML weight
// blocks: scalar conversions between float32 and the 16-bit float formats,
// dequantization of every supported block type, and dot products, matrix-vector
// and batched matrix products that decode one block at a time and fuse the
// decode with the arithmetic.
//
// Block layouts are bit-exact with GGML (ggml-common.h): all fields are
// little-endian and the fp16 scales are IEEE half precision. The tests check
// the layouts on hand-built blocks and against tensors quantized by llama.cpp.
//
// Layout of the code:
//
//   - half.go: F16/BF16 conversions and the half-to-float table.
//   - dequant.go: one portable dequantizer per type (dequantQ4_K, ...), with
//     the block layout documented beside it.
//   - dot_generic.go: one portable fused dot product per type (dotQ4_K, ...),
//     split into a row loop and a per-block kernel (blockQ4_K, ...).
//   - kernels.go: the per-type kernel table, Dot, Dequantize and Supported.
//   - matvec.go: MatVec and MatMul, their row chunking and the worker pool.
//
// Computation is in float32 with float32 activations (llama.cpp quantizes the
// activations to 8 bits for quantized dots; these kernels do not). An
// architecture-specific implementation (Go assembly, SIMD) replaces the dot or
// dequant field of a kernelTable entry from an init function; the exported
// API, the threading and the tests stay as they are.
package kernels
