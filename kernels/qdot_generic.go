package kernels

import (
	"encoding/binary"
	"math"
)

// Portable integer dot products of a weight row with prepared (8-bit
// quantized) activations, after ggml's vec_dot functions. Each block's sum of
// integer products is exact; the float arithmetic around it is spelled out
// so that the assembly kernels, which do the same operations in the same
// order, give bit-identical results:
//
//   - Q8_0, Q4_0 and Q5_0 reduce each block to its integer sum isum and
//     add (d_w*d_x)*isum to a scalar, block by block, as K-quants do:
//     the AVX2 loops, which take eight rows at a time in their
//     interleaved layouts (q8X8, q40X8, q50X8), keep each row's sum in
//     one lane.
//   - Q4_1 and Q5_1 likewise add, block by block, sum += (d_w*d_x)*isum
//     + m_w*s_x: the two products rounded each (no fused multiply-add:
//     the conversions to float32 say so to the compiler), added, and the
//     result added to the sum (q41X8, q51X8), as ggml's scalar kernels
//     do.
//   - K-quants reduce each 256-value block to integers isum (and summs, the
//     min correction) and add d*isum (- dmin*summs) to a scalar.

func f32at(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }

func qdotQ8_0(row, xq []byte) float32 {
	var sumf float32
	for i := 0; i < len(row)/34; i++ {
		b := (*[34]byte)(row[34*i:])
		a := (*[q8Block]byte)(xq[q8Block*i:])
		var isum int32
		for j := 0; j < 32; j++ {
			isum += int32(int8(b[2+j])) * int32(int8(a[8+j]))
		}
		sumf += f16at(b[0:]) * f32at(a[0:]) * float32(isum)
	}
	return sumf
}

func qdotQ4_0(row, xq []byte) float32 {
	var sumf float32
	for i := 0; i < len(row)/18; i++ {
		b := (*[18]byte)(row[18*i:])
		a := (*[q8Block]byte)(xq[q8Block*i:])
		var isum int32
		for j := 0; j < 16; j++ {
			isum += (int32(b[2+j]&0xf) - 8) * int32(int8(a[8+j]))
			isum += (int32(b[2+j]>>4) - 8) * int32(int8(a[24+j]))
		}
		sumf += f16at(b[0:]) * f32at(a[0:]) * float32(isum)
	}
	return sumf
}

func qdotQ4_1(row, xq []byte) float32 {
	var sumf float32
	for i := 0; i < len(row)/20; i++ {
		b := (*[20]byte)(row[20*i:])
		a := (*[q8Block]byte)(xq[q8Block*i:])
		var isum int32
		for j := 0; j < 16; j++ {
			isum += int32(b[4+j]&0xf) * int32(int8(a[8+j]))
			isum += int32(b[4+j]>>4) * int32(int8(a[24+j]))
		}
		sumf += float32(f16at(b[0:])*f32at(a[0:])*float32(isum)) + float32(f16at(b[2:])*f32at(a[4:]))
	}
	return sumf
}

func qdotQ5_0(row, xq []byte) float32 {
	var sumf float32
	for i := 0; i < len(row)/22; i++ {
		b := (*[22]byte)(row[22*i:])
		a := (*[q8Block]byte)(xq[q8Block*i:])
		qh := binary.LittleEndian.Uint32(b[2:])
		var isum int32
		for j := 0; j < 16; j++ {
			isum += (int32(b[6+j]&0xf|byte(qh>>j&1)<<4) - 16) * int32(int8(a[8+j]))
			isum += (int32(b[6+j]>>4|byte(qh>>(j+16)&1)<<4) - 16) * int32(int8(a[24+j]))
		}
		sumf += f16at(b[0:]) * f32at(a[0:]) * float32(isum)
	}
	return sumf
}

func qdotQ5_1(row, xq []byte) float32 {
	var sumf float32
	for i := 0; i < len(row)/24; i++ {
		b := (*[24]byte)(row[24*i:])
		a := (*[q8Block]byte)(xq[q8Block*i:])
		qh := binary.LittleEndian.Uint32(b[4:])
		var isum int32
		for j := 0; j < 16; j++ {
			isum += int32(b[8+j]&0xf|byte(qh>>j&1)<<4) * int32(int8(a[8+j]))
			isum += int32(b[8+j]>>4|byte(qh>>(j+16)&1)<<4) * int32(int8(a[24+j]))
		}
		sumf += float32(f16at(b[0:])*f32at(a[0:])*float32(isum)) + float32(f16at(b[2:])*f32at(a[4:]))
	}
	return sumf
}

// bsum returns bsums[j] of a Q8_K activation block.
func bsum(a *[q8KBlock]byte, j int) int32 {
	return int32(int16(binary.LittleEndian.Uint16(a[260+2*j:])))
}

// dot16 returns sum q[l]*a.qs[off+l] for l < 16 where q[l] = f(l).
func q8kAt(a *[q8KBlock]byte, j int) int32 { return int32(int8(a[4+j])) }

func qdotQ2_K(row, xq []byte) float32 {
	var sumf float32
	for i := 0; i < len(row)/84; i++ {
		b := (*[84]byte)(row[84*i:])
		a := (*[q8KBlock]byte)(xq[q8KBlock*i:])
		var summs, isum int32
		for j := 0; j < 16; j++ {
			summs += bsum(a, j) * int32(b[j]>>4)
		}
		for h := 0; h < 2; h++ {
			for s := 0; s < 4; s++ {
				for g := 0; g < 2; g++ {
					var is int32
					for l := 16 * g; l < 16*g+16; l++ {
						is += int32(b[16+32*h+l]>>(2*s)&3) * q8kAt(a, 128*h+32*s+l)
					}
					isum += int32(b[8*h+2*s+g]&0xf) * is
				}
			}
		}
		yd := f32at(a[0:])
		sumf += f16at(b[80:])*yd*float32(isum) - f16at(b[82:])*yd*float32(summs)
	}
	return sumf
}

