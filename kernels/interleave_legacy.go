package kernels

import (
	"encoding/binary"

	"ferry/dtype"
)

// Layouts of the legacy types Q4_0, Q5_0, Q4_1 and Q5_1 interleaved by
// eight rows, for the AVX2 loops (x8legacy_amd64.s). Q4_0's is q8X8's
// with two quants a byte, Q4_1's q40X8's with the mins. In the 5-bit ones, a block's 32 quants q
// (0-31, the nibble and 16 times its bit of qh) are kept five bits apart
// from the nibbles' order: q40X8's steps, each byte holding a whole quant
// of the low half of the block and three bits of the high half's, and the
// remaining two bits of the high half's gathered in one more 32-byte
// plane, so that the loop forms a step's quants with masks and shifts,
// without spreading qh bit by bit.

// q40X8 is Q4_0 interleaved by eight rows, for the AVX2 loop: q8X8's
// layout with two quants a byte, as in the file. A unit of sixteen rows is
// two groups of eight (rows 0-7, then 8-15); a group of nb blocks holds,
// for each block index b in turn, 144 bytes (the eight rows' block b, in
// the same space): @0 the eight rows' d (fp16, row r at 2r); @16 the
// quants, 32 bytes per step t in 0..3: row r's qs bytes 4t..4t+3 at 4r,
// whose low nibbles are values 4t..4t+3 and high nibbles values
// 16+4t..16+4t+3.
const q40X8 = dtype.Type(numGGUFTypes + 9)

// q40X8Block is the size of one block index of a q40X8 group.
const q40X8Block = x8Rows * 18

// packQ4_0X8 packs one unit, sixteen Q4_0 rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ4_0X8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 18 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q40X8Block*(g*nb+b) : q40X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := tmp[rb*(x8Rows*g+r)+18*b:][:18]
				copy(out[2*r:2*r+2], blk[0:2])
				spread4(out[16:], blk[2:], r, 4)
			}
		}
	}
}

// unpackQ4_0X8 is packQ4_0X8's inverse: it writes the sixteen Q4_0 rows of
// the unit src into dst.
func unpackQ4_0X8(dst, src []byte, nb int) {
	rb := 18 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q40X8Block*(g*nb+b) : q40X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := dst[rb*(x8Rows*g+r)+18*b:][:18]
				copy(blk[0:2], in[2*r:])
				gather4(blk[2:], in[16:], r, 4)
			}
		}
	}
}

// The legacy layouts again, for rows of at most x8BroadcastCols values:
// the same bytes, read by loops that take the actQ8_0B activations
// (broadcast, as operands of their multiplies) where those of q40X8,
// q50X8, q41X8 and q51X8 broadcast them (see q4KX8B).
const (
	q40X8B = dtype.Type(numGGUFTypes + 13)
	q50X8B = dtype.Type(numGGUFTypes + 14)
	q41X8B = dtype.Type(numGGUFTypes + 15)
	q51X8B = dtype.Type(numGGUFTypes + 16)
)

// q50X8 is Q5_0 interleaved by eight rows, for the AVX2 loop. A unit of
// sixteen rows is two groups of eight (rows 0-7, then 8-15); a group of nb
// blocks holds, for each block index b in turn, 176 bytes (the eight rows'
// block b, in the same space): @0 the eight rows' d (fp16, row r at 2r);
// @16 the quants, 32 bytes per step t in 0..3: at 4r+k (k in 0..3), row
// r's quant 4t+k in bits 0-4 and the low three bits of its quant 16+4t+k
// in bits 5-7; @144 at 4r+k, for each t, the top two bits of row r's
// quant 16+4t+k in bits 2t and 2t+1. (Quants q are 0-31, the values q-16.)
const q50X8 = dtype.Type(numGGUFTypes + 10)

// q50X8Block is the size of one block index of a q50X8 group.
const q50X8Block = x8Rows * 22

// q5Quants returns the 32 quants (0-31) of a Q5_0 or Q5_1 block given its
// qh (the fifth bits) and its sixteen bytes of nibbles, four at a time as
// the bytes of a 32-bit word (spreadBits4 puts four bits of qh in them).
func q5Quants(qh uint32, qs []byte) (q [32]byte) {
	le := binary.LittleEndian
	for j := 0; j < 16; j += 4 {
		n := le.Uint32(qs[j:])
		le.PutUint32(q[j:], n&0x0f0f0f0f|spreadBits4(qh>>j)<<4)
		le.PutUint32(q[16+j:], n>>4&0x0f0f0f0f|spreadBits4(qh>>(16+j))<<4)
	}
	return q
}

// spreadBits4 returns bits 0-3 of x as bit 0 of bytes 0-3 (a multiply
// moves bit i to bit 8i; the products' bits do not overlap).
func spreadBits4(x uint32) uint32 { return (x & 0xf) * 0x00204081 & 0x01010101 }

// q5Blocks is q5Quants' inverse: it returns qh and writes the nibbles
// into qs.
func q5Blocks(q *[32]byte, qs []byte) (qh uint32) {
	for j := 0; j < 16; j++ {
		qs[j] = q[j]&0xf | q[j+16]<<4
		qh |= uint32(q[j]>>4)<<j | uint32(q[j+16]>>4)<<(j+16)
	}
	return qh
}

