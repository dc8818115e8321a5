package kernels

import (
	"encoding/binary"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

// Activations are converted once per MatVec/MatMul call into the form the
// weight type's dot product consumes, as llama.cpp does (its vec_dot_type):
//
//   - actF32: float32 values, copied.
//   - actF16, actBF16: float32 values rounded to half (bfloat16) precision,
//     since llama.cpp converts activations to the weight's 16-bit format.
//   - actF16U: actF16's values for the AVX2 F16 loop that unpacks half
//     of its weights with integer operations (vecF16UAVX2): in each 32
//     values the first 16 in the order 0-3, 8-11, 4-7, 12-15 and times
//     2^112, the rest as they are.
//   - actBF16U: actBF16's values for the AVX2 BF16 loop that widens its
//     weights by unpacking (vecBF16UAVX2): every 16 values in the order
//     0-3, 8-11, 4-7, 12-15, those past the last 16 as they are.
//   - actF16H: the same values as actF16, stored as IEEE halves (2 bytes
//     each), for the SIMD F16 loops: a 5632-value input then takes 11 KiB
//     of the core's 32 KiB L1 instead of 22, beside the streaming weights.
//   - actQ8_0: 40-byte blocks of 32 values: d float32 @0 (the scale rounded
//     to fp16, as in block_q8_0), s float32 @4 (fp16 of d times the sum of the
//     quants, as block_q8_1 keeps for Q4_1/Q5_1), qs int8[32] @8.
//   - actQ8_K: 292-byte block_q8_K: d float32 @0, qs int8[256] @4, bsums
//     int16[16] @260 (sums of each 16 quants).
type actKind uint8

const (
	actF32 actKind = iota
	actF16
	actBF16
	actQ8_0
	actQ8_K
	// actQ8_KP is actQ8_K rearranged for the AVX-512 K-quant loops, in
	// 320-byte blocks (64-byte aligned, as the loops load 64 bytes at a
	// time): qs int8[256] @0 with the 32-value sub-blocks in the order 0 2
	// 1 3 4 6 5 7, the sums of the eight sub-blocks int16[8] @256 (natural
	// order), d float32 @272.
	actQ8_KP
	// actQ8_0P is actQ8_0 laid out for the AVX-512 Q8_0 loop: per pair of
	// blocks (64 values; a last odd block is padded with zeros), 192 bytes:
	// the 64 quants @0, int32[16] @64 holding -128 times each block's sum
	// of quants in lanes 0 and 8 (zeros elsewhere), and float32[16] @128
	// holding each block's d in lanes 0-7 and 8-15.
	actQ8_0P
	// actF16H is float16 values, as actF16, for the AVX-512 F16 loops in
	// matrix-vector products: half the bytes of float32 in the L1 while
	// the weights stream past (batches keep float32: kernel.batchAct).
	actF16H
	// actQ8_K6 is actQ8_K laid out for the interleaved Q6_K loop, in
	// 336-byte blocks: qs int8[256] @0 (natural order), int32[16] @256
	// holding -32 times each 16 quants' sum (where each 16 values' sums
	// start: Q6_K's quants go in as q+32, unsigned), d float32 @320.
	actQ8_K6
	// actQ8_0X is actQ8_0 laid out for the interleaved Q8_0 loop, in
	// 40-byte blocks: qs int8[32] @0, -128 times the sum of the quants
	// int32 @32 (where the sums start: the loop takes the weights' quants
	// plus 128, unsigned), d float32 @36. It holds only what that loop
	// reads: a 2048-value input takes 2.5 KiB of the L1 (actQ8_0P, which
	// the row loop reads, 6), and an input the L1 keeps while the weights
	// stream past is what lets the loop keep up with them.
	actQ8_0X
	// actQ8_KB is actQ8_K with every four quants broadcast, for the AVX2
	// loops of rows of at most 2048 values interleaved by eight (q4KX8B,
	// q5KX8B), which take four quants of eight rows against the same four
	// activations: 2112-byte blocks, @0 for each 64-value chunk c and step
	// t in 0..7 (at 512c+64t) quants 4t..4t+3 of sub-block 2c repeated
	// eight times (32 bytes), then those of sub-block 2c+1; @2048 the sums
	// of the eight sub-blocks int16[8] (natural order); d float32 @2064;
	// twelve bytes of zeros; @2080 the sums of each 16 quants int16[16]
	// (actQ8_K's). The loops read their activations as operands of their
	// multiplies instead of broadcasting them (on a core that splits
	// 256-bit operations, Zen 1, a fifth of their operations), at eight
	// times the bytes: a 2048-value input takes 16.5 KiB of the L1.
	actQ8_KB
	// actQ8_0B is actQ8_0 with every four quants broadcast, for the AVX2
	// loops of the 32-value types' rows of at most 2048 values
	// interleaved by eight (q40X8B, q50X8B, q41X8B, q51X8B), which take
	// quants 4t..4t+3 and 16+4t..16+4t+3 of eight rows against the same
	// activations: 272-byte blocks, @64t for step t in 0..3 quants
	// 4t..4t+3 repeated eight times (32 bytes), then quants
	// 16+4t..16+4t+3 likewise; @256 -128 times the sum of the quants
	// (int32), @260 d and @264 s (actQ8_0's), then four bytes of zeros.
	// As with actQ8_KB, the loops take the activations as operands of
	// their multiplies: a 2048-value input takes 17 KiB of the L1.
	actQ8_0B
	// actF16U is actF16 laid out for vecF16UAVX2 (see orderUnpacked).
	actF16U
	// actBF16U is actBF16 laid out for vecBF16UAVX2 (see orderUnpacked).
	actBF16U
	numActKinds
)

const (
	q8PairBytes = 192  // bytes per actQ8_0P pair of blocks
	q8KPBlock   = 320  // bytes per actQ8_KP block
	q8Block     = 40   // bytes per actQ8_0 block
	q8KBlock    = 292  // bytes per actQ8_K block
	q8K6Block   = 336  // bytes per actQ8_K6 block
	q8KBBlock   = 2112 // bytes per actQ8_KB block
	q8BBlock    = 272  // bytes per actQ8_0B block
)

// actBytes returns the bytes of the prepared form of n activations.
func actBytes(a actKind, n int) int {
	switch a {
	case actQ8_0:
		return n / 32 * q8Block
	case actQ8_K:
		return n / 256 * q8KBlock
	case actQ8_KP:
		return n / 256 * q8KPBlock
	case actQ8_0P:
		return (n/32 + 1) / 2 * q8PairBytes
	case actF16H:
		return 2 * n
	case actQ8_K6:
		return n / 256 * q8K6Block
	case actQ8_0X:
		return n / 32 * q8Block
	case actQ8_KB:
		return n / 256 * q8KBBlock
	case actQ8_0B:
		return n / 32 * q8BBlock
	}
	return 4 * n
}

// prepare writes the prepared form of x into dst (actBytes(a, len(x)) bytes).
func prepare(a actKind, dst []byte, x []float32) {
	prepareWith(a, dst, x, quantizers{quantizeQ8_0, quantizeQ8_K, quantizeQ8_0P, quantizeQ8_KR, spreadQ8_KB, spreadQ8_0B})
}

// quantizeGo is prepare with the portable quantizers.
func quantizeGo(a actKind, dst []byte, x []float32) {
	prepareWith(a, dst, x, quantizers{quantizeQ8_0Go, quantizeQ8_KGo, quantizeQ8_0PGo, quantizeQ8_KRGo, spreadQ8_KBGo, spreadQ8_0BGo})
}

// quantizers are the activation quantizers prepareWith uses: for actQ8_0,
// actQ8_K, actQ8_0P and the reordered Q8_K forms, and the spreading of
// actQ8_KP and actQ8_0 blocks into the actQ8_KB and actQ8_0B forms.
type quantizers struct {
	q8_0, q8_K, q8_0P func(dst []byte, x []float32)
	q8_KR             func(qs, sums, d []byte, nd int, x []float32)
	spreadKB          func(dst, src []byte, nb int)
	spreadB           func(dst, src []byte, nb int)
}

// prepareWith is prepare with the quantizers q.
func prepareWith(a actKind, dst []byte, x []float32, q quantizers) {
	switch a {
	case actF32:
		copy(f32view(dst), x)
	case actF16:
		RoundF16(f32view(dst)[:len(x)], x)
	case actF16U:
		d := f32view(dst)[:len(x)]
		RoundF16(d, x)
		orderUnpacked(d, 32, f16UScale)
	case actF16H:
		F32ToF16Slice(unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(dst))), len(x)), x)
	case actBF16, actBF16U:
		d := f32view(dst)[:len(x)]
		for i, v := range x {
			d[i] = math.Float32frombits(uint32(F32ToBF16(v)) << 16)
		}
		if a == actBF16U {
			orderUnpacked(d, 16, 1)
		}
	case actQ8_0:
		q.q8_0(dst, x)
	case actQ8_K:
		q.q8_K(dst, x)
	case actQ8_KP:
		permuteQ8_K(dst, x, q.q8_KR)
	case actQ8_0P:
		q.q8_0P(dst, x)
	case actQ8_K6:
		quantizeSpread(dst, x, 256, q8KBlock, q8K6Block, q.q8_K, spreadQ8_K6)
	case actQ8_0X:
		compactQ8_0(dst, x, q.q8_0)
	case actQ8_KB:
		quantizeSpread(dst, x, 256, q8KBlock, q8KBBlock, q.q8_K, q.spreadKB)
	case actQ8_0B:
		quantizeSpread(dst, x, 32, q8Block, q8BBlock, q.q8_0, q.spreadB)
	}
}

