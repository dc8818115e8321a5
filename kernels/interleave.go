package kernels

import (
	"encoding/binary"
	"fmt"

	"ferry/dtype"
)

// Interleaved layouts. A row loop that walks one row at a time pays, per
// block, for unpacking the block's scales, for applying them to its
// sub-block sums, and for the horizontal sums of the row's lanes; on a core
// whose 512-bit operations take two passes (Zen 4) those are what keeps
// decode short of the memory's speed. Packing sixteen rows together, four
// quants of each row side by side, lets one VPDPBUSD take four quants of
// sixteen rows against four activation bytes broadcast to every lane: each
// 32-bit lane is one row, a sub-block's sums land in one register after
// eight of them, one multiply applies sixteen rows' scales at once, and the
// sixteen results are the lanes of one register, with no horizontal sums.
// Such a layout is a unit of sixteen rows: the kernels of an interleaved
// type take whole units (kernel.unit), and Pack chooses it only for
// matrices whose rows are a multiple of sixteen.

// interleaveRows is how many rows an interleaved unit holds.
const interleaveRows = 16

// q4KX16 is Q4_K interleaved by sixteen rows. A unit of sixteen rows of nb
// blocks holds, for each block index b in turn, 2304 bytes (the sixteen
// rows' block b, in the same space):
//
//   - @0 the sixteen rows' d, @32 their dmin (fp16, row r at 2r);
//   - @64 their 6-bit scales and @160 their 6-bit mins, 96 bytes each, field
//     i in bits 6i..6i+5 of the little-endian number the bytes make: scale i
//     is sub-block i/16 of row i%16, min i is sub-block 2(i/32)+i%2 of row
//     i%32/2 (the two mins of a pair of sub-blocks side by side);
//   - @256 the quants, 64 bytes per step s = 8c+t (c the 64-value chunk of
//     the block, t in 0..7): row r's bytes 32c+4t..32c+4t+3 of the block's
//     qs at 4r, whose low nibbles are values 64c+4t..+3 (sub-block 2c) and
//     high nibbles values 64c+32+4t..+3 (sub-block 2c+1).
const q4KX16 = dtype.Type(numGGUFTypes)

// q4KX16Block is the size of one block index of a q4KX16 unit.
const q4KX16Block = interleaveRows * 144

// q8X16 is Q8_0 interleaved by sixteen rows. A unit of sixteen rows of nb
// blocks holds, for each block index b in turn, 544 bytes (the sixteen
// rows' block b, in the same space): @0 the sixteen rows' d (fp16, row r at
// 2r); @32 the quants, 64 bytes per step t in 0..7: row r's quants
// 4t..4t+3 at 4r, each plus 128 as an unsigned byte (the operand VPDPBUSD
// takes unsigned; the activations' sums correct for the 128).
const q8X16 = dtype.Type(numGGUFTypes + 1)

// q8X16Block is the size of one block index of a q8X16 unit.
const q8X16Block = interleaveRows * 34

// packQ8_0X16 packs one unit, sixteen Q8_0 rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ8_0X16(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 34 * nb
	for b := 0; b < nb; b++ {
		out := rows[q8X16Block*b : q8X16Block*(b+1)]
		for r := 0; r < interleaveRows; r++ {
			blk := tmp[rb*r+34*b:]
			copy(out[2*r:2*r+2], blk[0:2])
			for t := 0; t < 8; t++ {
				for i := 0; i < 4; i++ {
					out[32+64*t+4*r+i] = blk[2+4*t+i] ^ 0x80
				}
			}
		}
	}
}

// unpackQ8_0X16 is packQ8_0X16's inverse: it writes the sixteen Q8_0 rows
// of the unit src into dst.
func unpackQ8_0X16(dst, src []byte, nb int) {
	rb := 34 * nb
	for b := 0; b < nb; b++ {
		in := src[q8X16Block*b:]
		for r := 0; r < interleaveRows; r++ {
			blk := dst[rb*r+34*b:]
			copy(blk[0:2], in[2*r:2*r+2])
			for t := 0; t < 8; t++ {
				for i := 0; i < 4; i++ {
					blk[2+4*t+i] = in[32+64*t+4*r+i] ^ 0x80
				}
			}
		}
	}
}

// q6KX16 is Q6_K interleaved by sixteen rows. A unit of sixteen rows of nb
// blocks holds, for each block index b in turn, 3360 bytes (the sixteen
// rows' block b, in the same space): @0 the sixteen rows' d (fp16, row r
// at 2r); @32 their scales (int8), scale of sub-block j of row r at
// 16j+r; @288 the quants, 192 bytes per 16-value sub-block j: three planes
// of 64 bytes, whose byte 4r+i holds, for row r, the 6-bit quants
// q_t of values 16j+4t+i (t = 0..3): q_0, q_1 and q_2 in the low six
// bits of planes 0, 1 and 2, and q_3's bits 0-1, 2-3 and 4-5 in their top
// two bits.
const q6KX16 = dtype.Type(numGGUFTypes + 2)

// q6KX16Block is the size of one block index of a q6KX16 unit.
const q6KX16Block = interleaveRows * 210

// q6Quant returns the 6-bit quant (0..63) of value v of a Q6_K block.
func q6Quant(b *[210]byte, v int) byte {
	h, w := v/128, v%128
	c, l := w/32, w%32
	lo := b[64*h+32*(c&1)+l]
	if c >= 2 {
		lo >>= 4
	}
	return lo&0xf | (b[128+32*h+l]>>(2*c)&3)<<4
}