// spreadQ5 writes row r's quants q into the steps (@0, 32 bytes each) and
// the plane of top bits (@128) of one block index of an eight-row Q5
// layout (q50X8, q51X8), four quants at a time as the bytes of a word.
func spreadQ5(dst []byte, q *[32]byte, r int) {
	le := binary.LittleEndian
	var plane uint32
	for t := 0; t < 4; t++ {
		lo, hi := le.Uint32(q[4*t:]), le.Uint32(q[16+4*t:])
		le.PutUint32(dst[32*t+4*r:], lo|(hi&0x07070707)<<5)
		plane |= (hi >> 3 & 0x03030303) << (2 * t)
	}
	le.PutUint32(dst[128+4*r:], plane)
}

// gatherQ5 is spreadQ5's inverse: it returns row r's quants.
func gatherQ5(src []byte, r int) (q [32]byte) {
	for t := 0; t < 4; t++ {
		for k := 0; k < 4; k++ {
			b, h := src[32*t+4*r+k], src[128+4*r+k]>>(2*t)&3
			q[4*t+k] = b & 0x1f
			q[16+4*t+k] = b>>5 | h<<3
		}
	}
	return q
}

// packQ5_0X8 packs one unit, sixteen Q5_0 rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ5_0X8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 22 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q50X8Block*(g*nb+b) : q50X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := tmp[rb*(x8Rows*g+r)+22*b:][:22]
				copy(out[2*r:2*r+2], blk[0:2])
				q := q5Quants(binary.LittleEndian.Uint32(blk[2:]), blk[6:])
				spreadQ5(out[16:], &q, r)
			}
		}
	}
}

// unpackQ5_0X8 is packQ5_0X8's inverse: it writes the sixteen Q5_0 rows of
// the unit src into dst.
func unpackQ5_0X8(dst, src []byte, nb int) {
	rb := 22 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q50X8Block*(g*nb+b) : q50X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := dst[rb*(x8Rows*g+r)+22*b:][:22]
				copy(blk[0:2], in[2*r:])
				q := gatherQ5(in[16:], r)
				binary.LittleEndian.PutUint32(blk[2:], q5Blocks(&q, blk[6:]))
			}
		}
	}
}

// q41X8 is Q4_1 interleaved by eight rows, for the AVX2 loop: q40X8's
// layout with the rows' mins. A group of nb blocks holds, for each block
// index b in turn, 160 bytes (the eight rows' block b, in the same
// space): @0 the eight rows' d (fp16, row r at 2r); @16 their m (fp16, row
// r at 16+2r); @32 the quants, 32 bytes per step t in 0..3: row r's qs
// bytes 4t..4t+3 at 4r, whose low nibbles are values 4t..4t+3 and high
// nibbles values 16+4t..16+4t+3.
const q41X8 = dtype.Type(numGGUFTypes + 11)

// q41X8Block is the size of one block index of a q41X8 group.
const q41X8Block = x8Rows * 20

// packQ4_1X8 packs one unit, sixteen Q4_1 rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ4_1X8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 20 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q41X8Block*(g*nb+b) : q41X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := tmp[rb*(x8Rows*g+r)+20*b:][:20]
				copy(out[2*r:2*r+2], blk[0:2])
				copy(out[16+2*r:16+2*r+2], blk[2:4])
				spread4(out[32:], blk[4:], r, 4)
			}
		}
	}
}

// unpackQ4_1X8 is packQ4_1X8's inverse: it writes the sixteen Q4_1 rows of
// the unit src into dst.
func unpackQ4_1X8(dst, src []byte, nb int) {
	rb := 20 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q41X8Block*(g*nb+b) : q41X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := dst[rb*(x8Rows*g+r)+20*b:][:20]
				copy(blk[0:2], in[2*r:])
				copy(blk[2:4], in[16+2*r:])
				gather4(blk[4:], in[32:], r, 4)
			}
		}
	}
}

// q51X8 is Q5_1 interleaved by eight rows, for the AVX2 loop: q50X8's
// quants with the rows' mins. A group of nb blocks holds, for each block
// index b in turn, 192 bytes (the eight rows' block b, in the same
// space): @0 the eight rows' d (fp16, row r at 2r); @16 their m (fp16, row
// r at 16+2r); @32 the quants, 32 bytes per step t in 0..3: at 4r+k (k in
// 0..3), row r's quant 4t+k in bits 0-4 and the low three bits of its
// quant 16+4t+k in bits 5-7; @160 at 4r+k, for each t, the top two bits
// of row r's quant 16+4t+k in bits 2t and 2t+1.
const q51X8 = dtype.Type(numGGUFTypes + 12)

// q51X8Block is the size of one block index of a q51X8 group.
const q51X8Block = x8Rows * 24

// packQ5_1X8 packs one unit, sixteen Q5_1 rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ5_1X8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 24 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q51X8Block*(g*nb+b) : q51X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := tmp[rb*(x8Rows*g+r)+24*b:][:24]
				copy(out[2*r:2*r+2], blk[0:2])
				copy(out[16+2*r:16+2*r+2], blk[2:4])
				q := q5Quants(binary.LittleEndian.Uint32(blk[4:]), blk[8:])
				spreadQ5(out[32:], &q, r)
			}
		}
	}
}

// unpackQ5_1X8 is packQ5_1X8's inverse: it writes the sixteen Q5_1 rows of
// the unit src into dst.
func unpackQ5_1X8(dst, src []byte, nb int) {
	rb := 24 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q51X8Block*(g*nb+b) : q51X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := dst[rb*(x8Rows*g+r)+24*b:][:24]
				copy(blk[0:2], in[2*r:])
				copy(blk[2:4], in[16+2*r:])
				q := gatherQ5(in[32:], r)
				binary.LittleEndian.PutUint32(blk[4:], q5Blocks(&q, blk[8:]))
			}
		}
	}
}
