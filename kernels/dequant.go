package kernels

import (
	"encoding/binary"
	"math"
)

// Portable dequantizers, one per type. Each decodes len(dst) values, a whole
// number of blocks, from src (which holds exactly those blocks). Block layouts
// follow ggml-common.h; offsets are noted per type.

// dequantF32 decodes little-endian float32 values.
func dequantF32(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// dequantF16 decodes IEEE half values.
func dequantF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = f16Table[binary.LittleEndian.Uint16(src[2*i:])]
	}
}

// dequantBF16 decodes bfloat16 values.
func dequantBF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
	}
}

// Q8_0, 34 bytes per 32 values: d fp16 @0, qs int8[32] @2. x = d*q.
func dequantQ8_0(dst []float32, src []byte) {
	for i := 0; i < len(dst)/32; i++ {
		b := (*[34]byte)(src[34*i:])
		y := (*[32]float32)(dst[32*i:])
		d := f16at(b[0:])
		for j := 0; j < 32; j++ {
			y[j] = d * float32(int8(b[2+j]))
		}
	}
}

// Q4_0, 18 bytes per 32 values: d fp16 @0, qs[16] @2. Value j (j<16) is the
// low nibble of qs[j], value j+16 the high nibble; x = d*(q-8).
func dequantQ4_0(dst []float32, src []byte) {
	for i := 0; i < len(dst)/32; i++ {
		b := (*[18]byte)(src[18*i:])
		y := (*[32]float32)(dst[32*i:])
		d := f16at(b[0:])
		for j := 0; j < 16; j++ {
			q := b[2+j]
			y[j] = d * float32(int(q&0xf)-8)
			y[j+16] = d * float32(int(q>>4)-8)
		}
	}
}

// Q4_1, 20 bytes per 32 values: d fp16 @0, m fp16 @2, qs[16] @4. Nibbles as
// Q4_0; x = d*q + m.
func dequantQ4_1(dst []float32, src []byte) {
	for i := 0; i < len(dst)/32; i++ {
		b := (*[20]byte)(src[20*i:])
		y := (*[32]float32)(dst[32*i:])
		d, m := f16at(b[0:]), f16at(b[2:])
		for j := 0; j < 16; j++ {
			q := b[4+j]
			y[j] = d*float32(q&0xf) + m
			y[j+16] = d*float32(q>>4) + m
		}
	}
}

// Q5_0, 22 bytes per 32 values: d fp16 @0, qh u32 @2, qs[16] @6. Value j has
// its low four bits in qs as Q4_0 and its fifth bit in bit j of qh; x = d*(q-16).
func dequantQ5_0(dst []float32, src []byte) {
	for i := 0; i < len(dst)/32; i++ {
		b := (*[22]byte)(src[22*i:])
		y := (*[32]float32)(dst[32*i:])
		d := f16at(b[0:])
		qh := binary.LittleEndian.Uint32(b[2:])
		for j := 0; j < 16; j++ {
			q := b[6+j]
			h0 := int(qh>>j&1) << 4
			h1 := int(qh>>(j+16)&1) << 4
			y[j] = d * float32(int(q&0xf)|h0-16)
			y[j+16] = d * float32(int(q>>4)|h1-16)
		}
	}
}

// Q5_1, 24 bytes per 32 values: d fp16 @0, m fp16 @2, qh u32 @4, qs[16] @8.
// Bits as Q5_0; x = d*q + m.
func dequantQ5_1(dst []float32, src []byte) {
	for i := 0; i < len(dst)/32; i++ {
		b := (*[24]byte)(src[24*i:])
		y := (*[32]float32)(dst[32*i:])
		d, m := f16at(b[0:]), f16at(b[2:])
		qh := binary.LittleEndian.Uint32(b[4:])
		for j := 0; j < 16; j++ {
			q := b[8+j]
			h0 := byte(qh>>j&1) << 4
			h1 := byte(qh>>(j+16)&1) << 4
			y[j] = d*float32(q&0xf|h0) + m
			y[j+16] = d*float32(q>>4|h1) + m
		}
	}
}