// q6Quants writes the 6-bit quants (0..63) of all 256 values of a Q6_K
// block into q: q6Quant for every value, a half-block of 128 at a time,
// four values at a time as the bytes of a 32-bit word.
func q6Quants(b *[210]byte, q *[256]byte) {
	le := binary.LittleEndian
	for h := 0; h < 2; h++ {
		ql, qh, out := b[64*h:64*h+64], b[128+32*h:128+32*h+32], q[128*h:128*h+128]
		for l := 0; l < 32; l += 4 {
			lo, hi, hb := le.Uint32(ql[l:]), le.Uint32(ql[32+l:]), le.Uint32(qh[l:])
			le.PutUint32(out[l:], lo&0x0f0f0f0f|(hb&0x03030303)<<4)
			le.PutUint32(out[32+l:], hi&0x0f0f0f0f|(hb>>2&0x03030303)<<4)
			le.PutUint32(out[64+l:], lo>>4&0x0f0f0f0f|(hb>>4&0x03030303)<<4)
			le.PutUint32(out[96+l:], hi>>4&0x0f0f0f0f|(hb>>6&0x03030303)<<4)
		}
	}
}

// setQ6Quant stores q as the quant of value v of a Q6_K block (whose bits
// for v must be clear).
func setQ6Quant(b *[210]byte, v int, q byte) {
	h, w := v/128, v%128
	c, l := w/32, w%32
	lo := q & 0xf
	if c >= 2 {
		lo <<= 4
	}
	b[64*h+32*(c&1)+l] |= lo
	b[128+32*h+l] |= (q >> 4 & 3) << (2 * c)
}

// packQ6_KX16 packs one unit, sixteen Q6_K rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ6_KX16(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 210 * nb
	for b := 0; b < nb; b++ {
		out := rows[q6KX16Block*b : q6KX16Block*(b+1)]
		for r := 0; r < interleaveRows; r++ {
			blk := (*[210]byte)(tmp[rb*r+210*b:])
			copy(out[2*r:2*r+2], blk[208:210])
			for j := 0; j < 16; j++ {
				out[32+16*j+r] = blk[192+j]
				pl := out[288+192*j:]
				for i := 0; i < 4; i++ {
					q3 := q6Quant(blk, 16*j+12+i)
					for t := 0; t < 3; t++ {
						pl[64*t+4*r+i] = q6Quant(blk, 16*j+4*t+i) | (q3>>(2*t)&3)<<6
					}
				}
			}
		}
	}
}

// unpackQ6_KX16 is packQ6_KX16's inverse: it writes the sixteen Q6_K rows
// of the unit src into dst.
func unpackQ6_KX16(dst, src []byte, nb int) {
	rb := 210 * nb
	for b := 0; b < nb; b++ {
		in := src[q6KX16Block*b:]
		for r := 0; r < interleaveRows; r++ {
			blk := (*[210]byte)(dst[rb*r+210*b:])
			*blk = [210]byte{}
			copy(blk[208:210], in[2*r:2*r+2])
			for j := 0; j < 16; j++ {
				blk[192+j] = in[32+16*j+r]
				pl := in[288+192*j:]
				for i := 0; i < 4; i++ {
					var q3 byte
					for t := 0; t < 3; t++ {
						p := pl[64*t+4*r+i]
						setQ6Quant(blk, 16*j+4*t+i, p&63)
						q3 |= p >> 6 << (2 * t)
					}
					setQ6Quant(blk, 16*j+12+i, q3)
				}
			}
		}
	}
}

// packQ4_KX16 packs one unit, sixteen Q4_K rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ4_KX16(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 144 * nb
	for b := 0; b < nb; b++ {
		out := rows[q4KX16Block*b : q4KX16Block*(b+1)]
		var sc, mn [128]byte
		for r := 0; r < interleaveRows; r++ {
			blk := (*[144]byte)(tmp[rb*r+144*b:])
			copy(out[2*r:2*r+2], blk[0:2])
			copy(out[32+2*r:32+2*r+2], blk[2:4])
			for j := 0; j < 8; j++ {
				s, m := scaleMinK4(j, (*[12]byte)(blk[4:]))
				sc[16*j+r] = s
				mn[32*(j/2)+2*r+j%2] = m
			}
			for c := 0; c < 4; c++ {
				for t := 0; t < 8; t++ {
					copy(out[256+64*(8*c+t)+4*r:][:4], blk[16+32*c+4*t:])
				}
			}
		}
		putFields6N(out[64:160], sc[:])
		putFields6N(out[160:256], mn[:])
	}
}

// unpackQ4_KX16 is packQ4_KX16's inverse: it writes the sixteen Q4_K rows
// of the unit src into dst.
func unpackQ4_KX16(dst, src []byte, nb int) {
	rb := 144 * nb
	for b := 0; b < nb; b++ {
		in := src[q4KX16Block*b : q4KX16Block*(b+1)]
		sc, mn := fields6N(in[64:160], 128), fields6N(in[160:256], 128)
		for r := 0; r < interleaveRows; r++ {
			blk := (*[144]byte)(dst[rb*r+144*b:])
			copy(blk[0:2], in[2*r:])
			copy(blk[2:4], in[32+2*r:])
			var s, m [8]byte
			for j := 0; j < 8; j++ {
				s[j], m[j] = sc[16*j+r], mn[32*(j/2)+2*r+j%2]
			}
			p := (*[12]byte)(blk[4:])
			for j := 0; j < 4; j++ {
				p[j] = s[j] | s[4+j]>>4<<6
				p[4+j] = m[j] | m[4+j]>>4<<6
				p[8+j] = s[4+j]&0xf | m[4+j]&0xf<<4
			}
			for c := 0; c < 4; c++ {
				for t := 0; t < 8; t++ {
					copy(blk[16+32*c+4*t:][:4], in[256+64*(8*c+t)+4*r:])
				}
			}
		}
	}
}

