package kernels

import "math"

// f16Table maps every IEEE half-precision bit pattern to its float32 value.
// It is used by the hot loops, where a table load is cheaper than the
// branches of the general conversion.
var f16Table [1 << 16]float32

func init() {
	for i := range f16Table {
		f16Table[i] = F16ToF32(uint16(i))
	}
}

// F16ToF32 converts an IEEE 754 half-precision value, given by its bits, to
// float32. The conversion is exact; NaN payloads are kept.
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch exp {
	case 0:
		// Zero or subnormal: man * 2^-24, exact in float32.
		f := float32(man) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(f))
	case 0x1f:
		// Infinity or NaN.
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	}
	return math.Float32frombits(sign | (exp+(127-15))<<23 | man<<13)
}

// F32ToF16 converts f to IEEE 754 half precision, rounding to nearest with
// ties to even, as ggml does. Values too large become ±Inf, values too small
// become ±0 or a subnormal; NaN stays a (quiet) NaN.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00 | uint16(man>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // biased half exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Result is a half subnormal (or zero): value = m24 * 2^(exp-150),
		// in units of 2^-24 that is m24 >> (14-e).
		shift := uint(14 - e)
		if shift > 24 {
			return sign // below half the smallest subnormal
		}
		m := man | 0x800000
		q := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && q&1 == 1) {
			q++
		}
		return sign | uint16(q)
	}
	h := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to Inf: that is correct
	}
	return sign | uint16(h)
}

// BF16ToF32 converts a bfloat16 value, given by its bits, to float32 (exact).
func BF16ToF32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// F32ToBF16 converts f to bfloat16, rounding to nearest with ties to even, as
// ggml does. NaN is kept as a quiet NaN.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
