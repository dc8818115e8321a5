package quant

import (
	"encoding/binary"
	"math"

	"ferry/kernels"
)

// K-quant quantizers (256-value super-blocks). The search helpers mirror
// llama.cpp's make_qkx2_quants, make_qx_quants and make_q3_quants; the block
// builders mirror quantize_row_{q2,q3,q4,q5,q6,q8}_K_ref.

const groupMaxEps = 1e-15

// nearestInt rounds to the nearest integer, ties to even (ggml's nearest_int).
func nearestInt(f float32) int { return int(math.RoundToEven(float64(f))) }

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

// makeQKX2 fits x ≈ scale*L - min with L in [0, nmax] (an asymmetric
// quantization with a non-positive offset), minimising the weighted squared
// error (or absolute error when useMad), by trying nstep+1 scales around
// nmax/(max-min) and solving the least-squares scale and offset for each
// assignment. It returns the scale and the (non-negative) min.
func makeQKX2(nmax int, x, weights []float32, L, Laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (float32, float32) {
	n := len(x)
	mn, mx := x[0], x[0]
	sumW := weights[0]
	sumX := sumW * x[0]
	for i := 1; i < n; i++ {
		if x[i] < mn {
			mn = x[i]
		}
		if x[i] > mx {
			mx = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += w * x[i]
	}
	if mn > 0 {
		mn = 0
	}
	if mx == mn {
		for i := range n {
			L[i] = 0
		}
		return 0, -mn
	}
	fmax := float32(nmax)
	iscale := fmax / (mx - mn)
	scale := 1 / iscale
	var bestErr float32
	for i := 0; i < n; i++ {
		l := clampInt(nearestInt(iscale*(x[i]-mn)), 0, nmax)
		L[i] = uint8(l)
		diff := scale*float32(l) + mn - x[i]
		if useMad {
			diff = abs32(diff)
		} else {
			diff = diff * diff
		}
		bestErr += weights[i] * diff
	}
	if nstep < 1 {
		return scale, -mn
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + rdelta*float32(is) + fmax) / (mx - mn)
		var sumL, sumL2, sumXL float32
		for i := 0; i < n; i++ {
			l := clampInt(nearestInt(iscale*(x[i]-mn)), 0, nmax)
			Laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += w * fl
			sumL2 += w * fl * fl
			sumXL += w * fl * x[i]
		}
		D := sumW*sumL2 - sumL*sumL
		if D > 0 {
			thisScale := (sumW*sumXL - sumX*sumL) / D
			thisMin := (sumL2*sumX - sumL*sumXL) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curErr float32
			for i := 0; i < n; i++ {
				diff := thisScale*float32(Laux[i]) + thisMin - x[i]
				if useMad {
					diff = abs32(diff)
				} else {
					diff = diff * diff
				}
				curErr += weights[i] * diff
			}
			if curErr < bestErr {
				copy(L[:n], Laux[:n])
				bestErr = curErr
				scale = thisScale
				mn = thisMin
			}
		}
	}
	return scale, -mn
}

// makeQX fits x ≈ scale*(L-nmax) with L-nmax in [-nmax, nmax-1], weighting
// each value by x² (llama.cpp's make_qx_quants with rmse_type 1): it starts
// from the scale that maps the largest-magnitude value to -nmax, then tries
// 18 nearby scales and keeps the assignment with the best least-squares fit.
// It returns the fitted scale (possibly negative).
func makeQX(nmax int, x []float32, L []uint8) float32 {
	mx, amax := absMax(x)
	if amax < groupMaxEps {
		for i := range x {
			L[i] = 0
		}
		return 0
	}
	fmax := float32(nmax)
	iscale := -fmax / mx
	var sumLX, sumL2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = uint8(l + nmax)
		w := v * v
		fl := float32(l)
		sumLX += w * v * fl
		sumL2 += w * fl * fl
	}
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := scale * sumLX
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fmax + 0.1*float32(is)) / mx
		sumLX, sumL2 = 0, 0
		for _, v := range x {
			l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
			w := v * v
			fl := float32(l)
			sumLX += w * v * fl
			sumL2 += w * fl * fl
		}
		if sumL2 > 0 && sumLX*sumLX > best*sumL2 {
			for i, v := range x {
				L[i] = uint8(nmax + clampInt(nearestInt(iscale*v), -nmax, nmax-1))
			}
			scale = sumLX / sumL2
			best = scale * sumLX
		}
	}
	return scale
}