// q4KX8 is Q4_K interleaved by eight rows, for the AVX2 loop: VPMADDUBSW
// takes four quants of eight rows (32 bytes) against four activation bytes
// broadcast to every row, the words of a sub-block add up over its eight
// steps without overflowing (8*2*15*128 < 2^15), and one VPMADDWD applies
// the eight rows' scales. A unit of sixteen rows is two groups of eight
// (rows 0-7, then rows 8-15); a group of nb blocks holds, for each block
// index b in turn, 1152 bytes (the eight rows' block b, in the same
// space):
//
//   - @0 the eight rows' d, @16 their dmin (fp16, row r at 2r);
//   - @32, @64 and @96 bytes 0-3, 4-7 and 8-11 of their packed 6-bit
//     scales and mins (row r at 4r), so that one byte operation unpacks a
//     field of all eight rows;
//   - @128 the quants, 32 bytes per step s = 8c+t (c the 64-value chunk of
//     the block, t in 0..7): row r's bytes 32c+4t..32c+4t+3 of the block's
//     qs at 4r, whose low nibbles are values 64c+4t..+3 (sub-block 2c) and
//     high nibbles values 64c+32+4t..+3 (sub-block 2c+1).
const q4KX8 = dtype.Type(numGGUFTypes + 4)

// q4KX8B is q4KX8 for rows of at most x8BroadcastCols values, whose loop
// takes its activations broadcast (actQ8_KB): the same layout, whose
// kernels differ (from L2 on a Zen 1 core, 13.3 GB/s against 12.1). Wider
// rows keep q4KX8 or, in units of 32 rows, take q4KX8B's loop a panel of
// 2048 values at a time (q4KX8W, panel.go): the broadcast form of a
// 5632-value input, 44 KiB, is more than the L1 holds, and from memory a
// product over whole rows of it ran at 0.70-0.85 of q4KX8's.
const q4KX8B = dtype.Type(numGGUFTypes + 7)

// x8BroadcastCols is the widest row Pack gives q4KX8B.
const x8BroadcastCols = 2048

// x8Rows is how many rows a group of q4KX8 interleaves.
const x8Rows = 8

// q4KX8Block is the size of one block index of a q4KX8 group.
const q4KX8Block = x8Rows * 144

// spread4 copies n groups of four bytes of one row's block, src's bytes
// 4i..4i+3, to where a layout interleaved by eight rows keeps them for row
// r: dst's bytes 32i+4r..32i+4r+3.
func spread4(dst, src []byte, r, n int) {
	for i := 0; i < n; i++ {
		copy(dst[32*i+4*r:][:4], src[4*i:])
	}
}

// gather4 is spread4's inverse: it copies row r's n groups of four bytes
// in src back into dst's bytes 4i..4i+3.
func gather4(dst, src []byte, r, n int) {
	for i := 0; i < n; i++ {
		copy(dst[4*i:][:4], src[32*i+4*r:])
	}
}

// packQ4_KX8 packs one unit, sixteen Q4_K rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ4_KX8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 144 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q4KX8Block*(g*nb+b) : q4KX8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := tmp[rb*(x8Rows*g+r)+144*b:][:144]
				copy(out[2*r:2*r+2], blk[0:2])
				copy(out[16+2*r:16+2*r+2], blk[2:4])
				spread4(out[32:], blk[4:], r, 3)
				spread4(out[128:], blk[16:], r, 32)
			}
		}
	}
}

// unpackQ4_KX8 is packQ4_KX8's inverse: it writes the sixteen Q4_K rows of
// the unit src into dst.
func unpackQ4_KX8(dst, src []byte, nb int) {
	rb := 144 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q4KX8Block*(g*nb+b) : q4KX8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := dst[rb*(x8Rows*g+r)+144*b:][:144]
				copy(blk[0:2], in[2*r:])
				copy(blk[2:4], in[16+2*r:])
				gather4(blk[4:], in[32:], r, 3)
				gather4(blk[16:], in[128:], r, 32)
			}
		}
	}
}

// q5KX8 is Q5_K interleaved by eight rows, for the AVX2 loop: q4KX8's
// header with the quants whole, as q50X8 keeps them. A unit of sixteen
// rows is two groups of eight; a group of nb blocks holds, for each block
// index b in turn, 1408 bytes (the eight rows' block b, in the same
// space): @0-127 as q4KX8's (d, dmin, the three parts of the scales);
// @128+320c for each 64-value chunk c, 32 bytes per step t in 0..7 (at
// 32t), whose byte 4r+k holds row r's 5-bit quant of value 64c+4t+k
// (sub-block 2c) in bits 0-4 and the low three bits of its quant of value
// 64c+32+4t+k (sub-block 2c+1) in bits 5-7, then two planes of 32 bytes
// (@256 steps 0-3, @288 steps 4-7) whose byte 4r+k holds, in bits 2(t%4)
// and 2(t%4)+1, the top two bits of that second quant. A step's quants
// take a mask, two shifts, two more masks and an or (X5Q), where the
// file's split nibbles and fifth bits took three more. The words of a
// sub-block add up over four steps (4*2*31*128 < 2^15), not eight.
const q5KX8 = dtype.Type(numGGUFTypes + 8)

