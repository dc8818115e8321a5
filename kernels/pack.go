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

// q4KPacked is Q4_K, packed: each row's blocks in groups of four, the
// group's four 16-byte block headers first, then the four blocks' 128
// nibble bytes as Q4_K stores them, so that on a 64-byte aligned row of a
// multiple of four blocks every 64 nibble bytes fill one cache line (a last
// group of fewer blocks is laid out the same way, smaller). A header holds
// d and dmin (fp16) and the sixteen 6-bit scales and mins, s0..s7 then
// m0..m7, value i in bits 6i..6i+5 of the remaining 12 bytes read as a
// little-endian number (Q4_K splits the high bits of s4..s7 and m4..m7
// off, which costs eight instructions a block to undo; these take three,
// for four blocks at once).
const q4KPacked = dtype.Type(numGGUFTypes)

// q8Packed is Q8_0, packed: each row's blocks in groups of eight, the
// eight scales (fp16) first, then the eight blocks' 32 quants, each plus
// 128 (stored as unsigned bytes, the operand VPDPBUSD takes unsigned: the
// activations' precomputed sums correct for the 128). One conversion then
// serves eight scales, and no instruction flips signs. Rows of a whole
// number of groups only.
const q8Packed = dtype.Type(numGGUFTypes + 1)

// numGGUFTypes bounds the GGUF type values the kernel table holds; packed
// types follow them.
const numGGUFTypes = 32

// numTypes is the size of the kernel table: GGUF types and packed types.
const numTypes = numGGUFTypes + 2

// packing describes the packed layout of a GGUF type.
type packing struct {
	packed dtype.Type // the type value that names the layout
	group  int        // packed rows hold a multiple of this many blocks
	// pack rewrites one row of nb blocks in place, using tmp (one row) as
	// scratch.
	pack func(row, tmp []byte, nb int)
}

// packings holds the types that have a packed layout.
var packings = map[dtype.Type]packing{
	dtype.Q4_K: {packed: q4KPacked, group: 1, pack: packQ4_KRow},
	dtype.Q8_0: {packed: q8Packed, group: 8, pack: packQ8_0Row},
}

