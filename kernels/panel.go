package kernels

import "ferry/dtype"

// Panelled layouts. The loops of the layouts interleaved by eight rows
// that take their activations broadcast (q4KX8B and the other "B" types)
// are the fastest on a core that splits 256-bit operations (Zen 1), but
// the broadcast form of an input takes eight times its quants: 17 KiB
// for 2048 values, 46 KiB for a 5632-value one (a down projection), more
// than the 32 KiB L1 holds beside the streaming weights, so that each
// group of eight rows reads the whole input again from L2. A panelled
// layout cuts the columns of wide rows into
// panels of at most x8BroadcastCols values and lays out the rows of a
// unit panel after panel: the unit's rows against one panel's 17 KiB of
// activations, then against the next panel's, the weights still read
// once, front to back. The loop adds each panel's sums to the ones before
// (its rows' sums start from y), in the order the plain loop adds the
// blocks, so the results are the same bits. On a Zen 1, 2048x5632 Q4_K
// products ran at 0.89-0.94 of a plain read in panels against 0.87-0.91
// in whole rows (BenchmarkPanels); Q6_K's, whose loop over whole rows was
// the nearer to the memory, the same within noise.
//
// A unit of a panelled type holds panelRows rows of nb blocks: for each
// panel in turn (blocks b0 to b1, panelBlocks of them but in the last),
// panelRows/16 units of the narrow interleaved layout (its "B" type's,
// which is the layout of the type without it) of those rows' blocks b0 to
// b1, sixteen rows each.

// panelRows is how many rows a unit of a panelled layout holds: how many
// rows meet a panel's activations while they are in the L1. Two groups of
// eight meet them at half the rate of four; eight groups (64 rows) were no
// faster than four and make the units twice as coarse for the cores to
// share.
const panelRows = 32

// The panelled layouts (see above), for rows of more than
// x8BroadcastCols values, with the types whose interleaved layout they
// cut into panels.
const (
	q4KX8W = dtype.Type(numGGUFTypes + 23) // q4KX8
	q5KX8W = dtype.Type(numGGUFTypes + 24) // q5KX8
	q6KX8W = dtype.Type(numGGUFTypes + 25) // q6KX8
	q2KX8W = dtype.Type(numGGUFTypes + 26) // q2KX8
	q3KX8W = dtype.Type(numGGUFTypes + 27) // q3KX8
	q40X8W = dtype.Type(numGGUFTypes + 28) // q40X8
	q50X8W = dtype.Type(numGGUFTypes + 29) // q50X8
	q41X8W = dtype.Type(numGGUFTypes + 30) // q41X8
	q51X8W = dtype.Type(numGGUFTypes + 31) // q51X8
)

// panelBlocks returns how many blocks of bs values a panel holds.
func panelBlocks(bs int) int { return x8BroadcastCols / bs }

// packPanels returns the packUnit of the panelled layout over the
// interleaved one that pack (its packUnit) writes, for blocks of bs values
// in bb bytes: it packs one unit, panelRows rows of nb blocks each stored
// one after another in rows, in place; tmp is scratch of twice the unit's
// size.
func packPanels(pack func(rows, tmp []byte, nb int), bs, bb int) func(rows, tmp []byte, nb int) {
	return func(rows, tmp []byte, nb int) {
		ub := panelRows * nb * bb
		src, scratch := tmp[:ub], tmp[ub:2*ub]
		copy(src, rows)
		rb := nb * bb
		at, step := 0, panelBlocks(bs)
		for b0 := 0; b0 < nb; b0 += step {
			n := min(step, nb-b0)
			pb := n * bb // a row's bytes in the panel
			for s := 0; s < panelRows; s += interleaveRows {
				unit := rows[at : at+interleaveRows*pb]
				for r := range interleaveRows {
					copy(unit[r*pb:(r+1)*pb], src[(s+r)*rb+b0*bb:])
				}
				pack(unit, scratch[:len(unit)], n)
				at += len(unit)
			}
		}
	}
}

// unpackPanels returns the inverse of packPanels(pack, bs, bb), given
// unpack, the interleaved layout's inverse of pack: it writes the
// panelRows rows of the unit src into dst.
func unpackPanels(unpack func(dst, src []byte, nb int), bs, bb int) func(dst, src []byte, nb int) {
	return func(dst, src []byte, nb int) {
		unpackPanelsWith(dst, src, make([]byte, interleaveRows*nb*bb), nb, unpack, bs, bb)
	}
}