// q5KX8B is q5KX8 for rows of at most x8BroadcastCols values, whose loop
// takes the actQ8_KB activations (see q4KX8B).
const q5KX8B = dtype.Type(numGGUFTypes + 17)

// q5KX8Block is the size of one block index of a q5KX8 group.
const q5KX8Block = x8Rows * 176

// setQ5KQuants writes the 256 quants q (0-31, the nibble and 16 times its
// fifth bit) into a Q5_K block's qh and qs.
func setQ5KQuants(b *[176]byte, q *[256]byte) {
	clear(b[16:48])
	for c := 0; c < 4; c++ {
		for l := 0; l < 32; l++ {
			lo, hi := q[64*c+l], q[64*c+32+l]
			b[48+32*c+l] = lo&0xf | hi<<4
			b[16+l] |= (lo>>4)<<(2*c) | (hi>>4)<<(2*c+1)
		}
	}
}

// packQ5_KX8 packs one unit, sixteen Q5_K rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size. Four
// values of a row are taken at a time as the bytes of a 32-bit word.
func packQ5_KX8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 176 * nb
	le := binary.LittleEndian
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q5KX8Block*(g*nb+b) : q5KX8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := (*[176]byte)(tmp[rb*(x8Rows*g+r)+176*b:])
				copy(out[2*r:2*r+2], blk[0:2])
				copy(out[16+2*r:16+2*r+2], blk[2:4])
				spread4(out[32:], blk[4:], r, 3)
				for c := 0; c < 4; c++ {
					ch := out[128+320*c:][:320]
					var planes [2]uint32
					for t := 0; t < 8; t++ {
						qs, qh := le.Uint32(blk[48+32*c+4*t:]), le.Uint32(blk[16+4*t:])
						lo := qs&0x0f0f0f0f | (qh>>(2*c)&0x01010101)<<4
						hi := qs>>4&0x0f0f0f0f | (qh>>(2*c+1)&0x01010101)<<4
						le.PutUint32(ch[32*t+4*r:], lo|(hi&0x07070707)<<5)
						planes[t/4] |= (hi >> 3 & 0x03030303) << (2 * (t % 4))
					}
					le.PutUint32(ch[256+4*r:], planes[0])
					le.PutUint32(ch[288+4*r:], planes[1])
				}
			}
		}
	}
}

// unpackQ5_KX8 is packQ5_KX8's inverse: it writes the sixteen Q5_K rows of
// the unit src into dst.
func unpackQ5_KX8(dst, src []byte, nb int) {
	rb := 176 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q5KX8Block*(g*nb+b) : q5KX8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := (*[176]byte)(dst[rb*(x8Rows*g+r)+176*b:])
				copy(blk[0:2], in[2*r:])
				copy(blk[2:4], in[16+2*r:])
				gather4(blk[4:], in[32:], r, 3)
				var q [256]byte
				for c := 0; c < 4; c++ {
					ch := in[128+320*c:][:320]
					for t := 0; t < 8; t++ {
						for k := 0; k < 4; k++ {
							v, h := ch[32*t+4*r+k], ch[256+32*(t/4)+4*r+k]>>(2*(t%4))&3
							q[64*c+4*t+k] = v & 0x1f
							q[64*c+32+4*t+k] = v>>5 | h<<3
						}
					}
				}
				setQ5KQuants(blk, &q)
			}
		}
	}
}

// q2KX8 is Q2_K interleaved by eight rows, for the AVX2 loop. A unit of
// sixteen rows is two groups of eight; a group of nb blocks holds, for
// each block index b in turn, 672 bytes (the eight rows' block b, in the
// same space): @0 the eight rows' d and @16 their dmin (fp16, row r at
// 2r); @32+16p for each pair p of 16-value sub-blocks, the rows' scale
// bytes of sub-blocks 2p and 2p+1 (scale in the low nibble, min in the
// high), row r's at 2r and 2r+1, so that widened to words each 32-bit lane
// holds one row's pair; @160+32j for each sub-block j, its quants: byte
// 4r+i holds in bits 2k and 2k+1 row r's quant of value 16j+4k+i. One load
// gives a sub-block's four steps (a shift and a mask each).
const q2KX8 = dtype.Type(numGGUFTypes + 18)

// q2KX8B is q2KX8 for rows of at most x8BroadcastCols values, whose loop
// takes the actQ8_KB activations (see q4KX8B), with their sums of 16.
const q2KX8B = dtype.Type(numGGUFTypes + 21)

// q2KX8Block is the size of one block index of a q2KX8 group.
const q2KX8Block = x8Rows * 84

