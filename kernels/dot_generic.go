package kernels

import (
	"encoding/binary"
	"math"
)

// Portable fused dot products, one per type. Each walks the row block by
// block, decodes the block's quantized values inline and accumulates them
// against x without materialising the decoded block; scales are applied once
// per (sub-)block. row holds exactly the row's bytes and len(x) is a whole
// number of blocks. See dequant.go for the layouts.
//
// The quantized types are split into a row loop (dotQ*) and a per-block
// kernel (blockQ*) taking array pointers: the small per-block function keeps
// register pressure low (the Go compiler spills heavily when the row loop
// and the block decode share one function) and needs no bounds checks.

func dotF32(row []byte, x []float32) float32 {
	row = row[:4*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		w := row[4*i : 4*i+16]
		xs := x[i : i+4]
		s0 += math.Float32frombits(binary.LittleEndian.Uint32(w[0:])) * xs[0]
		s1 += math.Float32frombits(binary.LittleEndian.Uint32(w[4:])) * xs[1]
		s2 += math.Float32frombits(binary.LittleEndian.Uint32(w[8:])) * xs[2]
		s3 += math.Float32frombits(binary.LittleEndian.Uint32(w[12:])) * xs[3]
	}
	for ; i < len(x); i++ {
		s0 += math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:])) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotF16(row []byte, x []float32) float32 {
	row = row[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		w := row[2*i : 2*i+8]
		xs := x[i : i+4]
		s0 += f16Table[binary.LittleEndian.Uint16(w[0:])] * xs[0]
		s1 += f16Table[binary.LittleEndian.Uint16(w[2:])] * xs[1]
		s2 += f16Table[binary.LittleEndian.Uint16(w[4:])] * xs[2]
		s3 += f16Table[binary.LittleEndian.Uint16(w[6:])] * xs[3]
	}
	for ; i < len(x); i++ {
		s0 += f16Table[binary.LittleEndian.Uint16(row[2*i:])] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotBF16(row []byte, x []float32) float32 {
	row = row[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		w := row[2*i : 2*i+8]
		xs := x[i : i+4]
		s0 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[0:]))<<16) * xs[0]
		s1 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[2:]))<<16) * xs[1]
		s2 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[4:]))<<16) * xs[2]
		s3 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[6:]))<<16) * xs[3]
	}
	for ; i < len(x); i++ {
		s0 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(row[2*i:]))<<16) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotQ8_0(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/32; i++ {
		sum += blockQ8_0((*[34]byte)(row[34*i:]), (*[32]float32)(x[32*i:]))
	}
	return sum
}

func blockQ8_0(b *[34]byte, xs *[32]float32) float32 {
	var s0, s1, s2, s3 float32
	for j := 0; j < 32; j += 4 {
		s0 += float32(int8(b[2+j])) * xs[j]
		s1 += float32(int8(b[3+j])) * xs[j+1]
		s2 += float32(int8(b[4+j])) * xs[j+2]
		s3 += float32(int8(b[5+j])) * xs[j+3]
	}
	return f16at(b[0:]) * ((s0 + s1) + (s2 + s3))
}

func dotQ4_0(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/32; i++ {
		sum += blockQ4_0((*[18]byte)(row[18*i:]), (*[32]float32)(x[32*i:]))
	}
	return sum
}

// Block kernels keep four or more independent accumulators and, where a
// loop handles several values per iteration, add their products pairwise
// before touching an accumulator: the loops are then bound by throughput,
// not by the latency of a chain of float additions.

func blockQ4_0(b *[18]byte, xs *[32]float32) float32 {
	var s0, s1, s2, s3 float32
	for j := 0; j < 8; j++ {
		v, w := b[2+j], b[10+j]
		s0 += float32(int(v&0xf)-8) * xs[j]
		s1 += float32(int(w&0xf)-8) * xs[j+8]
		s2 += float32(int(v>>4)-8) * xs[j+16]
		s3 += float32(int(w>>4)-8) * xs[j+24]
	}
	return f16at(b[0:]) * ((s0 + s1) + (s2 + s3))
}

func dotQ4_1(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/32; i++ {
		sum += blockQ4_1((*[20]byte)(row[20*i:]), (*[32]float32)(x[32*i:]))
	}
	return sum
}