func qdotQ3_K(row, xq []byte) float32 {
	var sumf float32
	var sc [16]int8
	for i := 0; i < len(row)/110; i++ {
		b := (*[110]byte)(row[110*i:])
		a := (*[q8KBlock]byte)(xq[q8KBlock*i:])
		q3kScales(&sc, (*[12]byte)(b[96:]))
		var isum int32
		for h := 0; h < 2; h++ {
			for s := 0; s < 4; s++ {
				m := byte(1) << (4*h + s)
				for g := 0; g < 2; g++ {
					var is int32
					for l := 16 * g; l < 16*g+16; l++ {
						q := int32(b[32+32*h+l] >> (2 * s) & 3)
						if b[l]&m == 0 {
							q -= 4
						}
						is += q * q8kAt(a, 128*h+32*s+l)
					}
					isum += int32(sc[8*h+2*s+g]) * is
				}
			}
		}
		sumf += f16at(b[108:]) * f32at(a[0:]) * float32(isum)
	}
	return sumf
}

func qdotQ4_K(row, xq []byte) float32 {
	var sumf float32
	for i := 0; i < len(row)/144; i++ {
		b := (*[144]byte)(row[144*i:])
		a := (*[q8KBlock]byte)(xq[q8KBlock*i:])
		p := (*[12]byte)(b[4:])
		var isum, summs int32
		for c := 0; c < 4; c++ {
			s1, m1 := scaleMinK4(2*c, p)
			s2, m2 := scaleMinK4(2*c+1, p)
			var i1, i2 int32
			for l := 0; l < 32; l++ {
				q := b[16+32*c+l]
				i1 += int32(q&0xf) * q8kAt(a, 64*c+l)
				i2 += int32(q>>4) * q8kAt(a, 64*c+32+l)
			}
			isum += int32(s1)*i1 + int32(s2)*i2
			summs += int32(m1)*(bsum(a, 4*c)+bsum(a, 4*c+1)) + int32(m2)*(bsum(a, 4*c+2)+bsum(a, 4*c+3))
		}
		yd := f32at(a[0:])
		sumf += f16at(b[0:])*yd*float32(isum) - f16at(b[2:])*yd*float32(summs)
	}
	return sumf
}

func qdotQ5_K(row, xq []byte) float32 {
	var sumf float32
	for i := 0; i < len(row)/176; i++ {
		b := (*[176]byte)(row[176*i:])
		a := (*[q8KBlock]byte)(xq[q8KBlock*i:])
		p := (*[12]byte)(b[4:])
		var isum, summs int32
		for c := 0; c < 4; c++ {
			s1, m1 := scaleMinK4(2*c, p)
			s2, m2 := scaleMinK4(2*c+1, p)
			var i1, i2 int32
			for l := 0; l < 32; l++ {
				q, h := b[48+32*c+l], b[16+l]>>(2*c)
				i1 += int32(q&0xf|(h&1)<<4) * q8kAt(a, 64*c+l)
				i2 += int32(q>>4|(h&2)<<3) * q8kAt(a, 64*c+32+l)
			}
			isum += int32(s1)*i1 + int32(s2)*i2
			summs += int32(m1)*(bsum(a, 4*c)+bsum(a, 4*c+1)) + int32(m2)*(bsum(a, 4*c+2)+bsum(a, 4*c+3))
		}
		yd := f32at(a[0:])
		sumf += f16at(b[0:])*yd*float32(isum) - f16at(b[2:])*yd*float32(summs)
	}
	return sumf
}

func qdotQ6_K(row, xq []byte) float32 {
	var sumf float32
	for i := 0; i < len(row)/210; i++ {
		b := (*[210]byte)(row[210*i:])
		a := (*[q8KBlock]byte)(xq[q8KBlock*i:])
		var isum int32
		for h := 0; h < 2; h++ {
			for l := 0; l < 32; l++ {
				hb := b[128+32*h+l]
				lo, hi := b[64*h+l], b[64*h+32+l]
				sb := 8*h + l/16
				v := 128*h + l
				isum += int32(int8(b[192+sb])) * (int32(lo&0xf|(hb&3)<<4) - 32) * q8kAt(a, v)
				isum += int32(int8(b[192+sb+2])) * (int32(hi&0xf|(hb>>2&3)<<4) - 32) * q8kAt(a, v+32)
				isum += int32(int8(b[192+sb+4])) * (int32(lo>>4|(hb>>4&3)<<4) - 32) * q8kAt(a, v+64)
				isum += int32(int8(b[192+sb+6])) * (int32(hi>>4|(hb>>6&3)<<4) - 32) * q8kAt(a, v+96)
			}
		}
		sumf += f16at(b[208:]) * f32at(a[0:]) * float32(isum)
	}
	return sumf
}

// Float-activation row dots (F32, F16, BF16 and Q8_K weights) over a
// prepared float32 buffer.
func fdot(f dotFunc) qdotFunc {
	return func(row, xq []byte) float32 { return f(row, f32view(xq)) }
}