// packQ2_KX8 packs one unit, sixteen Q2_K rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size. Four
// values of a row are taken at a time as the bytes of a 32-bit word:
// sub-block j's values 4k..4k+3 lie in qs bytes 32(j/8)+16(j%2)+4k..+3,
// at bits 2((j%8)/2).
func packQ2_KX8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 84 * nb
	le := binary.LittleEndian
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q2KX8Block*(g*nb+b) : q2KX8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := (*[84]byte)(tmp[rb*(x8Rows*g+r)+84*b:])
				copy(out[2*r:2*r+2], blk[80:82])
				copy(out[16+2*r:16+2*r+2], blk[82:84])
				for j := 0; j < 16; j++ {
					out[32+16*(j/2)+2*r+j%2] = blk[j]
					base, sh := 16+32*(j/8)+16*(j%2), 2*((j%8)/2)
					var w uint32
					for k := 0; k < 4; k++ {
						w |= (le.Uint32(blk[base+4*k:]) >> sh & 0x03030303) << (2 * k)
					}
					le.PutUint32(out[160+32*j+4*r:], w)
				}
			}
		}
	}
}

// unpackQ2_KX8 is packQ2_KX8's inverse: it writes the sixteen Q2_K rows of
// the unit src into dst.
func unpackQ2_KX8(dst, src []byte, nb int) {
	rb := 84 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q2KX8Block*(g*nb+b) : q2KX8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := (*[84]byte)(dst[rb*(x8Rows*g+r)+84*b:])
				copy(blk[80:82], in[2*r:])
				copy(blk[82:84], in[16+2*r:])
				clear(blk[16:80])
				for j := 0; j < 16; j++ {
					blk[j] = in[32+16*(j/2)+2*r+j%2]
					for k := 0; k < 4; k++ {
						for i := 0; i < 4; i++ {
							v := 16*j + 4*k + i
							q := in[160+32*j+4*r+i] >> (2 * k) & 3
							blk[16+32*(v/128)+v%32] |= q << (2 * (v % 128 / 32))
						}
					}
				}
			}
		}
	}
}

// q3KX8 is Q3_K interleaved by eight rows, for the AVX2 loop, with its
// quants whole (u = the two low bits and 4 times the high one, 0-7; the
// value is u-4) and its scales re-encoded. A unit of sixteen rows is two
// groups of eight; a group of nb blocks holds, for each block index b in
// turn, 880 bytes (the eight rows' block b, in the same space): @0 the
// eight rows' d (fp16, row r at 2r); @16, @48 and @80 three planes of
// 32 bytes whose low six bits are the scale bytes n of R0, R1 and R2, and
// whose top two bits are bits 0-1, 2-3 and 4-5 of R3's byte n, where
// byte n of Rm is the 6-bit scale (plus 32) of row (n%16)/2 of sub-block
// 2p+n%2, p = 2m+n/16 (widened to words, each lane one row's pair); @112+96p
// for each pair p of sub-blocks, three words W1, W2, W3 (32 bytes each)
// holding at byte 4r+i the whole quants of row r's values 4k+i of the
// two sub-blocks (a0-a3 of sub-block 2p for k = 0-3, b0-b3 of 2p+1):
// W1 = a0 | a1<<3 | (a2&3)<<6, W2 = a3 | b0<<3 | (a2>>2)<<6 | (b1&1)<<7,
// W3 = b2 | b3<<3 | (b1>>1)<<6. A pair's eight steps take 19 operations.
const q3KX8 = dtype.Type(numGGUFTypes + 19)

// q3KX8B is q3KX8 for rows of at most x8BroadcastCols values, whose loop
// takes the actQ8_KB activations (see q4KX8B), with their sums of 16.
const q3KX8B = dtype.Type(numGGUFTypes + 22)

// q3KX8Block is the size of one block index of a q3KX8 group.
const q3KX8Block = x8Rows * 110

// q3KScale returns the 6-bit scale byte (the scale plus 32) of sub-block j
// of a Q3_K block's packed scales p.
func q3KScale(p *[12]byte, j int) byte {
	lo := p[j%8] >> (4 * (j / 8)) & 0xf
	return lo | (p[8+j%4]>>(2*(j/4))&3)<<4
}

// packQ3_KX8 packs one unit, sixteen Q3_K rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size. Four
// values of a row are taken at a time as the bytes of a 32-bit word.
func packQ3_KX8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 110 * nb
	le := binary.LittleEndian
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q3KX8Block*(g*nb+b) : q3KX8Block*(g*nb+b+1)]
			clear(out[16:112])
			for r := 0; r < x8Rows; r++ {
				blk := (*[110]byte)(tmp[rb*(x8Rows*g+r)+110*b:])
				copy(out[2*r:2*r+2], blk[108:110])
				for j := 0; j < 16; j++ {
					u := q3KScale((*[12]byte)(blk[96:]), j)
					p, e := j/2, j%2
					m, n := p/2, 16*(p%2)+2*r+e
					if m < 3 {
						out[16+32*m+n] |= u
					} else {
						for pl := 0; pl < 3; pl++ {
							out[16+32*pl+n] |= (u >> (2 * pl) & 3) << 6
						}
					}
				}
				for p := 0; p < 8; p++ {
					// Pair p's values 4k+i of sub-block 2p (a) and 2p+1 (c),
					// i in the word's bytes: value 32p+l lies at qs byte
					// 32(p/4)+l, bits 2(p%4), its high bit at hmask byte l,
					// bit 4(p/4)+p%4.
					qb, sh, hb := 32+32*(p/4), 2*(p%4), 4*(p/4)+p%4
					var a, c [4]uint32
					for k := 0; k < 4; k++ {
						a[k] = le.Uint32(blk[qb+4*k:])>>sh&0x03030303 | (le.Uint32(blk[4*k:])>>hb&0x01010101)<<2
						c[k] = le.Uint32(blk[qb+16+4*k:])>>sh&0x03030303 | (le.Uint32(blk[16+4*k:])>>hb&0x01010101)<<2
					}
					w := out[112+96*p:][:96]
					le.PutUint32(w[4*r:], a[0]|a[1]<<3|(a[2]&0x03030303)<<6)
					le.PutUint32(w[32+4*r:], a[3]|c[0]<<3|(a[2]>>2&0x01010101)<<6|(c[1]&0x01010101)<<7)
					le.PutUint32(w[64+4*r:], c[2]|c[3]<<3|(c[1]>>1&0x03030303)<<6)
				}
			}
		}
	}
}