// quantizeQ8_0P writes the actQ8_0P form of x. An assembly version may
// replace it; it must give the same bytes as quantizeQ8_0PGo.
var quantizeQ8_0P = quantizeQ8_0PVia

// quantizeQ8_0PVia is quantizeQ8_0P over the actQ8_0 quantizer in use.
func quantizeQ8_0PVia(dst []byte, x []float32) { pairQ8_0(dst, x, quantizeQ8_0) }

// quantizeQ8_0PGo is quantizeQ8_0P over the portable quantizer.
func quantizeQ8_0PGo(dst []byte, x []float32) { pairQ8_0(dst, x, quantizeQ8_0Go) }

// pairQ8_0 writes the actQ8_0P form of x, quantizing with q. The actQ8_0
// blocks are first written at the end of dst, then spread forward pair by
// pair (a pair's output never reaches a later pair's blocks, though it may
// overlap its own, which is read first).
func pairQ8_0(dst []byte, x []float32, q func(dst []byte, x []float32)) {
	nb := len(x) / 32
	np := (nb + 1) / 2
	dst = dst[:np*q8PairBytes]
	at := len(dst) - nb*q8Block
	q(dst[at:], x[:32*nb])
	for p := 0; p < np; p++ {
		var src [2 * q8Block]byte
		copy(src[:], dst[at+2*q8Block*p:min(at+2*q8Block*(p+1), len(dst))])
		out := (*[q8PairBytes]byte)(dst[q8PairBytes*p:])
		*out = [q8PairBytes]byte{}
		for h := 0; h < 2 && 2*p+h < nb; h++ {
			blk := (*[q8Block]byte)(src[q8Block*h:])
			qs := (*[32]byte)(blk[8:])
			*(*[32]byte)(out[32*h:]) = *qs
			binary.LittleEndian.PutUint32(out[64+32*h:], uint32(-128*sumInt8x32(qs)))
			d := binary.LittleEndian.Uint32(blk[0:4])
			for l := 0; l < 8; l++ {
				binary.LittleEndian.PutUint32(out[128+32*h+4*l:], d)
			}
		}
	}
}

