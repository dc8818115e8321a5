package kernels

import "ferry/dtype"

// The AVX2 loops of the legacy types' layouts interleaved by eight rows
// (x8legacy_amd64.s), with the signature of those of x8_amd64.s.

// vecQ4_0X8AVX2 is the AVX2 loop of q40X8 units against actQ8_0X
// activations.
//
//go:noescape
func vecQ4_0X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

// vecQ5_0X8AVX2 is the AVX2 loop of q50X8 units against actQ8_0X
// activations.
//
//go:noescape
func vecQ5_0X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

// vecQ4_1X8AVX2 is the AVX2 loop of q41X8 units against actQ8_0
// activations.
//
//go:noescape
func vecQ4_1X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

// vecQ5_1X8AVX2 is the AVX2 loop of q51X8 units against actQ8_0
// activations.
//
//go:noescape
func vecQ5_1X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

// vecQ4_0X8BAVX2, vecQ5_0X8BAVX2, vecQ4_1X8BAVX2 and vecQ5_1X8BAVX2 are
// the loops of the same layouts (q40X8B, q50X8B, q41X8B, q51X8B) against
// actQ8_0B activations, which add their rows' sums to y's values (see
// x8_amd64.go).
//
//go:noescape
func vecQ4_0X8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ5_0X8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ4_1X8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ5_1X8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

// spreadQ8_0BAVX2 is spreadQ8_0B for the nb actQ8_0 blocks at src, into
// dst.
//
//go:noescape
func spreadQ8_0BAVX2(dst, src *byte, nb int)

// On CPUs with AVX2 but not AVX-512, Q4_0, Q5_0, Q4_1 and Q5_1 matrices
// kept in memory are packed as q40X8, q50X8, q41X8 and q51X8: on a core
// that splits 256-bit operations (Zen 1) the row loops, which sum each
// block's lanes (and spread its fifth bits), could not keep up with the
// memory; the interleaved loops share each block's float steps among
// eight rows, need no horizontal sums and find the fifth bits with a
// shift and a mask a step. Their sums are the portable kernel's, as the
// AVX2 row loops' are, so that streamed (file layout) and resident
// (packed) spans give the same bits.
var _ = addInstaller(func(avx512 bool) {
	if avx512 {
		return
	}
	// Rows of at most x8BroadcastCols values take the same loops against
	// activations broadcast once per product (actQ8_0B), which their
	// multiplies take as operands; a 2048-value input takes 17 KiB of
	// the L1.
	spreadQ8_0B = func(dst, src []byte, nb int) {
		if nb > 0 {
			_, _ = src[nb*q8Block-1], dst[nb*q8BBlock-1]
			spreadQ8_0BAVX2(&dst[0], &src[0], nb)
		}
	}
	// Q4_0: q8X8's loop with two quants a byte, against activations
	// that carry their sums (actQ8_0X): from L2 on a Zen 1 core about
	// four times the row loop's speed.
	installX8(dtype.Q4_0, q40X8, packQ4_0X8, actQ8_0X, vecQ4_0X8AVX2, q40X8B, vecQ4_0X8BAVX2)
	// Q5_0: q40X8's loop with five-bit quants, against activations that
	// carry their sums (actQ8_0X).
	installX8(dtype.Q5_0, q50X8, packQ5_0X8, actQ8_0X, vecQ5_0X8AVX2, q50X8B, vecQ5_0X8BAVX2)
	// Q4_1: q40X8's loop with the mins, against actQ8_0 (whose s is the
	// fp16 of d_x times the sum of the quants, as m_w*s_x needs).
	installX8(dtype.Q4_1, q41X8, packQ4_1X8, actQ8_0, vecQ4_1X8AVX2, q41X8B, vecQ4_1X8BAVX2)
	// Q5_1: the Q5_0 loop's quants with the mins, against actQ8_0.
	installX8(dtype.Q5_1, q51X8, packQ5_1X8, actQ8_0, vecQ5_1X8AVX2, q51X8B, vecQ5_1X8BAVX2)
})