// Q2_K, 84 bytes per 256 values: scales[16] @0 (low nibble scale, high nibble
// min, per 16 values), qs[64] @16, d fp16 @80, dmin fp16 @82.
// Value 128*h + 32*s + l (h<2, s<4, l<32) is bits 2s..2s+1 of qs[32h+l], in
// sub-block 8h + 2s + l/16; x = d*sc*q - dmin*m.
func dequantQ2_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/256; i++ {
		b := (*[84]byte)(src[84*i:])
		y := (*[256]float32)(dst[256*i:])
		d, dmin := f16at(b[80:]), f16at(b[82:])
		for h := 0; h < 2; h++ {
			qs := (*[32]byte)(b[16+32*h:])
			for s := 0; s < 4; s++ {
				shift := uint(2 * s)
				for g := 0; g < 2; g++ {
					sc := b[8*h+2*s+g]
					dl := d * float32(sc&0xf)
					ml := dmin * float32(sc>>4)
					out := (*[16]float32)(y[128*h+32*s+16*g:])
					for l := 0; l < 16; l++ {
						out[l] = dl*float32(qs[16*g+l]>>(shift&7)&3) - ml
					}
				}
			}
		}
	}
}

// q3kScales unpacks the sixteen 6-bit Q3_K scales (stored biased by 32) from
// their 12-byte packing: scale j has low nibble from byte j (j<8, low nibble)
// or byte j-8 (high nibble), and top two bits at bit 2*(j/4) of byte 8+j%4.
func q3kScales(sc *[16]int8, p *[12]byte) {
	for j := 0; j < 16; j++ {
		var lo byte
		if j < 8 {
			lo = p[j] & 0xf
		} else {
			lo = p[j-8] >> 4
		}
		hi := p[8+j%4] >> (2 * (j / 4)) & 3
		sc[j] = int8(lo|hi<<4) - 32
	}
}

// Q3_K, 110 bytes per 256 values: hmask[32] @0, qs[64] @32, scales[12] @96,
// d fp16 @108. Value v = 128*h + 32*s + l has its low two bits at bits 2s of
// qs[32h+l] and its high bit at bit 4h+s of hmask[l]; a clear high bit
// subtracts 4. x = d*sc*q with sc the signed 6-bit scale of sub-block v/16.
func dequantQ3_K(dst []float32, src []byte) {
	var sc [16]int8
	for i := 0; i < len(dst)/256; i++ {
		b := (*[110]byte)(src[110*i:])
		y := (*[256]float32)(dst[256*i:])
		d := f16at(b[108:])
		q3kScales(&sc, (*[12]byte)(b[96:]))
		hm := (*[32]byte)(b[0:])
		for h := 0; h < 2; h++ {
			qs := (*[32]byte)(b[32+32*h:])
			for s := 0; s < 4; s++ {
				shift := uint(2 * s)
				m := byte(1) << (4*h + s)
				for g := 0; g < 2; g++ {
					dl := d * float32(sc[8*h+2*s+g])
					out := (*[16]float32)(y[128*h+32*s+16*g:])
					for l := 0; l < 16; l++ {
						q := int(qs[16*g+l] >> (shift & 7) & 3)
						if hm[16*g+l]&m == 0 {
							q -= 4
						}
						out[l] = dl * float32(q)
					}
				}
			}
		}
	}
}

// scaleMinK4 returns the 6-bit scale and min of sub-block j (j<8) from the
// 12-byte packing shared by Q4_K and Q5_K: for j<4 the low six bits of bytes
// j and j+4; for j>=4 a nibble of byte j+4 plus the top two bits of bytes
// j-4 (scale) and j (min).
func scaleMinK4(j int, p *[12]byte) (sc, m byte) {
	if j < 4 {
		return p[j] & 63, p[j+4] & 63
	}
	return p[j+4]&0xf | (p[j-4]>>6)<<4, p[j+4]>>4 | (p[j]>>6)<<4
}

// Q4_K, 144 bytes per 256 values: d fp16 @0, dmin fp16 @2, scales[12] @4,
// qs[128] @16. Value 64*c + l (l<32) is the low nibble of qs[32c+l] in
// sub-block 2c, value 64*c + 32 + l the high nibble in sub-block 2c+1;
// x = d*sc*q - dmin*m.
func dequantQ4_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/256; i++ {
		b := (*[144]byte)(src[144*i:])
		y := (*[256]float32)(dst[256*i:])
		d, dmin := f16at(b[0:]), f16at(b[2:])
		p := (*[12]byte)(b[4:])
		for c := 0; c < 4; c++ {
			s1, m1 := scaleMinK4(2*c, p)
			s2, m2 := scaleMinK4(2*c+1, p)
			d1, o1 := d*float32(s1), dmin*float32(m1)
			d2, o2 := d*float32(s2), dmin*float32(m2)
			qs := (*[32]byte)(b[16+32*c:])
			lo := (*[32]float32)(y[64*c:])
			hi := (*[32]float32)(y[64*c+32:])
			for l := 0; l < 32; l++ {
				lo[l] = d1*float32(qs[l]&0xf) - o1
				hi[l] = d2*float32(qs[l]>>4) - o2
			}
		}
	}
}