// unpackQ3_KX8 is packQ3_KX8's inverse: it writes the sixteen Q3_K rows of
// the unit src into dst.
func unpackQ3_KX8(dst, src []byte, nb int) {
	rb := 110 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q3KX8Block*(g*nb+b) : q3KX8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := (*[110]byte)(dst[rb*(x8Rows*g+r)+110*b:])
				copy(blk[108:110], in[2*r:])
				clear(blk[:108])
				for j := 0; j < 16; j++ {
					p, e := j/2, j%2
					m, n := p/2, 16*(p%2)+2*r+e
					var u byte
					if m < 3 {
						u = in[16+32*m+n] & 0x3f
					} else {
						for pl := 0; pl < 3; pl++ {
							u |= (in[16+32*pl+n] >> 6) << (2 * pl)
						}
					}
					blk[96+j%8] |= (u & 0xf) << (4 * (j / 8))
					blk[96+8+j%4] |= (u >> 4) << (2 * (j / 4))
				}
				for p := 0; p < 8; p++ {
					w := in[112+96*p:][:96]
					for i := 0; i < 4; i++ {
						w1, w2, w3 := w[4*r+i], w[32+4*r+i], w[64+4*r+i]
						a := [4]byte{w1 & 7, w1 >> 3 & 7, w1>>6 | (w2>>6&1)<<2, w2 & 7}
						c := [4]byte{w2 >> 3 & 7, w2>>7 | (w3>>6)<<1, w3 & 7, w3 >> 3 & 7}
						for k := 0; k < 4; k++ {
							setQ3KQuant(blk, 32*p+4*k+i, a[k])
							setQ3KQuant(blk, 32*p+16+4*k+i, c[k])
						}
					}
				}
			}
		}
	}
}

// setQ3KQuant stores the whole quant u (0-7) of value v into a Q3_K block
// whose bits for v are clear.
func setQ3KQuant(b *[110]byte, v int, u byte) {
	h, s, l := v/128, v%128/32, v%32
	b[32+32*h+l] |= (u & 3) << (2 * s)
	b[l] |= (u >> 2) << (4*h + s)
}

// q8X8 is Q8_0 interleaved by eight rows, for the AVX2 loop: one
// VPMADDUBSW takes four quants of eight rows (32 bytes) against four
// activation bytes broadcast to every row, and each row's sum stays in one
// 32-bit lane, with no horizontal sums. A unit of sixteen rows is two
// groups of eight (rows 0-7, then 8-15); a group of nb blocks holds, for
// each block index b in turn, 272 bytes (the eight rows' block b, in the
// same space): @0 the eight rows' d (fp16, row r at 2r); @16 the quants,
// 32 bytes per step t in 0..7: row r's quants 4t..4t+3 at 4r (as in the
// file, signed).
const q8X8 = dtype.Type(numGGUFTypes + 5)

// q8X8Block is the size of one block index of a q8X8 group.
const q8X8Block = x8Rows * 34

// packQ8_0X8 packs one unit, sixteen Q8_0 rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ8_0X8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 34 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q8X8Block*(g*nb+b) : q8X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := tmp[rb*(x8Rows*g+r)+34*b:][:34]
				copy(out[2*r:2*r+2], blk[0:2])
				spread4(out[16:], blk[2:], r, 8)
			}
		}
	}
}

// unpackQ8_0X8 is packQ8_0X8's inverse: it writes the sixteen Q8_0 rows of
// the unit src into dst.
func unpackQ8_0X8(dst, src []byte, nb int) {
	rb := 34 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q8X8Block*(g*nb+b) : q8X8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := dst[rb*(x8Rows*g+r)+34*b:][:34]
				copy(blk[0:2], in[2*r:])
				gather4(blk[2:], in[16:], r, 8)
			}
		}
	}
}

// q6KX8 is Q6_K interleaved by eight rows, for the AVX2 loop, with the
// quants in q6KX16's three planes: three of each four 6-bit quants are a
// byte's low six bits, and the fourth is spread over the three bytes' top
// bits, so that a step's quants take one AND and the fourth's eight
// operations shared by three steps, where the file's split nibbles and
// high bits take three or four. A unit of sixteen rows is two groups of
// eight (rows 0-7, then 8-15); a group of nb blocks holds, for each block
// index b in turn, 1680 bytes (the eight rows' block b, in the same
// space):
//
//   - @0 the eight rows' d (fp16, row r at 2r);
//   - @16 their scales (int8), 16 bytes per pair p of 16-value
//     sub-blocks: rows 0-3's scales of sub-block 2p, then of 2p+1, then
//     rows 4-7's likewise (one VPMOVSXBW widens them into the two 128-bit
//     lanes, rows 0-3 and 4-7);
//   - @144 the quants, 96 bytes per sub-block j: three planes of 32 bytes,
//     whose byte 4r+i holds, for row r, the 6-bit quants q_t of values
//     16j+4t+i (t = 0..2) in its low six bits, and bits 2t, 2t+1 of q_3
//     (value 16j+12+i) in its top two.
const q6KX8 = dtype.Type(numGGUFTypes + 6)

