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
//   - matvec.go: MatVec and MatMul, their row chunking and the worker pool.
//   - simd_amd64.go, kernels_amd64.s, cpu_amd64.s: AVX2 assembly (row loops
//     for Q8_0, Q4_0, Q4_K, Q5_K, Q6_K and F16, the activation quantizers,
//     SumBytes), chosen at start-up from CPUID. FERRY_NOSIMD=1 forces the
//     portable code. The assembly does the portable integer kernels' float
//     operations in the same order, so both give bit-identical results.
//
// MatVec quantizes x once and splits rows across the worker pool; MatMul
// quantizes its n vectors once and walks groups of rows small enough to
// stay in the core's L2 cache while every vector passes over them.
package kernels
