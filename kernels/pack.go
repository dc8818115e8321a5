package kernels

import (
	"encoding/binary"

	"ferry/dtype"
)

// Packed layouts. A weight matrix that stays in memory for the whole run
// can be rewritten once, at load time, into a layout that a SIMD row loop
// reads with fewer instructions per byte: decode reads every weight once
// per token, so instructions saved there are what lets the loop keep up
// with memory. Pack rewrites the rows in place (the packed row has the size
// of the original) and returns a type value private to this package that
// names the layout; callers pass it to MatVec, MatMul, MatMuls and Dot
// instead of the GGUF type. Packed bytes are not GGUF bytes: they must not
// be written to a file or read as a row of the original type.

// q8Packed is Q8_0, packed: each row's blocks in groups of eight, the
// eight scales (fp16) first, then the eight blocks' 32 quants, each plus
// 128 (stored as unsigned bytes, the operand VPDPBUSD takes unsigned: the
// activations' precomputed sums correct for the 128). One conversion then
// serves eight scales, and no instruction flips signs. Rows of a whole
// number of groups only.
const q8Packed = dtype.Type(numGGUFTypes)

// numGGUFTypes bounds the GGUF type values the kernel table holds; packed
// types follow them.
const numGGUFTypes = 32

// numTypes is the size of the kernel table: GGUF types, packed types and
// interleaved types (interleave.go).
const numTypes = numGGUFTypes + 2

// packing describes the packed layouts of a GGUF type.
type packing struct {
	packed dtype.Type // the type value that names the row layout, if any
	group  int        // packed rows hold a multiple of this many blocks
	// pack rewrites one row of nb blocks in place, using tmp (one row) as
	// scratch.
	pack func(row, tmp []byte, nb int)
	// interleaved, when not 0, is the interleaved layout (interleave.go)
	// that matrices of a whole number of its units get instead, when its
	// loop is installed; packUnit rewrites one unit, rows of nb blocks one
	// after another, in place, using tmp (one unit) as scratch.
	interleaved dtype.Type
	packUnit    func(rows, tmp []byte, nb int)
}

// packings holds the types that have a packed layout.
var packings = map[dtype.Type]packing{
	dtype.Q4_K: {interleaved: q4KX16, packUnit: packQ4_KX16},
	dtype.Q8_0: {packed: q8Packed, group: 8, pack: packQ8_0Row},
}

// Pack rewrites w, rows of cols values of type t, into the packed layout of
// t that the kernels in use read fastest, in place, and returns the type to
// compute with from then on: an interleaved layout (interleave.go) when
// there are whole units of its rows, else one that packs each row on its
// own. When t has no such layout (or none faster than the plain one on
// this CPU, or cols is not a whole number of blocks) it leaves w alone and
// returns t. A matrix packed interleaved must be used in whole units: a
// product over part of it takes rows from a multiple of 16 to another.
func Pack(t dtype.Type, w []byte, cols int) dtype.Type {
	p, ok := packings[t]
	if !ok || cols <= 0 || cols%t.BlockSize() != 0 {
		return t
	}
	nb := cols / t.BlockSize()
	rb := nb * t.BlockBytes()
	if len(w)%rb != 0 {
		return t
	}
	if u := p.interleaved; u != 0 && packedFast[u] && len(w)/rb%interleaveRows == 0 {
		ub := rb * interleaveRows
		tmp := make([]byte, ub)
		for at := 0; at < len(w); at += ub {
			p.packUnit(w[at:at+ub], tmp, nb)
		}
		return u
	}
	if p.packed == 0 || !packedFast[p.packed] || nb%p.group != 0 {
		return t
	}
	tmp := make([]byte, rb)
	for r := 0; r+rb <= len(w); r += rb {
		p.pack(w[r:r+rb], tmp, nb)
	}
	return p.packed
}

// packedFast marks the packed types whose layout an installed SIMD loop
// reads (set by the installers); Pack leaves other types alone.
var packedFast [numTypes]bool

// packQ8_0Row packs one Q8_0 row of nb blocks (a multiple of 8) in place.
func packQ8_0Row(row, tmp []byte, nb int) {
	copy(tmp, row)
	for g := 0; g < nb/8; g++ {
		out := row[272*g : 272*(g+1)]
		for b := 0; b < 8; b++ {
			src := tmp[34*(8*g+b):]
			copy(out[2*b:2*b+2], src[:2])
			flip128(out[16+32*b:16+32*b+32], src[2:34])
		}
	}
}

// unpackQ8_0Row is packQ8_0Row's inverse.
func unpackQ8_0Row(dst, src []byte, nb int) {
	for g := 0; g < nb/8; g++ {
		in := src[272*g:]
		for b := 0; b < 8; b++ {
			out := dst[34*(8*g+b):]
			copy(out[:2], in[2*b:2*b+2])
			flip128(out[2:34], in[16+32*b:16+32*b+32])
		}
	}
}

// flip128 sets dst[i] = src[i] ^ 0x80 (int8 q to q+128 as a byte, and
// back) for the 32 bytes of a Q8_0 block, eight at a time.
func flip128(dst, src []byte) {
	const signs = 0x8080808080808080
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^signs)
	}
}

// qdotQ8_0Packed is qdotQ8_0 over a packed row, the same sums in the same
// order.
func qdotQ8_0Packed(row, xq []byte) float32 {
	var acc [2][8]float32
	var q [32]int32
	for i := 0; i < len(row)/34; i++ {
		g := row[272*(i/8):]
		b := i % 8
		a := (*[q8Block]byte)(xq[q8Block*i:])
		for j := range q {
			q[j] = int32(int8(g[16+32*b+j] ^ 0x80))
		}
		lanes32(&acc[i&1], &q, a, f16at(g[2*b:])*f32at(a[0:]))
	}
	return hsum8(&acc)
}

// dequantQ8_0Packed decodes one packed row (len(dst) values, a whole row).
func dequantQ8_0Packed(dst []float32, src []byte) {
	nb := len(dst) / 32
	tmp := make([]byte, 34*nb)
	unpackQ8_0Row(tmp, src[:34*nb], nb)
	dequantQ8_0(dst, tmp)
}

// registerPacked adds the portable kernels of the packed types.
func registerPacked() {
	kernelTable[q8Packed] = kernel{
		blockSize: 32, blockBytes: 34, act: actQ8_0,
		qdot: qdotQ8_0Packed, vec: vecOf(qdotQ8_0Packed), dequant: dequantQ8_0Packed,
	}
	portable[q8Packed], portableAct[q8Packed] = qdotQ8_0Packed, actQ8_0
	packedFast = [numTypes]bool{}
}