// compactQ8_0 writes the actQ8_0X form of x, quantizing with q: the
// actQ8_0 blocks, of the same size, are rewritten in place.
func compactQ8_0(dst []byte, x []float32, q func(dst []byte, x []float32)) {
	nb := len(x) / 32
	dst = dst[:nb*q8Block]
	q(dst, x[:32*nb])
	for k := 0; k < nb; k++ {
		blk := (*[q8Block]byte)(dst[q8Block*k:])
		in := *blk
		qs := (*[32]byte)(in[8:])
		*(*[32]byte)(blk[0:]) = *qs
		binary.LittleEndian.PutUint32(blk[32:], uint32(-128*sumInt8x32(qs)))
		copy(blk[36:40], in[0:4])
	}
}

// sumInt8x32 returns the sum of 32 signed bytes, eight at a time: each
// byte is offset by 128 to an unsigned one, adjacent bytes are added into
// 16-bit lanes (at most 4 * 2 * 255 per lane), and the lanes are summed.
func sumInt8x32(b *[32]byte) int32 {
	const lo = 0x00ff00ff00ff00ff
	var lanes uint64
	for i := 0; i < 32; i += 8 {
		v := binary.LittleEndian.Uint64(b[i:]) ^ 0x8080808080808080
		lanes += v&lo + v>>8&lo
	}
	return int32(lanes*0x0001000100010001>>48) - 32*128
}

