package kernels

import "ferry/dtype"

// The BF16 and Q5_K row loops of bf16q5k_amd64.s, installed at the end of
// useSIMD: BF16 gets the AVX2 loop, or the AVX-512 one where AVX-512 is
// usable; Q5_K keeps useSIMD's AVX2 loop unless AVX-512 is usable, when it
// gets the AVX-512 loop and its activation form actQ8_KP.
var _ = addInstaller(func(avx512 bool) {
	if !avx512 {
		// Single products take the unpacking loop, over actBF16U, with
		// the streaming prefetch setting (tune.go) instead of
		// vecBF16AVX2's fixed PREFETCHT0 8 KiB ahead. On a Zen 1 core,
		// from L2 (BenchmarkLoopCache/BF16, alternating the binaries),
		// 25.2-25.7 GB/s against 9.1-9.4; TinyLlama BF16 decode went
		// from 88.1-90.1% of the bound to 98.3-98.5% (two rounds), the
		// kernels from cache (ferry bench) from 26-27 to 40-41 GB/s.
		// Batches keep vecBF16AVX2, over actBF16, the form the batch
		// loop (batchBF16) reads, for the vectors that loop leaves.
		k := &kernelTable[dtype.BF16]
		k.act = actBF16U
		k.vec = rowVec(k, func(y *float32, w *byte, rb, rows int, xq *byte, nb int) {
			vecBF16UAVX2(y, w, rb, rows, xq, nb, int(streamPrefetch.Load()))
		})
		k.batchAct = actBF16
		k.vecBatch = rowVecAct(k, actBF16, vecBF16AVX2)
		return
	}
	setVec(dtype.BF16, vecBF16AVX512)
	kernelTable[dtype.Q5_K].act = actQ8_KP // before setVec, which checks it
	setVec(dtype.Q5_K, vecQ5_KAVX512)
	reordered[dtype.Q5_K] = true
})

// vecBF16AVX2 computes y[i] for i < rows: the BF16 row at w + i*rb (nb
// values) against nb float32 activations at xq.
//
//go:noescape
func vecBF16AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecBF16UAVX2 is vecBF16AVX2 over actBF16U activations, its weights
// widened by unpacking.
//
//go:noescape
func vecBF16UAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

// vecBF16AVX512 is vecBF16AVX2 with AVX-512 registers.
//
//go:noescape
func vecBF16AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// vecQ5_KAVX512 computes y[i] for i < rows: the Q5_K row at w + i*rb (nb
// blocks) against actQ8_KP activations at xq.
//
//go:noescape
func vecQ5_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