// unpackPanelsWith is unpackPanels(unpack, bs, bb)(dst, src, nb) with tmp,
// at least sixteen rows' bytes, as scratch.
func unpackPanelsWith(dst, src, tmp []byte, nb int, unpack func(dst, src []byte, nb int), bs, bb int) {
	rb := nb * bb
	at, step := 0, panelBlocks(bs)
	for b0 := 0; b0 < nb; b0 += step {
		n := min(step, nb-b0)
		pb := n * bb
		for s := 0; s < panelRows; s += interleaveRows {
			rows := tmp[:interleaveRows*pb]
			unpack(rows, src[at:at+len(rows)], n)
			for r := range interleaveRows {
				copy(dst[(s+r)*rb+b0*bb:][:pb], rows[r*pb:])
			}
			at += len(rows)
		}
	}
}

// panelling describes a panelled layout: the interleaved layout it
// cuts into panels, and that layout's pack and unpack.
type panelling struct {
	wide, narrow dtype.Type // the panelled type and the "B" type of its loop
	plain        dtype.Type
	pack         func(rows, tmp []byte, nb int)
	unpack       func(dst, src []byte, nb int)
}

// panellings lists the panelled layouts.
var panellings = []panelling{
	{q4KX8W, q4KX8B, dtype.Q4_K, packQ4_KX8, unpackQ4_KX8},
	{q5KX8W, q5KX8B, dtype.Q5_K, packQ5_KX8, unpackQ5_KX8},
	{q6KX8W, q6KX8B, dtype.Q6_K, packQ6_KX8, unpackQ6_KX8},
	{q2KX8W, q2KX8B, dtype.Q2_K, packQ2_KX8, unpackQ2_KX8},
	{q3KX8W, q3KX8B, dtype.Q3_K, packQ3_KX8, unpackQ3_KX8},
	{q40X8W, q40X8B, dtype.Q4_0, packQ4_0X8, unpackQ4_0X8},
	{q50X8W, q50X8B, dtype.Q5_0, packQ5_0X8, unpackQ5_0X8},
	{q41X8W, q41X8B, dtype.Q4_1, packQ4_1X8, unpackQ4_1X8},
	{q51X8W, q51X8B, dtype.Q5_1, packQ5_1X8, unpackQ5_1X8},
}

// RowUnpackBytes is the scratch UnpackRow needs for rows of rowBytes
// bytes.
func RowUnpackBytes(rowBytes int) int { return (panelRows + interleaveRows) * rowBytes }

// UnpackRow returns row i of w, rows of cols values in the layout t (a
// GGUF type, or a layout Pack chose), as bytes of the GGUF type: a slice
// of w for a GGUF type; for an interleaved layout, the row's unit unpacked
// into buf (RowUnpackBytes of the row's bytes) and the row sliced from
// it. It is how an embedding table that is also the output matrix (tied),
// and so packed, is looked up. It does not allocate.
func UnpackRow(buf []byte, t dtype.Type, w []byte, cols, i int) []byte {
	il, ok := interleavings[t]
	if !ok {
		rb, _ := t.RowBytes(cols)
		return w[i*rb : (i+1)*rb]
	}
	bs, bb := il.plain.BlockSize(), il.plain.BlockBytes()
	nb := cols / bs
	rb, u := nb*bb, il.unitRows()
	unit, r := i/u, i%u
	dst, src := buf[:u*rb], w[unit*u*rb:(unit+1)*u*rb]
	if u == panelRows {
		for _, p := range panellings {
			if p.wide == t {
				unpackPanelsWith(dst, src, buf[u*rb:], nb, p.unpack, bs, bb)
				return dst[r*rb : (r+1)*rb]
			}
		}
	}
	il.unpack(dst, src, nb)
	return dst[r*rb : (r+1)*rb]
}

// panelOf returns the panelled layout whose loop is that of narrow, the
// "B" type.
func panelOf(narrow dtype.Type) (panelling, bool) {
	for _, p := range panellings {
		if p.narrow == narrow {
			return p, true
		}
	}
	return panelling{}, false
}

// addPanelInterleavings adds the panelled layouts to interleavings.
func addPanelInterleavings() {
	for _, p := range panellings {
		bs, bb := p.plain.BlockSize(), p.plain.BlockBytes()
		interleavings[p.wide] = interleaving{plain: p.plain, unpack: unpackPanels(p.unpack, bs, bb), rows: panelRows}
	}
}