// permuteQ8_K writes the actQ8_KP form of x, quantizing each block with kr.
func permuteQ8_K(dst []byte, x []float32, kr func(qs, sums, d []byte, nd int, x []float32)) {
	nb := len(x) / 256
	for k := 0; k < nb; k++ {
		out := (*[q8KPBlock]byte)(dst[q8KPBlock*k:])
		kr(out[0:256], out[256:272], out[272:276], 1, x[256*k:256*k+256])
		clear(out[276:])
	}
}

// quantizeSpread writes a form of x made of one block of out bytes for
// each block of vals values that q quantizes into in bytes (in <= out):
// the nb quantized blocks are written at the end of dst, then spread
// rewrites them forward into the form at dst[0:] (a block's output never
// reaches a later block's quantized bytes, though the last one's overlaps
// its own, which spread reads first). Spreads take the nb blocks at src
// into the form at dst: where the two overlap, dst must start no later
// than src, as here.
func quantizeSpread(dst []byte, x []float32, vals, in, out int, q func(dst []byte, x []float32), spread func(dst, src []byte, nb int)) {
	nb := len(x) / vals
	dst = dst[:nb*out]
	at := len(dst) - nb*in
	q(dst[at:], x[:vals*nb])
	spread(dst, dst[at:], nb)
}

// spreadQ8_KB rewrites the nb actQ8_K blocks at src into the actQ8_KB
// form at dst (see quantizeSpread). An assembly version may replace it;
// it must give the same bytes as spreadQ8_KBGo.
var spreadQ8_KB = spreadQ8_KBGo

// spreadQ8_KBGo is the portable spreadQ8_KB.
func spreadQ8_KBGo(dst, src []byte, nb int) {
	le := binary.LittleEndian
	for k := 0; k < nb; k++ {
		in := *(*[q8KBlock]byte)(src[q8KBlock*k:])
		out := (*[q8KBBlock]byte)(dst[q8KBBlock*k:])
		for sb := 0; sb < 8; sb++ {
			for t := 0; t < 8; t++ {
				o := out[512*(sb/2)+64*t+32*(sb%2):][:32]
				for r := 0; r < 32; r += 4 {
					copy(o[r:r+4], in[4+32*sb+4*t:])
				}
			}
		}
		for j := 0; j < 8; j++ {
			s := int16(le.Uint16(in[260+4*j:])) + int16(le.Uint16(in[262+4*j:]))
			le.PutUint16(out[2048+2*j:], uint16(s))
		}
		copy(out[2064:2068], in[0:4])
		clear(out[2068:2080])
		copy(out[2080:2112], in[260:292])
	}
}

// spreadQ8_0B rewrites the nb actQ8_0 blocks at src into the actQ8_0B
// form at dst (see quantizeSpread). An assembly version may replace it; it
// must give the same bytes as spreadQ8_0BGo.
var spreadQ8_0B = spreadQ8_0BGo

// spreadQ8_0BGo is the portable spreadQ8_0B.
func spreadQ8_0BGo(dst, src []byte, nb int) {
	for k := 0; k < nb; k++ {
		in := *(*[q8Block]byte)(src[q8Block*k:])
		qs := (*[32]byte)(in[8:])
		out := (*[q8BBlock]byte)(dst[q8BBlock*k:])
		for t := 0; t < 4; t++ {
			for r := 0; r < 32; r += 4 {
				copy(out[64*t+r:][:4], qs[4*t:])
				copy(out[64*t+32+r:][:4], qs[16+4*t:])
			}
		}
		binary.LittleEndian.PutUint32(out[256:], uint32(-128*sumInt8x32(qs)))
		copy(out[260:268], in[0:8])
		clear(out[268:])
	}
}

