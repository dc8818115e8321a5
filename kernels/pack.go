package kernels

import "ferry/dtype"

// Packed layouts. A weight matrix that stays in memory for the whole run
// can be rewritten once, at load time, into a layout that a SIMD loop reads
// with fewer instructions per byte: decode reads every weight once per
// token, so instructions saved there are what lets the loop keep up with
// memory. Pack rewrites the rows in place (the packed matrix has the size
// of the original) and returns a type value private to this package that
// names the layout; callers pass it to MatVec, MatMul and MatMuls instead
// of the GGUF type. Packed bytes are not GGUF bytes: they must not be
// written to a file or read as rows of the original type. The layouts are
// the interleaved ones of interleave.go.

// numGGUFTypes bounds the GGUF type values the kernel table holds; packed
// types follow them.
const numGGUFTypes = 32

// numTypes is the size of the kernel table: GGUF types and the packed
// (interleaved) types.
const numTypes = numGGUFTypes + 32

// packing describes the packed layout of a GGUF type: the type value that
// names it, packUnit, which rewrites one unit (interleaveRows rows of nb
// blocks one after another) in place, using tmp (one unit) as scratch,
// and the multiple of values the rows' length must be, when the layout
// needs more than whole blocks.
type packing struct {
	packed   dtype.Type
	packUnit func(rows, tmp []byte, nb int)
	cols     int
	// narrow, when set, is the type Pack returns instead of packed for
	// rows of at most narrowCols values: the same layout, read by another
	// loop (q4KX8B).
	narrow     dtype.Type
	narrowCols int
	// wide, when set, is the type Pack returns for rows of more than
	// narrowCols values whose number is a multiple of panelRows: the
	// panelled layout (panel.go), which packWide writes a unit at a time.
	wide     dtype.Type
	packWide func(rows, tmp []byte, nb int)
}

// packings holds the types that have a packed layout. An installer may
// replace an entry with the layout its loops read (Q4_K's is q4KX16 for
// the AVX-512 loop, q4KX8 for the AVX2 one; Q8_0's q8X16 and q8X8; Q6_K's
// q6KX16 and q6KX8; Q5_K has q5KX8, Q4_0 q40X8, Q5_0 q50X8, Q4_1 q41X8
// and Q5_1 q51X8, for the AVX2 loops only).
var packings = map[dtype.Type]packing{
	dtype.Q4_K: {packed: q4KX16, packUnit: packQ4_KX16},
	dtype.Q8_0: {packed: q8X16, packUnit: packQ8_0X16},
	dtype.Q6_K: {packed: q6KX16, packUnit: packQ6_KX16},
	dtype.F16:  {packed: f16X16, packUnit: packF16X16, cols: 16},
}

// Pack rewrites w, rows of cols values of type t, into the packed layout of
// t that the kernels in use read fastest, in place, and returns the type to
// compute with from then on. When t has no such layout (or none faster than
// the plain one on this CPU, or cols is not a whole number of blocks, or
// of 16 values for F16, or the rows are not a whole number of units of 16)
// it leaves w alone and returns t. A packed matrix must then be used in
// whole units: a product over part of it takes rows from a multiple of 16
// (32 for the panelled layouts) to another.
func Pack(t dtype.Type, w []byte, cols int) dtype.Type {
	p, ok := packings[t]
	if !ok || !packedFast[p.packed] || cols <= 0 || cols%t.BlockSize() != 0 || p.cols > 0 && cols%p.cols != 0 {
		return t
	}
	nb := cols / t.BlockSize()
	if p.wide != 0 && cols > p.narrowCols && packedFast[p.wide] && packUnits(w, panelRows*nb*t.BlockBytes(), 2, nb, p.packWide) {
		return p.wide
	}
	if !packUnits(w, interleaveRows*nb*t.BlockBytes(), 1, nb, p.packUnit) {
		return t
	}
	if p.narrow != 0 && cols <= p.narrowCols && packedFast[p.narrow] {
		return p.narrow
	}
	return p.packed
}

// packUnits rewrites w a unit of ub bytes at a time with packUnit, given
// scratch of scratchUnits units, unless w is empty or not a whole number
// of units; it reports whether it did.
func packUnits(w []byte, ub, scratchUnits, nb int, packUnit func(rows, tmp []byte, nb int)) bool {
	if len(w) == 0 || len(w)%ub != 0 {
		return false
	}
	tmp := make([]byte, scratchUnits*ub)
	for at := 0; at < len(w); at += ub {
		packUnit(w[at:at+ub], tmp, nb)
	}
	return true
}

// packedFast marks the packed types whose layout an installed SIMD loop
// reads (set by the installers); Pack leaves other types alone.
var packedFast [numTypes]bool