func blockQ4_1(b *[20]byte, xs *[32]float32) float32 {
	var s0, s1, s2, s3, x0, x1 float32
	for j := 0; j < 8; j++ {
		v, w := b[4+j], b[12+j]
		a0, a1, a2, a3 := xs[j], xs[j+8], xs[j+16], xs[j+24]
		s0 += float32(v&0xf) * a0
		s1 += float32(w&0xf) * a1
		s2 += float32(v>>4) * a2
		s3 += float32(w>>4) * a3
		x0 += a0 + a1
		x1 += a2 + a3
	}
	return f16at(b[0:])*((s0+s1)+(s2+s3)) + f16at(b[2:])*(x0+x1)
}

func dotQ5_0(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/32; i++ {
		sum += blockQ5_0((*[22]byte)(row[22*i:]), (*[32]float32)(x[32*i:]))
	}
	return sum
}

func blockQ5_0(b *[22]byte, xs *[32]float32) float32 {
	qh := binary.LittleEndian.Uint32(b[2:])
	var s0, s1, s2, s3 float32
	for j := 0; j < 8; j++ {
		v, w := b[6+j], b[14+j]
		// qh is shifted right by j: bits 0, 8, 16 and 24 are the fifth
		// bits of values j, j+8, j+16 and j+24.
		s0 += float32(int(v&0xf|byte(qh<<4)&0x10)-16) * xs[j]
		s1 += float32(int(w&0xf|byte(qh>>4)&0x10)-16) * xs[j+8]
		s2 += float32(int(v>>4|byte(qh>>12)&0x10)-16) * xs[j+16]
		s3 += float32(int(w>>4|byte(qh>>20)&0x10)-16) * xs[j+24]
		qh >>= 1
	}
	return f16at(b[0:]) * ((s0 + s1) + (s2 + s3))
}

func dotQ5_1(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/32; i++ {
		sum += blockQ5_1((*[24]byte)(row[24*i:]), (*[32]float32)(x[32*i:]))
	}
	return sum
}

func blockQ5_1(b *[24]byte, xs *[32]float32) float32 {
	qh := binary.LittleEndian.Uint32(b[4:])
	var s0, s1, s2, s3, x0, x1 float32
	for j := 0; j < 8; j++ {
		v, w := b[8+j], b[16+j]
		a0, a1, a2, a3 := xs[j], xs[j+8], xs[j+16], xs[j+24]
		s0 += float32(v&0xf|byte(qh<<4)&0x10) * a0
		s1 += float32(w&0xf|byte(qh>>4)&0x10) * a1
		s2 += float32(v>>4|byte(qh>>12)&0x10) * a2
		s3 += float32(w>>4|byte(qh>>20)&0x10) * a3
		x0 += a0 + a1
		x1 += a2 + a3
		qh >>= 1
	}
	return f16at(b[0:])*((s0+s1)+(s2+s3)) + f16at(b[2:])*(x0+x1)
}

func dotQ2_K(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/256; i++ {
		sum += blockQ2_K((*[84]byte)(row[84*i:]), (*[256]float32)(x[256*i:]))
	}
	return sum
}

func blockQ2_K(b *[84]byte, xb *[256]float32) float32 {
	var sumQ, sumM float32 // sums of sc*q*x and of m*x over sub-blocks
	for h := 0; h < 2; h++ {
		qs := (*[32]byte)(b[16+32*h:])
		for s := 0; s < 4; s++ {
			sumQ, sumM = q2kQuarter(qs, (*[32]float32)(xb[128*h+32*s:]), uint(2*s), b[8*h+2*s], b[8*h+2*s+1], sumQ, sumM)
		}
	}
	return f16at(b[80:])*sumQ - f16at(b[82:])*sumM
}

// q2kQuarter accumulates the 32 values of one bit plane of a Q2_K half
// (two 16-value sub-blocks with scale bytes sc0 and sc1).
func q2kQuarter(qs *[32]byte, xs *[32]float32, shift uint, sc0, sc1 byte, sumQ, sumM float32) (float32, float32) {
	var q0, q1, x0, x1 float32
	for l := 0; l < 8; l++ {
		a, b, c, d := xs[l], xs[l+8], xs[l+16], xs[l+24]
		q0 += float32(qs[l]>>(shift&7)&3)*a + float32(qs[l+8]>>(shift&7)&3)*b
		q1 += float32(qs[l+16]>>(shift&7)&3)*c + float32(qs[l+24]>>(shift&7)&3)*d
		x0 += a + b
		x1 += c + d
	}
	sumQ += float32(sc0&0xf)*q0 + float32(sc1&0xf)*q1
	sumM += float32(sc0>>4)*x0 + float32(sc1>>4)*x1
	return sumQ, sumM
}