// spreadQ8_K6 rewrites the nb actQ8_K blocks at src into the actQ8_K6
// form at dst (see quantizeSpread).
func spreadQ8_K6(dst, src []byte, nb int) {
	le := binary.LittleEndian
	for k := 0; k < nb; k++ {
		var b [q8KBlock]byte
		copy(b[:], src[q8KBlock*k:])
		out := (*[q8K6Block]byte)(dst[q8K6Block*k:])
		copy(out[:256], b[4:260])
		for g := 0; g < 16; g++ {
			le.PutUint32(out[256+4*g:], uint32(-32*int32(int16(le.Uint16(b[260+2*g:])))))
		}
		copy(out[320:324], b[0:4])
		clear(out[324:])
	}
}

// kpOrder is the order of the 32-value sub-blocks in the reordered forms.
var kpOrder = [8]int{0, 2, 1, 3, 4, 6, 5, 7}

// quantizeQ8_KR quantizes 256 values as one actQ8_K block straight into
// the reordered form actQ8_KP: the quants with their
// sub-blocks in kpOrder into qs (256 bytes), the sums of the eight
// sub-blocks into sums (int16[8]), and d into each of the nd four-byte
// slots of d. An assembly version may replace it; it must give the same
// bytes as quantizeQ8_KRGo.
var quantizeQ8_KR = quantizeQ8_KRVia

// quantizeQ8_KRVia is quantizeQ8_KR over the actQ8_K quantizer in use.
func quantizeQ8_KRVia(qs, sums, d []byte, nd int, x []float32) {
	reorderQ8_K(quantizeQ8_K, qs, sums, d, nd, x)
}

// quantizeQ8_KRGo is quantizeQ8_KR over the portable quantizer.
func quantizeQ8_KRGo(qs, sums, d []byte, nd int, x []float32) {
	reorderQ8_K(quantizeQ8_KGo, qs, sums, d, nd, x)
}

// reorderQ8_K quantizes x with q into one actQ8_K block and moves it into
// the reordered forms (see quantizeQ8_KR).
func reorderQ8_K(q func(dst []byte, x []float32), qs, sums, d []byte, nd int, x []float32) {
	var b [q8KBlock]byte
	q(b[:], x[:256])
	moveQ8_KR(&b, qs, sums, d, nd)
}

// moveQ8_KR moves the actQ8_K block b into the reordered forms (see
// quantizeQ8_KR).
func moveQ8_KR(b *[q8KBlock]byte, qs, sums, d []byte, nd int) {
	le := binary.LittleEndian
	_, _ = qs[255], sums[15]
	for i, sb := range kpOrder {
		copy(qs[32*i:32*i+32], b[4+32*sb:])
	}
	for j := 0; j < 8; j++ {
		s := int16(le.Uint16(b[260+4*j:])) + int16(le.Uint16(b[262+4*j:]))
		le.PutUint16(sums[2*j:], uint16(s))
	}
	for l := 0; l < nd; l++ {
		copy(d[4*l:4*l+4], b[0:4])
	}
}

