package kernels

import "ferry/dtype"

// The AVX2 loops of the layouts interleaved by eight rows (x8_amd64.s).

//go:noescape
func vecQ4_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ4_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ8_0X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ5_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ2_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ2_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ3_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ3_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ5_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

// spreadQ8_KBAVX2 is spreadQ8_KB: the nb actQ8_K blocks at src spread
// into actQ8_KB blocks at dst.
//
//go:noescape
func spreadQ8_KBAVX2(dst, src *byte, nb int)

// moveQ8_KRAVX2 is moveQ8_KR for the quants and sums of the actQ8_K
// block b (d is left to the caller).
//
//go:noescape
func moveQ8_KRAVX2(b, qs, sums *byte)

//go:noescape
func vecQ6_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

//go:noescape
func vecQ6_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)

// On CPUs with AVX2 but not AVX-512, Q4_K, Q8_0, Q6_K and Q5_K matrices
// kept in memory are packed as q4KX8, q5KX8 and q6KX8 (q4KX8B, q5KX8B
// and q6KX8B for rows of up to 2048 values) and q8X8 (the legacy types' layouts
// are x8legacy_amd64.go's). On a core that splits 256-bit operations
// (Zen 1) the row loops, at 0.6-0.8 vector operations a byte, could not
// keep up with the memory; the interleaved loops share each block's
// scales, mins and float steps among eight rows and need no horizontal
// sums. Their sums are the portable kernel's, as the AVX2 row loops' are,
// so that streamed (file layout) and resident (packed) spans give the
// same bits.
var _ = addInstaller(func(avx512 bool) {
	if avx512 {
		return
	}
	packings[dtype.Q4_K] = packing{packed: q4KX8, packUnit: packQ4_KX8, narrow: q4KX8B, narrowCols: x8BroadcastCols}
	kernelTable[q4KX8].act = actQ8_KP
	setVecPF(q4KX8, vecQ4_KX8AVX2)
	packedFast[q4KX8] = true
	kernelTable[q4KX8B].act = actQ8_KB
	spreadQ8_KB = func(dst []byte, at, nb int) {
		if nb > 0 {
			_ = dst[at+nb*q8KBlock-1]
			spreadQ8_KBAVX2(&dst[0], &dst[at], nb)
		}
	}
	setVecPF(q4KX8B, vecQ4_KX8BAVX2)
	packedFast[q4KX8B] = true
	// Q8_0: the row loop's operations a block but for the float steps and
	// the horizontal sums, which the eight rows share.
	packings[dtype.Q8_0] = packing{packed: q8X8, packUnit: packQ8_0X8}
	setVecPF(q8X8, vecQ8_0X8AVX2)
	packedFast[q8X8] = true
	// Q6_K: its quants in three planes (see q6KX8), and the scales, the
	// activations' sums and the float steps shared by eight rows.
	packings[dtype.Q6_K] = packing{packed: q6KX8, packUnit: packQ6_KX8, narrow: q6KX8B, narrowCols: x8BroadcastCols}
	setVecPF(q6KX8, vecQ6_KX8AVX2)
	packedFast[q6KX8] = true
	kernelTable[q6KX8B].act = actQ8_KB
	setVecPF(q6KX8B, vecQ6_KX8BAVX2)
	packedFast[q6KX8B] = true
	// Q5_K: q4KX8's header with the quants whole, as q50X8 keeps them
	// (from L2 on a Zen 1 core about 2.5 times the row loop's speed), and
	// for rows of at most 2048 values the same against actQ8_KB.
	packings[dtype.Q5_K] = packing{packed: q5KX8, packUnit: packQ5_KX8, narrow: q5KX8B, narrowCols: x8BroadcastCols}
	kernelTable[q5KX8].act = actQ8_KP
	setVecPF(q5KX8, vecQ5_KX8AVX2)
	packedFast[q5KX8] = true
	kernelTable[q5KX8B].act = actQ8_KB
	setVecPF(q5KX8B, vecQ5_KX8BAVX2)
	packedFast[q5KX8B] = true
	// Q2_K: a sub-block's four steps from one load; the scales and mins
	// shared by eight rows, each row's pair of them in one lane.
	packings[dtype.Q2_K] = packing{packed: q2KX8, packUnit: packQ2_KX8, narrow: q2KX8B, narrowCols: x8BroadcastCols}
	setVecPF(q2KX8, vecQ2_KX8AVX2)
	packedFast[q2KX8] = true
	kernelTable[q2KX8B].act = actQ8_KB
	setVecPF(q2KX8B, vecQ2_KX8BAVX2)
	packedFast[q2KX8B] = true
	// Q3_K: its quants whole (three words a pair of sub-blocks) and its
	// scales in three planes, decoded once a block for eight rows.
	packings[dtype.Q3_K] = packing{packed: q3KX8, packUnit: packQ3_KX8, narrow: q3KX8B, narrowCols: x8BroadcastCols}
	setVecPF(q3KX8, vecQ3_KX8AVX2)
	packedFast[q3KX8] = true
	kernelTable[q3KX8B].act = actQ8_KB
	setVecPF(q3KX8B, vecQ3_KX8BAVX2)
	packedFast[q3KX8B] = true
})