// q6KX8B is q6KX8 for rows of at most x8BroadcastCols values, whose loop
// takes the actQ8_KB activations (see q4KX8B), with their sums of 16.
const q6KX8B = dtype.Type(numGGUFTypes + 20)

// q6KX8Block is the size of one block index of a q6KX8 group.
const q6KX8Block = x8Rows * 210

// packQ6_KX8 packs one unit, sixteen Q6_K rows of nb blocks each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packQ6_KX8(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb := 210 * nb
	le := binary.LittleEndian
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			out := rows[q6KX8Block*(g*nb+b) : q6KX8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := (*[210]byte)(tmp[rb*(x8Rows*g+r)+210*b:])
				copy(out[2*r:2*r+2], blk[208:210])
				var q [256]byte
				q6Quants(blk, &q)
				for j := 0; j < 16; j++ {
					out[16+16*(j/2)+8*(r/4)+4*(j%2)+r%4] = blk[192+j]
					pl := out[144+96*j:]
					q3 := le.Uint32(q[16*j+12:])
					for t := 0; t < 3; t++ {
						le.PutUint32(pl[32*t+4*r:], le.Uint32(q[16*j+4*t:])|(q3>>(2*t)&0x03030303)<<6)
					}
				}
			}
		}
	}
}

// unpackQ6_KX8 is packQ6_KX8's inverse: it writes the sixteen Q6_K rows of
// the unit src into dst.
func unpackQ6_KX8(dst, src []byte, nb int) {
	rb := 210 * nb
	for g := 0; g < interleaveRows/x8Rows; g++ {
		for b := 0; b < nb; b++ {
			in := src[q6KX8Block*(g*nb+b) : q6KX8Block*(g*nb+b+1)]
			for r := 0; r < x8Rows; r++ {
				blk := (*[210]byte)(dst[rb*(x8Rows*g+r)+210*b:])
				*blk = [210]byte{}
				copy(blk[208:210], in[2*r:])
				for j := 0; j < 16; j++ {
					blk[192+j] = in[16+16*(j/2)+8*(r/4)+4*(j%2)+r%4]
					pl := in[144+96*j:]
					for i := 0; i < 4; i++ {
						var q3 byte
						for t := 0; t < 3; t++ {
							p := pl[32*t+4*r+i]
							setQ6Quant(blk, 16*j+4*t+i, p&63)
							q3 |= p >> 6 << (2 * t)
						}
						setQ6Quant(blk, 16*j+12+i, q3)
					}
				}
			}
		}
	}
}

// f16X16 is F16 interleaved by sixteen rows, as four groups of four rows
// one after another. A group of four rows of nb values (nb a multiple of
// 16) holds, for each 64-value step c in turn, 128 bytes of each of the
// four rows (values 64c..64c+63, row r at 128r), then, for each 16-value
// step s of the nb%64 values left, 32 bytes of each (values
// 64(nb/64)+16s.., row r at 32r). The loop that reads it takes four rows'
// steps together, converting the activations once for the four and reading
// a single stream, with each row's arithmetic that of the plain F16 loop.
const f16X16 = dtype.Type(numGGUFTypes + 3)

// f16Group is how many rows of an f16X16 unit are interleaved together.
const f16Group = 4

// f16Steps calls f(off, len) for the runs of values, in the order an
// f16X16 group stores them, of a row of nb values: the 64-value steps and
// then the 16-value ones (off and len in values).
func f16Steps(nb int, f func(off, n int)) {
	off := 0
	for ; off+64 <= nb; off += 64 {
		f(off, 64)
	}
	for ; off+16 <= nb; off += 16 {
		f(off, 16)
	}
}

// packF16X16 packs one unit, sixteen F16 rows of nb values each stored one
// after another in rows, in place; tmp is scratch of the same size.
func packF16X16(rows, tmp []byte, nb int) {
	copy(tmp, rows)
	rb, o := 2*nb, 0
	for g := 0; g < interleaveRows/f16Group; g++ {
		f16Steps(nb, func(off, n int) {
			for r := 0; r < f16Group; r++ {
				row := tmp[(f16Group*g+r)*rb:]
				o += copy(rows[o:], row[2*off:2*(off+n)])
			}
		})
	}
}

// unpackF16X16 is packF16X16's inverse: it writes the sixteen F16 rows of
// the unit src into dst.
func unpackF16X16(dst, src []byte, nb int) {
	rb, o := 2*nb, 0
	for g := 0; g < interleaveRows/f16Group; g++ {
		f16Steps(nb, func(off, n int) {
			for r := 0; r < f16Group; r++ {
				row := dst[(f16Group*g+r)*rb:]
				o += copy(row[2*off:2*(off+n)], src[o:o+2*n])
			}
		})
	}
}