// f32view reinterprets a prepared buffer (8-byte aligned, see scratch) as
// float32 values.
func f32view(b []byte) []float32 {
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// nearestInt is ggml's nearest_int: round to nearest, ties to even, for
// |f| <= 2^22, the same rounding as CVTPS2DQ.
func nearestInt(f float32) int32 {
	return int32(math.Float32bits(f+12582912)&0x7fffff) - 0x400000
}

// quantizeQ8_0Go is the portable activation quantizer to actQ8_0 blocks,
// following ggml's AVX2 quantize_row_q8_0/q8_1: d = max|x|/127 (stored
// rounded to fp16), quants round(x*127/max|x|).
func quantizeQ8_0Go(dst []byte, x []float32) {
	for i := 0; i < len(x)/32; i++ {
		xs := (*[32]float32)(x[32*i:])
		b := (*[q8Block]byte)(dst[q8Block*i:])
		var amax float32
		for _, v := range xs {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		dh := f16Table[F32ToF16(d)]
		var sum int32
		for j, v := range xs {
			q := nearestInt(v * id)
			b[8+j] = byte(int8(q))
			sum += q
		}
		binary.LittleEndian.PutUint32(b[0:], math.Float32bits(dh))
		// As block_q8_1: s is fp16(d * sum), with d before its own rounding.
		binary.LittleEndian.PutUint32(b[4:], math.Float32bits(f16Table[F32ToF16(d*float32(sum))]))
	}
}

// quantizeQ8_KGo is ggml's quantize_row_q8_K_ref.
func quantizeQ8_KGo(dst []byte, x []float32) {
	for i := 0; i < len(x)/256; i++ {
		xs := (*[256]float32)(x[256*i:])
		b := (*[q8KBlock]byte)(dst[q8KBlock*i:])
		var amax, mx float32
		for _, v := range xs {
			if a := abs32(v); a > amax {
				amax, mx = a, v
			}
		}
		if amax == 0 {
			clear(b[:])
			continue
		}
		iscale := -127 / mx
		for j, v := range xs {
			b[4+j] = byte(int8(min(127, nearestInt(iscale*v))))
		}
		for g := 0; g < 16; g++ {
			var s int16
			for _, q := range b[4+16*g : 4+16*g+16] {
				s += int16(int8(q))
			}
			binary.LittleEndian.PutUint16(b[260+2*g:], uint16(s))
		}
		binary.LittleEndian.PutUint32(b[0:], math.Float32bits(1/iscale))
	}
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// quantizeQ8_0 and quantizeQ8_K are the activation quantizers in use
// (assembly versions may replace them; they must give identical bytes).
var (
	quantizeQ8_0 = quantizeQ8_0Go
	quantizeQ8_K = quantizeQ8_KGo
)

// scratch is a reusable buffer for prepared activations, 64-byte aligned
// (a cache line: the AVX-512 loops load activations 64 bytes at a time).
type scratch struct{ buf []uint64 }

// ScratchBytes bounds the memory the kernels take while a product of n
// vectors of at most cols values runs: its prepared activations, a buffer
// for each of up to three forms at once (a job of several products, such
// as Q, K and V of different types), each at most the largest form's size
// (actQ8_0B's 8.5 bytes a value, actQ8_KB's 8.1, F32's four), the batch
// loop's tile of a group of rows (twice rowGroupBytes), and each
// participant's own copies of a single vector's broadcast forms
// (privateActs). Engines count it in a memory budget.
func ScratchBytes(n, cols int) int64 {
	cols = (cols + 255) &^ 255
	var most int
	for a := actKind(0); a < numActKinds; a++ {
		most = max(most, actBytes(a, cols))
	}
	// Four buffers' worth: scratch grows by a quarter more than asked.
	shared := 4*int64(n)*int64(most+64) + 2*rowGroupBytes + 64
	private := int64(runtime.GOMAXPROCS(0)) * numBcast * (int64(most+64)*5/4 + 64)
	return shared + private
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// bytes returns n bytes of the scratch buffer, growing it if needed.
func (s *scratch) bytes(n int) []byte {
	w := (n+7)/8 + 8
	if cap(s.buf) < w {
		s.buf = make([]uint64, w+w/4)
	}
	if n == 0 {
		return nil
	}
	p := unsafe.Pointer(&s.buf[:1][0])
	skip := (64 - uintptr(p)%64) % 64
	return unsafe.Slice((*byte)(unsafe.Add(p, skip)), n)
}

// f16UScale is 2^112. vecF16UAVX2 reads the bits of half of its weights,
// moved into float32's places, as their values times 2^-112, and
// multiplies them by activations times 2^112, so that every product is
// exact. The activations are rounded to halves, at most 65504, below
// 2^16: times 2^112 they stay below 2^128, the end of float32's range.
const f16UScale = 0x1p112

// unpackOrder is the order in which VPUNPCKLWD and VPUNPCKHWD take 16
// halves (32 bytes, two 128-bit lanes) into two registers of eight
// dwords: the low four of each lane, then the high four.
var unpackOrder = [16]int{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15}

// orderUnpacked lays out d, float32 activations, for a loop that widens
// the first 16 of every n weights by unpacking: those 16 values of each
// whole n in unpackOrder and times scale, the others, and the values past
// the last whole n, as they are. actF16U is actF16 so laid out with n 32
// and scale f16UScale, actBF16U actBF16 with n 16 and scale 1.
func orderUnpacked(d []float32, n int, scale float32) {
	for c := 0; c+n <= len(d); c += n {
		v := (*[16]float32)(d[c : c+16])
		var t [16]float32
		for i, j := range unpackOrder {
			t[i] = v[j] * scale
		}
		*v = t
	}
}