// Q5_K, 176 bytes per 256 values: d fp16 @0, dmin fp16 @2, scales[12] @4,
// qh[32] @16, qs[128] @48. As Q4_K, plus a fifth bit: bit 2c of qh[l] for
// value 64*c + l and bit 2c+1 for value 64*c + 32 + l.
func dequantQ5_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/256; i++ {
		b := (*[176]byte)(src[176*i:])
		y := (*[256]float32)(dst[256*i:])
		d, dmin := f16at(b[0:]), f16at(b[2:])
		p := (*[12]byte)(b[4:])
		qh := (*[32]byte)(b[16:])
		for c := 0; c < 4; c++ {
			s1, m1 := scaleMinK4(2*c, p)
			s2, m2 := scaleMinK4(2*c+1, p)
			d1, o1 := d*float32(s1), dmin*float32(m1)
			d2, o2 := d*float32(s2), dmin*float32(m2)
			qs := (*[32]byte)(b[48+32*c:])
			lo := (*[32]float32)(y[64*c:])
			hi := (*[32]float32)(y[64*c+32:])
			sh := uint(2 * c)
			for l := 0; l < 32; l++ {
				h := qh[l] >> (sh & 7)
				lo[l] = d1*float32(qs[l]&0xf|(h&1)<<4) - o1
				hi[l] = d2*float32(qs[l]>>4|(h&2)<<3) - o2
			}
		}
	}
}

// Q6_K, 210 bytes per 256 values: ql[128] @0, qh[64] @128, scales int8[16]
// @192, d fp16 @208. In half h (128 values) and for l<32: value 128h+l is
// the low nibble of ql[64h+l], 128h+32+l the low nibble of ql[64h+32+l],
// 128h+64+l the high nibble of ql[64h+l], 128h+96+l the high nibble of
// ql[64h+32+l]; their top two bits are bits 0-1, 2-3, 4-5, 6-7 of qh[32h+l].
// x = d*sc*(q-32) with sc the scale of sub-block v/16.
func dequantQ6_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/256; i++ {
		b := (*[210]byte)(src[210*i:])
		y := (*[256]float32)(dst[256*i:])
		d := f16at(b[208:])
		for h := 0; h < 2; h++ {
			ql := (*[64]byte)(b[64*h:])
			qh := (*[32]byte)(b[128+32*h:])
			out := (*[128]float32)(y[128*h:])
			for l := 0; l < 32; l++ {
				sb := 8*h + l/16
				hb := qh[l]
				q1 := int(ql[l]&0xf|(hb&3)<<4) - 32
				q2 := int(ql[l+32]&0xf|(hb>>2&3)<<4) - 32
				q3 := int(ql[l]>>4|(hb>>4&3)<<4) - 32
				q4 := int(ql[l+32]>>4|(hb>>6&3)<<4) - 32
				out[l] = d * float32(int8(b[192+sb])) * float32(q1)
				out[l+32] = d * float32(int8(b[192+sb+2])) * float32(q2)
				out[l+64] = d * float32(int8(b[192+sb+4])) * float32(q3)
				out[l+96] = d * float32(int8(b[192+sb+6])) * float32(q4)
			}
		}
	}
}

// Q8_K, 292 bytes per 256 values: d float32 @0, qs int8[256] @4, bsums
// int16[16] @260 (sums of each 16 qs, unused here). x = d*q.
func dequantQ8_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/256; i++ {
		b := (*[292]byte)(src[292*i:])
		y := (*[256]float32)(dst[256*i:])
		d := math.Float32frombits(binary.LittleEndian.Uint32(b[0:]))
		for j := 0; j < 256; j++ {
			y[j] = d * float32(int8(b[4+j]))
		}
	}
}