// putFields6N stores the 6-bit values f end to end in dst, value i in bits
// 6i..6i+5 of the little-endian number the bytes make.
func putFields6N(dst []byte, f []byte) {
	clear(dst)
	for i, v := range f {
		for bit := 0; bit < 6; bit++ {
			if v>>bit&1 != 0 {
				p := 6*i + bit
				dst[p/8] |= 1 << (p % 8)
			}
		}
	}
}

// fields6N reads n 6-bit values that putFields6N stored.
func fields6N(src []byte, n int) []byte {
	f := make([]byte, n)
	for i := range f {
		for bit := 0; bit < 6; bit++ {
			p := 6*i + bit
			f[i] |= (src[p/8] >> (p % 8) & 1) << bit
		}
	}
	return f
}

// unitVec is the portable vecFunc of an interleaved type of units of
// rows rows: each unit of rb bytes is unpacked into rows of the plain
// type, whose portable row dot (taking activations of the plain type's
// form) computes them. It is the reference the SIMD loops are tested
// against, not a fast path.
func unitVec(unpack func(dst, src []byte, nb int), rows, blockBytes int, dot qdotFunc) vecFunc {
	return func(y []float32, w []byte, rb int, xq []byte) {
		rowBytes := rb / rows
		nb := rowBytes / blockBytes
		tmp := make([]byte, rb)
		for u := 0; u < len(y)/rows; u++ {
			unpack(tmp, w[u*rb:(u+1)*rb], nb)
			for r := 0; r < rows; r++ {
				y[u*rows+r] = dot(tmp[r*rowBytes:(r+1)*rowBytes], xq)
			}
		}
	}
}

// unitRowDot stands in for the row dot of an interleaved type, whose rows
// do not exist one by one: calling it is a misuse.
func unitRowDot(row, xq []byte) float32 {
	panic("kernels: an interleaved layout has no single rows (use MatVec or MatMul on whole units of 16 rows)")
}

// unitDequant stands in for the dequantizer of an interleaved type.
func unitDequant(dst []float32, src []byte) {
	panic(fmt.Sprintf("kernels: an interleaved layout has no single rows to dequantize (%d values)", len(dst)))
}

// interleaving describes an interleaved layout: the GGUF type it holds,
// how to unpack a unit back into rows of it, and how many rows a unit
// holds (0: interleaveRows).
type interleaving struct {
	plain  dtype.Type
	unpack func(dst, src []byte, nb int)
	rows   int
}

// unitRows returns how many rows a unit of the layout holds.
func (il interleaving) unitRows() int {
	if il.rows == 0 {
		return interleaveRows
	}
	return il.rows
}

// interleavings holds the interleaved layouts by their type values.
var interleavings = map[dtype.Type]interleaving{
	q4KX16: {plain: dtype.Q4_K, unpack: unpackQ4_KX16},
	q4KX8:  {plain: dtype.Q4_K, unpack: unpackQ4_KX8},
	q4KX8B: {plain: dtype.Q4_K, unpack: unpackQ4_KX8},
	q8X8:   {plain: dtype.Q8_0, unpack: unpackQ8_0X8},
	q40X8:  {plain: dtype.Q4_0, unpack: unpackQ4_0X8},
	q50X8:  {plain: dtype.Q5_0, unpack: unpackQ5_0X8},
	q41X8:  {plain: dtype.Q4_1, unpack: unpackQ4_1X8},
	q51X8:  {plain: dtype.Q5_1, unpack: unpackQ5_1X8},
	q40X8B: {plain: dtype.Q4_0, unpack: unpackQ4_0X8},
	q50X8B: {plain: dtype.Q5_0, unpack: unpackQ5_0X8},
	q41X8B: {plain: dtype.Q4_1, unpack: unpackQ4_1X8},
	q51X8B: {plain: dtype.Q5_1, unpack: unpackQ5_1X8},
	q6KX8:  {plain: dtype.Q6_K, unpack: unpackQ6_KX8},
	q6KX8B: {plain: dtype.Q6_K, unpack: unpackQ6_KX8},
	q5KX8:  {plain: dtype.Q5_K, unpack: unpackQ5_KX8},
	q5KX8B: {plain: dtype.Q5_K, unpack: unpackQ5_KX8},
	q2KX8:  {plain: dtype.Q2_K, unpack: unpackQ2_KX8},
	q2KX8B: {plain: dtype.Q2_K, unpack: unpackQ2_KX8},
	q3KX8:  {plain: dtype.Q3_K, unpack: unpackQ3_KX8},
	q3KX8B: {plain: dtype.Q3_K, unpack: unpackQ3_KX8},
	q8X16:  {plain: dtype.Q8_0, unpack: unpackQ8_0X16},
	q6KX16: {plain: dtype.Q6_K, unpack: unpackQ6_KX16},
	f16X16: {plain: dtype.F16, unpack: unpackF16X16},
}

// registerInterleaved adds the portable kernels of the interleaved types:
// those of the plain type on each unit unpacked.
func registerInterleaved() {
	addPanelInterleavings()
	for t, il := range interleavings {
		k := kernelTable[il.plain]
		kernelTable[t] = kernel{
			blockSize: k.blockSize, blockBytes: k.blockBytes, unit: il.unitRows(), act: k.act,
			qdot: unitRowDot, vec: unitVec(il.unpack, il.unitRows(), k.blockBytes, k.qdot), dequant: unitDequant,
		}
		portable[t], portableAct[t] = unitRowDot, k.act
	}
	packedFast = [numTypes]bool{}
}