func dotQ3_K(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/256; i++ {
		sum += blockQ3_K((*[110]byte)(row[110*i:]), (*[256]float32)(x[256*i:]))
	}
	return sum
}

func blockQ3_K(b *[110]byte, xb *[256]float32) float32 {
	var sc [16]int8
	q3kScales(&sc, (*[12]byte)(b[96:]))
	hm := (*[32]byte)(b[0:])
	var acc float32
	for h := 0; h < 2; h++ {
		qs := (*[32]byte)(b[32+32*h:])
		xs := (*[128]float32)(xb[128*h:])
		// Byte l of qs holds the low bits of values 32s+l (s < 4) of this
		// half, in sub-blocks 8h + 2s + l/16.
		for g := 0; g < 2; g++ {
			a0, a1, a2, a3 := q3kGroup(qs, hm, xs, 16*g, uint(4*h))
			k := 8*h + g
			acc += float32(sc[k])*a0 + float32(sc[k+2])*a1 + float32(sc[k+4])*a2 + float32(sc[k+6])*a3
		}
	}
	return f16at(b[108:]) * acc
}

// q3kGroup returns sum (q-4)*x for the four 16-value sub-blocks of a Q3_K
// half whose low bits are in qs[l0:l0+16] and high bits at bits hs..hs+3 of
// hm[l0:l0+16]; q = low two bits | high bit << 2 is in [0, 8).
func q3kGroup(qs, hm *[32]byte, xs *[128]float32, l0 int, hs uint) (a0, a1, a2, a3 float32) {
	for i := 0; i < 16; i++ {
		l := (l0 + i) & 31
		q := qs[l]
		m := hm[l] >> (hs & 7)
		a0 += float32(int(q&3|(m&1)<<2)-4) * xs[l]
		a1 += float32(int(q>>2&3|(m&2)<<1)-4) * xs[l+32]
		a2 += float32(int(q>>4&3|m&4)-4) * xs[l+64]
		a3 += float32(int(q>>6|(m&8)>>1)-4) * xs[l+96]
	}
	return
}

func dotQ4_K(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/256; i++ {
		sum += blockQ4_K((*[144]byte)(row[144*i:]), (*[256]float32)(x[256*i:]))
	}
	return sum
}

func blockQ4_K(b *[144]byte, xb *[256]float32) float32 {
	p := (*[12]byte)(b[4:])
	var sumQ, sumM float32
	for c := 0; c < 4; c++ {
		q0, q1, x0, x1 := q4kChunk((*[32]byte)(b[16+32*c:]), (*[64]float32)(xb[64*c:]))
		s1, m1 := scaleMinK4(2*c, p)
		s2, m2 := scaleMinK4(2*c+1, p)
		sumQ += float32(s1)*q0 + float32(s2)*q1
		sumM += float32(m1)*x0 + float32(m2)*x1
	}
	return f16at(b[0:])*sumQ - f16at(b[2:])*sumM
}

// q4kChunk returns, for one 64-value chunk of a Q4_K block, sum q*x over the
// low nibbles (first 32 values) and high nibbles (last 32), and sum x of each.
func q4kChunk(qs *[32]byte, xs *[64]float32) (q0, q1, x0, x1 float32) {
	for l := 0; l < 32; l += 2 {
		v, w := qs[l], qs[l+1]
		a, b, c, d := xs[l], xs[l+1], xs[l+32], xs[l+33]
		q0 += float32(v&0xf)*a + float32(w&0xf)*b
		q1 += float32(v>>4)*c + float32(w>>4)*d
		x0 += a + b
		x1 += c + d
	}
	return
}

func dotQ5_K(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/256; i++ {
		sum += blockQ5_K((*[176]byte)(row[176*i:]), (*[256]float32)(x[256*i:]))
	}
	return sum
}

