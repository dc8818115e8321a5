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
//   - dot_generic.go: float-activation dot products (F32, F16, BF16, Q8_K).
//   - act.go: conversion of the activations, once per call, into the form
//     each type's dot product takes, as llama.cpp does: 8-bit blocks of 32
//     (Q8_0, with the block sum for Q4_1/Q5_1) for the legacy quants, Q8_K
//     blocks of 256 with per-16 sums for the K-quants, half (bfloat16)
//     precision for F16 (BF16).
//   - qdot_generic.go: portable integer dot products of weight rows with
//     8-bit activations (after ggml's vec_dot).
//   - kernels.go: the per-type kernel table, Dot, Dequantize and Supported.
//   - matvec.go: MatVec, MatMul and MatMuls (products sharing an input),
//     their rows split in lanes, ParallelFor and SumBytesParallel.
//   - pool.go: the worker pool, each worker handed jobs through a slot of
//     its own.
//   - vec.go: float vector helpers for attention and the MLP (DotsF16,
//     AxpysF16, SoftmaxF16Rows, RoundF16, SwiGLU, ExpShift).
//   - simd_amd64.go, kernels_amd64.s, cpu_amd64.s: the assembly, chosen at
//     start-up from CPUID: AVX-512 (F/BW/VL/VBMI/VNNI) row loops for Q8_0,
//     Q4_K, Q6_K, F16 and F32 and AVX2 ones for Q8_0, Q4_0, Q4_K, Q5_K,
//     Q6_K and F16, the activation quantizers, SumBytes and the vector
//     helpers. q4q5_amd64.*, q40_amd64.*, k23_amd64.* and bf16q5k_amd64.*
//     hold the loops of the other types, and interleave*_amd64.*,
//     x8_amd64.* and x8legacy_amd64.* those of the interleaved layouts,
//     installed through addInstaller; batch_amd64.* the register-blocked
//     loop of F16 and BF16 batches, exp_amd64.s the AVX2 exponentials and
//     softmax, norm_amd64.* the AVX2 attention loops; hsum_amd64.h holds the
//     horizontal sums they share, masks_amd64.h their lane masks,
//     rowpair_amd64.h the AVX2 row loop of the 32-value types (two blocks
//     at a time) and x8_amd64.h the frame of the loops interleaved by eight
//     rows.
//     FERRY_NOAVX512=1 keeps to AVX2; FERRY_NOSIMD=1 forces the portable
//     code. Loops that keep the portable kernels' order of float operations
//     are bit-identical to them; those that keep float accumulators across
//     blocks (marked in reordered) equal them within float rounding.
//
// MatVec quantizes x once and splits rows across the worker pool; MatMul
// quantizes its n vectors once and walks groups of rows small enough to
// stay in the core's L2 cache while every vector passes over them.
package kernels
