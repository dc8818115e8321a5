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

// On CPUs with AVX2 but not AVX-512, Q4_K, Q8_0, Q6_K, Q5_K, Q2_K and
// Q3_K matrices kept in memory are packed as q4KX8, q8X8, q6KX8, q5KX8,
// q2KX8 and q3KX8 (all but q8X8 with a B form for rows of up to 2048
// values; the legacy types' layouts are x8legacy_amd64.go's). On a core that splits 256-bit operations
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
	spreadQ8_KB = func(dst []byte, at, nb int) {
		if nb > 0 {
			_ = dst[at+nb*q8KBlock-1]
			spreadQ8_KBAVX2(&dst[0], &dst[at], nb)
		}
	}
	installX8(dtype.Q4_K, q4KX8, packQ4_KX8, actQ8_KP, vecQ4_KX8AVX2, q4KX8B, vecQ4_KX8BAVX2)
	// Q8_0: the row loop's operations a block but for the float steps and
	// the horizontal sums, which the eight rows share.
	installX8(dtype.Q8_0, q8X8, packQ8_0X8, actQ8_0, vecQ8_0X8AVX2, 0, nil)
	// Q6_K: its quants in three planes (see q6KX8), and the scales, the
	// activations' sums and the float steps shared by eight rows.
	installX8(dtype.Q6_K, q6KX8, packQ6_KX8, actQ8_K, vecQ6_KX8AVX2, q6KX8B, vecQ6_KX8BAVX2)
	// Q5_K: q4KX8's header with the quants whole, as q50X8 keeps them
	// (from L2 on a Zen 1 core about 2.5 times the row loop's speed).
	installX8(dtype.Q5_K, q5KX8, packQ5_KX8, actQ8_KP, vecQ5_KX8AVX2, q5KX8B, vecQ5_KX8BAVX2)
	// Q2_K: a sub-block's four steps from one load; the scales and mins
	// shared by eight rows, each row's pair of them in one lane.
	installX8(dtype.Q2_K, q2KX8, packQ2_KX8, actQ8_K, vecQ2_KX8AVX2, q2KX8B, vecQ2_KX8BAVX2)
	// Q3_K: its quants whole (three words a pair of sub-blocks) and its
	// scales in three planes, decoded once a block for eight rows.
	installX8(dtype.Q3_K, q3KX8, packQ3_KX8, actQ8_K, vecQ3_KX8AVX2, q3KX8B, vecQ3_KX8BAVX2)
})

// installX8 has Pack rewrite the resident matrices of plain as packed
// (one unit at a time, with packUnit), whose loop takes activations of
// the form act; and, when narrowLoop is set, rows of at most
// x8BroadcastCols values as narrow, the same layout read by narrowLoop
// against the broadcast form of the activations of its block size
// (actQ8_KB for the K-quants, actQ8_0B for the 32-value types), which
// its multiplies take as operands.
func installX8(plain, packed dtype.Type, packUnit func(rows, tmp []byte, nb int), act actKind, loop rowLoopPF, narrow dtype.Type, narrowLoop rowLoopPF) {
	p := packing{packed: packed, packUnit: packUnit}
	kernelTable[packed].act = act
	setVecPF(packed, loop)
	packedFast[packed] = true
	if narrowLoop != nil {
		p.narrow, p.narrowCols = narrow, x8BroadcastCols
		kernelTable[narrow].act = actQ8_KB
		if kernelTable[plain].blockSize == 32 {
			kernelTable[narrow].act = actQ8_0B
		}
		setVecPF(narrow, narrowLoop)
		packedFast[narrow] = true
	}
	packings[plain] = p
}