func blockQ5_K(b *[176]byte, xb *[256]float32) float32 {
	p := (*[12]byte)(b[4:])
	qh := (*[32]byte)(b[16:])
	var sumQ, sumM float32
	for c := 0; c < 4; c++ {
		q0, q1, x0, x1 := q5kChunk((*[32]byte)(b[48+32*c:]), qh, (*[64]float32)(xb[64*c:]), uint(2*c))
		s1, m1 := scaleMinK4(2*c, p)
		s2, m2 := scaleMinK4(2*c+1, p)
		sumQ += float32(s1)*q0 + float32(s2)*q1
		sumM += float32(m1)*x0 + float32(m2)*x1
	}
	return f16at(b[0:])*sumQ - f16at(b[2:])*sumM
}

// q5kChunk is q4kChunk with the fifth bits taken from bits sh and sh+1 of qh.
func q5kChunk(qs, qh *[32]byte, xs *[64]float32, sh uint) (q0, q1, x0, x1 float32) {
	for l := 0; l < 32; l += 2 {
		v, w := qs[l], qs[l+1]
		hv, hw := qh[l]>>(sh&7), qh[l+1]>>(sh&7)
		a, b, c, d := xs[l], xs[l+1], xs[l+32], xs[l+33]
		q0 += float32(v&0xf|(hv&1)<<4)*a + float32(w&0xf|(hw&1)<<4)*b
		q1 += float32(v>>4|(hv&2)<<3)*c + float32(w>>4|(hw&2)<<3)*d
		x0 += a + b
		x1 += c + d
	}
	return
}

func dotQ6_K(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/256; i++ {
		sum += blockQ6_K((*[210]byte)(row[210*i:]), (*[256]float32)(x[256*i:]))
	}
	return sum
}

func blockQ6_K(b *[210]byte, xb *[256]float32) float32 {
	var acc float32
	for h := 0; h < 2; h++ {
		ql := (*[64]byte)(b[64*h:])
		qh := (*[32]byte)(b[128+32*h:])
		xs := (*[128]float32)(xb[128*h:])
		// Two 16-value sub-blocks per quarter: l < 16 and l >= 16.
		for g := 0; g < 2; g++ {
			a1, a2, a3, a4 := q6kGroup(ql, qh, xs, 16*g)
			sb := 192 + 8*h + g
			acc += float32(int8(b[sb]))*a1 + float32(int8(b[sb+2]))*a2 +
				float32(int8(b[sb+4]))*a3 + float32(int8(b[sb+6]))*a4
		}
	}
	return f16at(b[208:]) * acc
}

// q6kGroup returns sum (q-32)*x for the four 16-value sub-blocks of a Q6_K
// half that share the bytes ql[l0:l0+16], ql[l0+32:l0+48] and qh[l0:l0+16].
func q6kGroup(ql *[64]byte, qh *[32]byte, xs *[128]float32, l0 int) (a1, a2, a3, a4 float32) {
	for i := 0; i < 16; i++ {
		l := (l0 + i) & 31
		hb := qh[l]
		lo, hi := ql[l], ql[l+32]
		a1 += float32(int(lo&0xf|(hb&3)<<4)-32) * xs[l]
		a2 += float32(int(hi&0xf|(hb>>2&3)<<4)-32) * xs[l+32]
		a3 += float32(int(lo>>4|(hb>>4&3)<<4)-32) * xs[l+64]
		a4 += float32(int(hi>>4|(hb>>6&3)<<4)-32) * xs[l+96]
	}
	return
}

func dotQ8_K(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/256; i++ {
		sum += blockQ8_K((*[292]byte)(row[292*i:]), (*[256]float32)(x[256*i:]))
	}
	return sum
}

func blockQ8_K(b *[292]byte, xs *[256]float32) float32 {
	var s0, s1, s2, s3 float32
	for j := 0; j < 256; j += 4 {
		s0 += float32(int8(b[4+j])) * xs[j]
		s1 += float32(int8(b[5+j])) * xs[j+1]
		s2 += float32(int8(b[6+j])) * xs[j+2]
		s3 += float32(int8(b[7+j])) * xs[j+3]
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b[0:])) * ((s0 + s1) + (s2 + s3))
}
