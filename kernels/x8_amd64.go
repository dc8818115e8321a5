package kernels

import "ferry/dtype"

// The AVX2 loops of the layouts interleaved by eight rows (x8_amd64.s).
// Those of the "B" types (vecQ4_KX8BAVX2 and the like, which take
// broadcast activations) add their rows' sums to y's values, so that the
// panelled layouts (panel.go) can take a unit's panels in turn; the
// others store them.

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
// values, and a panelled one, panel.go, for wider rows in units of 32;
// the legacy types' layouts are x8legacy_amd64.go's). On a core that splits 256-bit operations
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
	spreadQ8_KB = func(dst, src []byte, nb int) {
		if nb > 0 {
			_, _ = src[nb*q8KBlock-1], dst[nb*q8KBBlock-1]
			spreadQ8_KBAVX2(&dst[0], &src[0], nb)
		}
	}
	installX8(dtype.Q4_K, q4KX8, packQ4_KX8, actQ8_KP, vecQ4_KX8AVX2, q4KX8B, vecQ4_KX8BAVX2)
	// Q8_0: the row loop's operations a block but for the float steps and
	// the horizontal sums, which the eight rows share.
	installX8(dtype.Q8_0, q8X8, packQ8_0X8, actQ8_0, vecQ8_0X8AVX2, 0, nil)
	// Q6_K: its quants in three planes (see q6KX8), and the scales, the
	// activations' sums and the float steps shared by eight rows; its
	// loops prefetch twice as far ahead as the others.
	installX8(dtype.Q6_K, q6KX8, packQ6_KX8, actQ8_K, prefetchFarther(vecQ6_KX8AVX2), q6KX8B, prefetchFarther(vecQ6_KX8BAVX2))
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
// its multiplies take as operands, and wider rows, in units of panelRows,
// as narrow's panelled layout (panel.go), which narrowLoop reads a panel
// at a time.
func installX8(plain, packed dtype.Type, packUnit func(rows, tmp []byte, nb int), act actKind, loop rowLoopPF, narrow dtype.Type, narrowLoop rowLoopPF) {
	p := packing{packed: packed, packUnit: packUnit}
	kernelTable[packed].act = act
	setVecPF(packed, loop)
	packedFast[packed] = true
	if narrowLoop != nil {
		p.narrow, p.narrowCols = narrow, x8BroadcastCols
		bact := actQ8_KB
		if kernelTable[plain].blockSize == 32 {
			bact = actQ8_0B
		}
		kernelTable[narrow].act = bact
		setVecPFAdd(narrow, narrowLoop)
		packedFast[narrow] = true
		if pl, ok := panelOf(narrow); ok {
			k := &kernelTable[plain]
			p.wide, p.packWide = pl.wide, packPanels(pl.pack, k.blockSize, k.blockBytes)
			setVecPanels(pl.wide, bact, narrowLoop)
			packedFast[pl.wide] = true
		}
	}
	packings[plain] = p
}

// setVecPFAdd installs loop, a row loop that adds its rows' sums to y
// (the "B" loops, whose sums start from y's values so that the panelled
// layouts can take a row's panels in turn), for t: setVecPF's vec and
// vecBatch with y cleared first.
func setVecPFAdd(t dtype.Type, loop rowLoopPF) {
	setVecPF(t, loop)
	k := &kernelTable[t]
	vec, batch := k.vec, k.vecBatch
	k.vec = func(y []float32, w []byte, rb int, xq []byte) {
		clear(y)
		vec(y, w, rb, xq)
	}
	k.vecBatch = func(y []float32, w []byte, rb int, xq []byte) {
		clear(y)
		batch(y, w, rb, xq)
	}
}

// setVecPanels installs the vec and vecBatch of t, a panelled layout
// (panel.go): for each unit, its rows' sums cleared, then loop, the row
// loop of its "B" type, which adds to them, over each panel in turn (the
// panel's units of sixteen rows against its blocks' activations, of the
// form act), the prefetch running on from one panel into the next.
func setVecPanels(t dtype.Type, act actKind, loop rowLoopPF) {
	k := &kernelTable[t]
	k.act, k.batchAct = act, act
	bs, bb := k.blockSize, k.blockBytes
	step := panelBlocks(bs)
	panels := func(batch bool) vecFunc {
		return func(y []float32, w []byte, rb int, xq []byte) {
			units := len(y) / panelRows
			if units == 0 || rb == 0 {
				return
			}
			nb := rb / panelRows / bb
			_ = w[units*rb-1]
			_ = xq[actBytes(act, nb*bs)-1]
			pf := prefetchBatch
			if !batch {
				pf = int(streamPrefetch.Load())
			}
			clear(y[:units*panelRows])
			for u := range units {
				at := u * rb
				for b0 := 0; b0 < nb; b0 += step {
					n := min(step, nb-b0)
					sub := interleaveRows * n * bb
					loop(&y[u*panelRows], &w[at], sub, panelRows/interleaveRows, &xq[actBytes(act, b0*bs)], n, pf)
					at += panelRows / interleaveRows * sub
				}
			}
		}
	}
	k.vec, k.vecBatch = panels(false), panels(true)
}

// prefetchFarther returns loop with twice the prefetch distance it is
// given (rowLoopPF's pf: bytes, the lowest bit marking non-temporal).
// The Q6_K loops take it: on a Zen 1 core, at the 4 KiB that suits the
// other loops' streams, they kept further from the memory's speed. In
// ferry bench (TinyLlama shape, -p 64 -n 64, alternating the settings,
// the products timed by kind), the Q6_K output head of every K-quant mix
// and legacy type streamed at 27.2-27.7 GB/s with 4 KiB and 28.2-29.0
// with 8 KiB, and all-Q6_K decode went from 90-91% of the bound to
// 93-95%; most other loops' products were 1-11% slower at 8 KiB (Q8_0
// and F16 among them), and Q6_K's were slower again at 12. Batches
// (prefill) take twice their 2 KiB too, at the same speed.
func prefetchFarther(loop rowLoopPF) rowLoopPF {
	return func(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int) {
		loop(y, w, rb, rows, xq, nb, (pf&^1)*2|pf&1)
	}
}
