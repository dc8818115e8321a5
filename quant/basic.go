package quant

import (
	"encoding/binary"
	"math"

	"ferry/kernels"
)

// Plain and 32-value-block quantizers. Arithmetic is float32 throughout, in
// the same order as llama.cpp's reference code, so that results match it
// bit for bit.

func put16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }

func putF16(b []byte, f float32) { put16(b, kernels.F32ToF16(f)) }

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

func quantF32(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func quantF16(dst []byte, src []float32) {
	for i, v := range src {
		put16(dst[2*i:], kernels.F32ToF16(v))
	}
}

func quantBF16(dst []byte, src []float32) {
	for i, v := range src {
		put16(dst[2*i:], kernels.F32ToBF16(v))
	}
}

// absMax returns the value of x with the largest magnitude (the first one on
// ties) and that magnitude.
func absMax(x []float32) (mx, amax float32) {
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, mx = a, v
		}
	}
	return mx, amax
}

// minMax returns the smallest and largest values of x.
func minMax(x []float32) (mn, mx float32) {
	mn, mx = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < mn {
			mn = v
		}
		if v > mx {
			mx = v
		}
	}
	return mn, mx
}

func inv(d float32) float32 {
	if d == 0 {
		return 0
	}
	return 1 / d
}

// Q8_0: d = amax/127, q = round(x/d) (half away from zero).
func quantQ8_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/32; i++ {
		x := (*[32]float32)(src[32*i:])
		b := (*[34]byte)(dst[34*i:])
		var amax float32
		for _, v := range x {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		id := inv(d)
		putF16(b[0:], d)
		for j, v := range x {
			b[2+j] = byte(int8(math.Round(float64(v * id))))
		}
	}
}

// Q4_0: d = -max/8 where max is the value of largest magnitude, so that it
// maps to q = 0 exactly; q = min(15, trunc(x/d + 8.5)).
func quantQ4_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/32; i++ {
		x := (*[32]float32)(src[32*i:])
		b := (*[18]byte)(dst[18*i:])
		mx, _ := absMax(x[:])
		d := mx / -8
		id := inv(d)
		putF16(b[0:], d)
		for j := 0; j < 16; j++ {
			q0 := min(15, int8(x[j]*id+8.5))
			q1 := min(15, int8(x[j+16]*id+8.5))
			b[2+j] = byte(q0) | byte(q1)<<4
		}
	}
}

// Q4_1: d = (max-min)/15, m = min, q = min(15, trunc((x-min)/d + 0.5)).
func quantQ4_1(dst []byte, src []float32) {
	for i := 0; i < len(src)/32; i++ {
		x := (*[32]float32)(src[32*i:])
		b := (*[20]byte)(dst[20*i:])
		mn, mx := minMax(x[:])
		d := (mx - mn) / 15
		id := inv(d)
		putF16(b[0:], d)
		putF16(b[2:], mn)
		for j := 0; j < 16; j++ {
			q0 := min(15, int8((x[j]-mn)*id+0.5))
			q1 := min(15, int8((x[j+16]-mn)*id+0.5))
			b[4+j] = byte(q0) | byte(q1)<<4
		}
	}
}

// Q5_0: as Q4_0 with 32 levels: d = -max/16, q = min(31, trunc(x/d + 16.5)).
func quantQ5_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/32; i++ {
		x := (*[32]float32)(src[32*i:])
		b := (*[22]byte)(dst[22*i:])
		mx, _ := absMax(x[:])
		d := mx / -16
		id := inv(d)
		putF16(b[0:], d)
		var qh uint32
		for j := 0; j < 16; j++ {
			q0 := byte(min(31, int8(x[j]*id+16.5)))
			q1 := byte(min(31, int8(x[j+16]*id+16.5)))
			b[6+j] = q0&0xf | (q1&0xf)<<4
			qh |= uint32(q0>>4) << j
			qh |= uint32(q1>>4) << (j + 16)
		}
		binary.LittleEndian.PutUint32(b[2:], qh)
	}
}

// Q5_1: as Q4_1 with 32 levels: d = (max-min)/31, q = trunc((x-min)/d + 0.5).
func quantQ5_1(dst []byte, src []float32) {
	for i := 0; i < len(src)/32; i++ {
		x := (*[32]float32)(src[32*i:])
		b := (*[24]byte)(dst[24*i:])
		mn, mx := minMax(x[:])
		d := (mx - mn) / 31
		id := inv(d)
		putF16(b[0:], d)
		putF16(b[2:], mn)
		var qh uint32
		for j := 0; j < 16; j++ {
			q0 := min(31, byte((x[j]-mn)*id+0.5))
			q1 := min(31, byte((x[j+16]-mn)*id+0.5))
			b[8+j] = q0&0xf | (q1&0xf)<<4
			qh |= uint32(q0>>4) << j
			qh |= uint32(q1>>4) << (j + 16)
		}
		binary.LittleEndian.PutUint32(b[4:], qh)
	}
}