// Pack rewrites w, rows of cols values of type t, into the packed layout of
// t that the kernels in use read fastest, in place, and returns the type to
// compute with from then on. When t has no such layout (or none faster than
// the plain one on this CPU, or cols is not a whole number of blocks) it
// leaves w alone and returns t.
func Pack(t dtype.Type, w []byte, cols int) dtype.Type {
	p, ok := packings[t]
	if !ok || !packedFast[p.packed] || cols <= 0 || cols%t.BlockSize() != 0 {
		return t
	}
	nb := cols / t.BlockSize()
	if nb%p.group != 0 {
		return t
	}
	rb := nb * t.BlockBytes()
	if len(w)%rb != 0 {
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

// q4KPlace returns where block i of a packed Q4_K row of nb blocks keeps
// its header and its nibbles.
func q4KPlace(i, nb int) (head, nibbles int) {
	g, k := i/4, i%4
	if g < nb/4 {
		return 576*g + 16*k, 576*g + 64 + 128*k
	}
	base, r := 576*(nb/4), nb%4
	return base + 16*k, base + 16*r + 128*k
}

// packQ4_KRow packs one Q4_K row of nb blocks in place.
func packQ4_KRow(row, tmp []byte, nb int) {
	copy(tmp, row)
	for i := 0; i < nb; i++ {
		b := (*[144]byte)(tmp[144*i:])
		h, q := q4KPlace(i, nb)
		copy(row[h:h+4], b[:4])
		var f [16]byte
		for j := 0; j < 8; j++ {
			f[j], f[8+j] = scaleMinK4(j, (*[12]byte)(b[4:]))
		}
		putFields6(row[h+4:h+16], &f)
		copy(row[q:q+128], b[16:])
	}
}

// unpackQ4_KRow is packQ4_KRow's inverse: it writes the Q4_K row of nb
// blocks held packed in src into dst.
func unpackQ4_KRow(dst, src []byte, nb int) {
	for i := 0; i < nb; i++ {
		b := (*[144]byte)(dst[144*i:])
		h, q := q4KPlace(i, nb)
		copy(b[:4], src[h:h+4])
		f := fields6(src[h+4 : h+16])
		p := (*[12]byte)(b[4:])
		for j := 0; j < 4; j++ {
			p[j] = f[j] | f[4+j]>>4<<6
			p[4+j] = f[8+j] | f[12+j]>>4<<6
			p[8+j] = f[4+j]&0xf | f[12+j]&0xf<<4
		}
		copy(b[16:], src[q:q+128])
	}
}

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

// putFields6 stores sixteen 6-bit values end to end in 12 bytes, value i in
// bits 6i..6i+5 of the little-endian number they make.
func putFields6(dst []byte, f *[16]byte) {
	var lo, hi uint64
	for i, v := range f {
		p := 6 * uint(i)
		switch {
		case p+6 <= 64:
			lo |= uint64(v&63) << p
		case p >= 64:
			hi |= uint64(v&63) << (p - 64)
		default:
			lo |= uint64(v&63) << p
			hi |= uint64(v&63) >> (64 - p)
		}
	}
	binary.LittleEndian.PutUint64(dst, lo)
	binary.LittleEndian.PutUint32(dst[8:], uint32(hi))
}

// fields6 reads the sixteen 6-bit values putFields6 stored.
func fields6(src []byte) [16]byte {
	lo := binary.LittleEndian.Uint64(src)
	hi := uint64(binary.LittleEndian.Uint32(src[8:]))
	var f [16]byte
	for i := range f {
		p := 6 * uint(i)
		var v uint64
		switch {
		case p+6 <= 64:
			v = lo >> p
		case p >= 64:
			v = hi >> (p - 64)
		default:
			v = lo>>p | hi<<(64-p)
		}
		f[i] = byte(v & 63)
	}
	return f
}

// qdotQ4_KPacked is qdotQ4_K over a packed row, the same sums in the same
// order.
func qdotQ4_KPacked(row, xq []byte) float32 {
	var sumf float32
	nb := len(row) / 144
	for i := 0; i < nb; i++ {
		h, qo := q4KPlace(i, nb)
		m := (*[16]byte)(row[h:])
		q := (*[128]byte)(row[qo:])
		f := fields6(m[4:])
		a := (*[q8KBlock]byte)(xq[q8KBlock*i:])
		var isum, summs int32
		for c := 0; c < 4; c++ {
			s1, m1 := f[2*c], f[8+2*c]
			s2, m2 := f[2*c+1], f[8+2*c+1]
			var i1, i2 int32
			for l := 0; l < 32; l++ {
				v := q[32*c+l]
				i1 += int32(v&0xf) * q8kAt(a, 64*c+l)
				i2 += int32(v>>4) * q8kAt(a, 64*c+32+l)
			}
			isum += int32(s1)*i1 + int32(s2)*i2
			summs += int32(m1)*(bsum(a, 4*c)+bsum(a, 4*c+1)) + int32(m2)*(bsum(a, 4*c+2)+bsum(a, 4*c+3))
		}
		yd := f32at(a[0:])
		sumf += f16at(m[0:])*yd*float32(isum) - f16at(m[2:])*yd*float32(summs)
	}
	return sumf
}

// dequantQ4_KPacked decodes one packed row: len(dst) values (a whole row;
// the layout depends on the row's length).
func dequantQ4_KPacked(dst []float32, src []byte) {
	nb := len(dst) / 256
	tmp := make([]byte, 144*nb)
	unpackQ4_KRow(tmp, src[:144*nb], nb)
	dequantQ4_K(dst, tmp)
}

// registerPacked adds the portable kernels of the packed types.
func registerPacked() {
	kernelTable[q4KPacked] = kernel{
		blockSize: 256, blockBytes: 144, act: actQ8_K,
		qdot: qdotQ4_KPacked, vec: vecOf(qdotQ4_KPacked), dequant: dequantQ4_KPacked,
	}
	portable[q4KPacked], portableAct[q4KPacked] = qdotQ4_KPacked, actQ8_K
	kernelTable[q8Packed] = kernel{
		blockSize: 32, blockBytes: 34, act: actQ8_0,
		qdot: qdotQ8_0Packed, vec: vecOf(qdotQ8_0Packed), dequant: dequantQ8_0Packed,
	}
	portable[q8Packed], portableAct[q8Packed] = qdotQ8_0Packed, actQ8_0
	packedFast = [numTypes]bool{}
}