// makeQ3 fits x ≈ scale*(L-nmax) with L-nmax in [-nmax, nmax-1], weighting by
// x² (llama.cpp's make_q3_quants with do_rmse): start from the max-magnitude
// scale, then up to five rounds of coordinate descent, moving single values
// to the level that improves the least-squares fit. L is biased by nmax.
func makeQ3(nmax int, x []float32, L []int8) float32 {
	mx, amax := absMax(x)
	if amax < groupMaxEps {
		for i := range x {
			L[i] = 0
		}
		return 0
	}
	iscale := -float32(nmax) / mx
	var sumLX, sumL2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l)
		w := v * v
		sumLX += w * v * float32(l)
		sumL2 += w * float32(l) * float32(l)
	}
	for range 5 {
		changed := 0
		for i, v := range x {
			w := v * v
			li := float32(L[i])
			slx := sumLX - w*v*li
			if slx > 0 {
				sl2 := sumL2 - w*li*li
				nl := clampInt(nearestInt(v*sl2/slx), -nmax, nmax-1)
				if nl != int(L[i]) {
					fl := float32(nl)
					slx += w * v * fl
					sl2 += w * fl * fl
					if sl2 > 0 && slx*slx*sumL2 > sumLX*sumLX*sl2 {
						L[i] = int8(nl)
						sumLX, sumL2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range x {
		L[i] += int8(nmax)
	}
	if sumL2 > 0 {
		return sumLX / sumL2
	}
	return 0
}

// Q2_K: sixteen 16-value sub-blocks, each fitted with makeQKX2 (3 levels
// above an offset, absolute-error criterion); their scales and mins are
// quantized to 4 bits against the super-block's d and dmin.
func quantQ2_K(dst []byte, src []float32) {
	var (
		L       [256]uint8
		Laux    [16]uint8
		weights [16]float32
		mins    [16]float32
		scales  [16]float32
	)
	const q4scale = 15
	for i := 0; i < len(src)/256; i++ {
		x := (*[256]float32)(src[256*i:])
		b := (*[84]byte)(dst[84*i:])
		var maxScale, maxMin float32
		for j := 0; j < 16; j++ {
			xs := x[16*j : 16*j+16]
			for l, v := range xs {
				weights[l] = abs32(v)
			}
			scales[j], mins[j] = makeQKX2(3, xs, weights[:], L[16*j:16*j+16], Laux[:], -0.5, 0.1, 15, true)
			maxScale = max(maxScale, scales[j])
			maxMin = max(maxMin, mins[j])
		}
		sc := b[0:16]
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := range 16 {
				sc[j] = byte(nearestInt(iscale * scales[j]))
			}
			putF16(b[80:], maxScale/q4scale)
		} else {
			clear(sc)
			putF16(b[80:], 0)
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range 16 {
				sc[j] |= byte(nearestInt(iscale*mins[j])) << 4
			}
			putF16(b[82:], maxMin/q4scale)
		} else {
			putF16(b[82:], 0)
		}
		dAll := kernels.F16ToF32(binary.LittleEndian.Uint16(b[80:]))
		mAll := kernels.F16ToF32(binary.LittleEndian.Uint16(b[82:]))
		for j := range 16 {
			d := dAll * float32(sc[j]&0xf)
			if d == 0 {
				continue
			}
			dm := mAll * float32(sc[j]>>4)
			for ii := range 16 {
				L[16*j+ii] = uint8(clampInt(nearestInt((x[16*j+ii]+dm)/d), 0, 3))
			}
		}
		packQ2(b[16:80], &L)
	}
}

// packQ2 stores 256 two-bit values: value 128h + 32s + l goes to bits 2s of
// qs[32h+l] (the layout shared by Q2_K and the low bits of Q3_K).
func packQ2(qs []byte, L *[256]uint8) {
	for h := 0; h < 2; h++ {
		for l := 0; l < 32; l++ {
			j := 128*h + l
			qs[32*h+l] = L[j] | L[j+32]<<2 | L[j+64]<<4 | L[j+96]<<6
		}
	}
}

// Q3_K: sixteen 16-value sub-blocks fitted symmetrically with makeQ3 (levels
// -4..3); the signed scales are quantized to 6 bits against d.
func quantQ3_K(dst []byte, src []float32) {
	var (
		L      [256]int8
		scales [16]float32
		U      [256]uint8
	)
	for i := 0; i < len(src)/256; i++ {
		x := (*[256]float32)(src[256*i:])
		b := (*[110]byte)(dst[110*i:])
		var maxScale, amax float32
		for j := 0; j < 16; j++ {
			scales[j] = makeQ3(4, x[16*j:16*j+16], L[16*j:16*j+16])
			if a := abs32(scales[j]); a > amax {
				amax, maxScale = a, scales[j]
			}
		}
		sc := (*[12]byte)(b[96:])
		clear(sc[:])
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := range 16 {
				l := clampInt(int(int8(nearestInt(iscale*scales[j]))), -32, 31) + 32
				if j < 8 {
					sc[j] = byte(l & 0xf)
				} else {
					sc[j-8] |= byte(l&0xf) << 4
				}
				sc[8+j%4] |= byte(l>>4) << (2 * (j / 4))
			}
			putF16(b[108:], 1/iscale)
		} else {
			putF16(b[108:], 0)
		}
		dAll := kernels.F16ToF32(binary.LittleEndian.Uint16(b[108:]))
		for j := range 16 {
			var lo byte
			if j < 8 {
				lo = sc[j] & 0xf
			} else {
				lo = sc[j-8] >> 4
			}
			s := int(lo|(sc[8+j%4]>>(2*(j/4))&3)<<4) - 32
			d := dAll * float32(s)
			if d == 0 {
				continue
			}
			for ii := range 16 {
				L[16*j+ii] = int8(clampInt(nearestInt(x[16*j+ii]/d), -4, 3) + 4)
			}
		}
		hm := b[0:32]
		clear(hm)
		for j := range 256 {
			l := uint8(L[j])
			if l > 3 {
				hm[j%32] |= 1 << (j / 32)
				l -= 4
			}
			U[j] = l
		}
		packQ2(b[32:96], &U)
	}
}

// packScalesK4 stores eight 6-bit scales and mins in the 12-byte layout of
// Q4_K and Q5_K (see kernels' scaleMinK4).
func packScalesK4(p []byte, ls, lm *[8]uint8) {
	clear(p[:12])
	for j := 0; j < 8; j++ {
		if j < 4 {
			p[j] = ls[j]
			p[j+4] = lm[j]
		} else {
			p[j+4] = ls[j]&0xf | (lm[j]&0xf)<<4
			p[j-4] |= (ls[j] >> 4) << 6
			p[j] |= (lm[j] >> 4) << 6
		}
	}
}

func scaleMinK4(j int, p []byte) (sc, m byte) {
	if j < 4 {
		return p[j] & 63, p[j+4] & 63
	}
	return p[j+4]&0xf | (p[j-4]>>6)<<4, p[j+4]>>4 | (p[j]>>6)<<4
}

// quantK32 is the common part of Q4_K and Q5_K: eight 32-value sub-blocks,
// each fitted with makeQKX2 (weights av|x| + |x|), scales and mins quantized
// to 6 bits against d and dmin (written to b[0:16]); the final levels, in
// [0, nmax], go to L.
func quantK32(b []byte, x *[256]float32, L *[256]uint8, nmax int, rmin, rdelta float32, nstep int) {
	var (
		Laux    [32]uint8
		weights [32]float32
		mins    [8]float32
		scales  [8]float32
		ls, lm  [8]uint8
	)
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += v * v
		}
		av := float32(math.Sqrt(float64(sumX2 / 32)))
		for l, v := range xs {
			weights[l] = av + abs32(v)
		}
		scales[j], mins[j] = makeQKX2(nmax, xs, weights[:], L[32*j:32*j+32], Laux[:], rmin, rdelta, nstep, false)
		maxScale = max(maxScale, scales[j])
		maxMin = max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	for j := range 8 {
		ls[j] = min(63, uint8(nearestInt(invScale*scales[j])))
		lm[j] = min(63, uint8(nearestInt(invMin*mins[j])))
	}
	packScalesK4(b[4:16], &ls, &lm)
	putF16(b[0:], maxScale/63)
	putF16(b[2:], maxMin/63)
	dAll := kernels.F16ToF32(binary.LittleEndian.Uint16(b[0:]))
	mAll := kernels.F16ToF32(binary.LittleEndian.Uint16(b[2:]))
	for j := range 8 {
		sc, m := scaleMinK4(j, b[4:16])
		d := dAll * float32(sc)
		if d == 0 {
			continue
		}
		dm := mAll * float32(m)
		for ii := range 32 {
			L[32*j+ii] = uint8(clampInt(nearestInt((x[32*j+ii]+dm)/d), 0, nmax))
		}
	}
}

// Q4_K: 4-bit levels, nibbles of value 64c+l and 64c+32+l share qs[32c+l].
func quantQ4_K(dst []byte, src []float32) {
	var L [256]uint8
	for i := 0; i < len(src)/256; i++ {
		x := (*[256]float32)(src[256*i:])
		b := (*[144]byte)(dst[144*i:])
		quantK32(b[:], x, &L, 15, -1, 0.1, 20)
		for c := 0; c < 4; c++ {
			for l := 0; l < 32; l++ {
				b[16+32*c+l] = L[64*c+l] | L[64*c+32+l]<<4
			}
		}
	}
}

// Q5_K: 5-bit levels; low nibbles as Q4_K, fifth bits in qh (bit 2c for
// value 64c+l, bit 2c+1 for value 64c+32+l, byte l).
func quantQ5_K(dst []byte, src []float32) {
	var L [256]uint8
	for i := 0; i < len(src)/256; i++ {
		x := (*[256]float32)(src[256*i:])
		b := (*[176]byte)(dst[176*i:])
		quantK32(b[:], x, &L, 31, -0.5, 0.1, 15)
		qh := b[16:48]
		clear(qh)
		for c := 0; c < 4; c++ {
			for l := 0; l < 32; l++ {
				l1, l2 := L[64*c+l], L[64*c+32+l]
				qh[l] |= (l1>>4)<<(2*c) | (l2>>4)<<(2*c+1)
				b[48+32*c+l] = l1&0xf | (l2&0xf)<<4
			}
		}
	}
}

// Q6_K: sixteen 16-value sub-blocks fitted symmetrically with makeQX (levels
// -32..31); scales are int8 against d = -max_scale/128.
func quantQ6_K(dst []byte, src []float32) {
	var (
		L      [256]uint8
		scales [16]float32
	)
	for i := 0; i < len(src)/256; i++ {
		x := (*[256]float32)(src[256*i:])
		b := (*[210]byte)(dst[210*i:])
		var maxScale, maxAbs float32
		for j := 0; j < 16; j++ {
			scales[j] = makeQX(32, x[16*j:16*j+16], L[16*j:16*j+16])
			if a := abs32(scales[j]); a > maxAbs {
				maxAbs, maxScale = a, scales[j]
			}
		}
		if maxAbs < groupMaxEps {
			clear(b[:])
			continue
		}
		iscale := -128 / maxScale
		putF16(b[208:], 1/iscale)
		for j := range 16 {
			b[192+j] = byte(int8(min(127, nearestInt(iscale*scales[j]))))
		}
		dAll := kernels.F16ToF32(binary.LittleEndian.Uint16(b[208:]))
		for j := range 16 {
			d := dAll * float32(int8(b[192+j]))
			if d == 0 {
				continue
			}
			for ii := range 16 {
				L[16*j+ii] = uint8(clampInt(nearestInt(x[16*j+ii]/d), -32, 31) + 32)
			}
		}
		for h := 0; h < 2; h++ {
			ql := b[64*h : 64*h+64]
			qh := b[128+32*h : 128+32*h+32]
			for l := 0; l < 32; l++ {
				j := 128*h + l
				q1, q2, q3, q4 := L[j], L[j+32], L[j+64], L[j+96]
				ql[l] = q1&0xf | (q3&0xf)<<4
				ql[l+32] = q2&0xf | (q4&0xf)<<4
				qh[l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
			}
		}
	}
}

// Q8_K: d = -max/127 (float32), q = min(127, round(x/d)), plus the sums of
// each 16 quants.
func quantQ8_K(dst []byte, src []float32) {
	for i := 0; i < len(src)/256; i++ {
		x := (*[256]float32)(src[256*i:])
		b := (*[292]byte)(dst[292*i:])
		mx, amax := absMax(x[:])
		if amax == 0 {
			clear(b[:])
			continue
		}
		iscale := -127 / mx
		for j, v := range x {
			b[4+j] = byte(int8(min(127, nearestInt(iscale*v))))
		}
		for j := range 16 {
			var s int16
			for ii := range 16 {
				s += int16(int8(b[4+16*j+ii]))
			}
			binary.LittleEndian.PutUint16(b[260+2*j:], uint16(s))
		}
		binary.LittleEndian.PutUint32(b[0:], math.Float32bits(1/iscale))
	}
}
