package kernels

import (
	"os"
	"sync"

	"ferry/dtype"
)

// CPU features, read once with CPUID.
var (
	hasAVX2       bool // AVX2, FMA and F16C, with the OS saving YMM state
	hasAVX512VNNI bool // AVX-512 F/DQ/BW/VL/VBMI and VNNI, with the OS saving ZMM state
)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)
func xgetbv() (a, d uint32)

func init() {
	detectOnce.Do(detect)
	if hasAVX2 {
		sumBytesSIMD = func(b []byte) uint64 { return sumBytesAVX2(&b[0], len(b)) }
	}
}

// detect sets hasAVX2 and hasAVX512VNNI (FERRY_NOAVX512=1 keeps AVX2).
func detect() {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return
	}
	_, _, c1, _ := cpuid(1, 0)
	_, b7, c7, _ := cpuid(7, 0)
	osxsave := c1&(1<<27) != 0
	if !osxsave {
		return
	}
	xcr0, _ := xgetbv()
	ymm := xcr0&6 == 6
	fma, avx, f16c := c1&(1<<12) != 0, c1&(1<<28) != 0, c1&(1<<29) != 0
	avx2 := b7&(1<<5) != 0
	hasAVX2 = ymm && avx && avx2 && fma && f16c
	zmm := xcr0&0xe6 == 0xe6
	f, dq, bw, vl, vnni := b7&(1<<16) != 0, b7&(1<<17) != 0, b7&(1<<30) != 0, b7&(1<<31) != 0, c7&(1<<11) != 0
	vbmi := c7&(1<<1) != 0
	hasAVX512VNNI = hasAVX2 && zmm && f && dq && bw && vl && vbmi && vnni && os.Getenv("FERRY_NOAVX512") == ""
}

var (
	simdActive = false
	detectOnce sync.Once
)

// useSIMD installs the assembly kernels the CPU supports.
func useSIMD() {
	detectOnce.Do(detect)
	if !hasAVX2 {
		return
	}

	simdActive = true
	dotF32SIMD = func(a, b []float32) float32 { return dotF32AVX2(&a[0], &b[0], len(a)) }
	axpyF32SIMD = func(y []float32, alpha float32, x []float32) { axpyF32AVX2(&y[0], alpha, &x[0], len(x)) }
	// One position is a run of one.
	dotF16SIMD = func(a []float32, b []uint16) float32 {
		var s float32
		dotsF16AVX2(&s, &a[0], &b[0], len(a), 1, len(a))
		return s
	}
	axpyF16SIMD = func(y []float32, alpha float32, x []uint16) {
		axpysF16AVX2(&y[0], &alpha, &x[0], len(x), 1, len(x))
	}
	roundF16SIMD = func(dst, src []float32) { roundF16AVX2(&dst[0], &src[0], len(src)) }
	dotsF16SIMD = func(dst, a []float32, b []uint16, stride int) {
		dotsF16AVX2(&dst[0], &a[0], &b[0], len(a), len(dst), stride)
	}
	axpysF16SIMD = func(y, alpha []float32, b []uint16, stride int) {
		axpysF16AVX2(&y[0], &alpha[0], &b[0], len(y), len(alpha), stride)
	}
	quantizeQ8_0 = func(dst []byte, x []float32) {
		if nb := len(x) / 32; nb > 0 {
			_ = dst[nb*q8Block-1]
			quantQ8_0AVX2(&dst[0], &x[0], nb)
		}
	}
	quantizeQ8_0P = quantizeQ8_0PAVX2
	quantizeQ8_K = func(dst []byte, x []float32) {
		if nb := len(x) / 256; nb > 0 {
			_ = dst[nb*q8KBlock-1]
			quantQ8_KAVX2(&dst[0], &x[0], nb)
		}
	}
	setVecPF(dtype.Q8_0, vecQ8_0AVX2)
	quantizeQ8_KR = quantizeQ8_KRAVX2
	kernelTable[dtype.Q4_K].act = actQ8_KP
	setVecPF(dtype.Q4_K, vecQ4_KAVX2)
	setVecPF(dtype.Q6_K, vecQ6_KAVX2)
	setVecF16Floats(vecF16AVX2)
	setVecPF(dtype.F32, vecF32AVX2)
	setVecPF(dtype.Q4_0, vecQ4_0AVX2)
	setVec(dtype.Q5_K, vecQ5_KAVX2)
	swigluSIMD = func(gate, up []float32) { swigluAVX2(&gate[0], &up[0], len(gate)) }
	expShiftSIMD = func(x []float32, shift float32) float32 { return expShiftAVX2(&x[0], len(x), shift) }
	softmaxF16RowsSIMD = func(x []float32, rows, n int, scale float32) { softmaxF16RowsAVX2(&x[0], rows, n, scale) }
	if hasAVX512VNNI {
		// The AVX-512 Q8_0 loop takes its own activation layout, and the
		// Q4_K loop actQ8_KP as the AVX2 one does; they need about half
		// the instructions per block of the AVX2 ones. The Q8_0 loop sums
		// in another order (within float rounding of the portable
		// kernel, as its interleaved loop does); the Q4_K loop keeps the
		// portable order, as the interleaved Q4_K loop does, so that
		// streamed spans (in the file's layout) and resident ones
		// (interleaved) give the same bits.
		quantizeQ8_KR = quantizeQ8_KRAVX512
		kernelTable[dtype.Q8_0].act = actQ8_0P
		reordered[dtype.Q8_0] = true
		setVecPF(dtype.Q8_0, vecQ8_0AVX512)
		setVecPF(dtype.Q4_K, vecQ4_KAVX512)
		setVecPF(dtype.Q6_K, vecQ6_KAVX512)
		setVecF16(vecF16AVX512)
		setVec(dtype.F32, vecF32AVX512)
		swigluSIMD = func(gate, up []float32) { swigluAVX512(&gate[0], &up[0], len(gate)) }
		expShiftSIMD = func(x []float32, shift float32) float32 { return expShiftAVX512(&x[0], len(x), shift) }
		softmaxF16RowsSIMD = func(x []float32, rows, n int, scale float32) { softmaxF16RowsAVX512(&x[0], rows, n, scale) }
		dotsF16SIMD = func(dst, a []float32, b []uint16, stride int) {
			if len(a) == 64 {
				dotsF16x64AVX512(&dst[0], &a[0], &b[0], len(dst), stride)
				return
			}
			dotsF16AVX2(&dst[0], &a[0], &b[0], len(a), len(dst), stride)
		}
		axpysF16SIMD = func(y, alpha []float32, b []uint16, stride int) {
			if n := len(y); n == 64 || n == 128 {
				axpysF16x64AVX512(&y[0], &alpha[0], &b[0], len(alpha), stride, n)
				return
			}
			axpysF16AVX2(&y[0], &alpha[0], &b[0], len(y), len(alpha), stride)
		}
	}
	for _, install := range typeInstallers {
		install(hasAVX512VNNI)
	}
}

// defaultPrefetch is the streaming loops' prefetch setting when
// FERRY_PREFETCH does not choose one (tune.go): none where the AVX-512
// loops run, whose cores' prefetchers keep up (on a Zen 4 every software
// prefetch ahead was slower), and 4 KiB ahead, non-temporal, where the
// AVX2 loops do. On a Zen 1 (AVX2 only, 256-bit operations split in two)
// the loops keep a core busy for longer per byte and its prefetchers leave
// it waiting on memory: ferry bench on TinyLlama-shaped models decoded at
// 58% of the bound without software prefetch and 68% with it (Q4_K_M),
// 65% and 79% (Q8_0), 75% and 99% (F16), with 2 KiB PREFETCHT0 between
// (Q4_K_M 65%) and 8 KiB non-temporal the same as 4.
func defaultPrefetch() int64 {
	detectOnce.Do(detect)
	if hasAVX2 && !hasAVX512VNNI {
		return 4<<10 | 1
	}
	return 0
}

// typeInstallers install the assembly loops kept in files of their own
// (one file pair per family of types); useSIMD runs them last, on CPUs
// with AVX2, telling them whether AVX-512 VNNI is usable. They register
// through addInstaller from package-level variable initializers, which run
// before any init function.
var typeInstallers []func(avx512 bool)

// addInstaller adds an installer to typeInstallers; its result is for
// "var _ = addInstaller(...)".
func addInstaller(f func(avx512 bool)) bool {
	typeInstallers = append(typeInstallers, f)
	return true
}

// rowLoop is the signature of the assembly row loops: y[i] for i < rows,
// row i at w + i*rb, nb blocks (values, for float types) per row, and the
// prepared activations at xq.
type rowLoop func(y *float32, w *byte, rb, rows int, xq *byte, nb int)

// rowLoopPF is a row loop that takes its prefetch setting: pf bytes ahead
// of the weights it reads, with PREFETCHNTA when pf's lowest bit is set
// (pf is otherwise a multiple of 1 KiB) and PREFETCHT0 when not, or no
// software prefetch when pf is 0; predicted branches per step pick one.
// Non-temporal prefetch keeps weights that are read once per token from
// churning through the outer caches (on a Zen 5 the L3 takes in what the
// L2 evicts): in A/B rounds of `ferry bench` (TinyLlama Q4_K_M) it took
// decode from 93-94% to 96-97% of the bound at 45-52 GB/s, but from 93% to
// 90% at 77 GB/s; on a Zen 4 no software prefetch was best. So the tuner
// chooses (tune.go).
type rowLoopPF func(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

// rowLoopF16 is the F16 row loop: a rowLoopPF whose activations are
// halves (actF16H) when xh is not 0, else float32 (actF16).
type rowLoopF16 func(y *float32, w *byte, rb, rows int, xq *byte, nb, pf, xh int)

// prefetchBatch is the prefetch distance of the loops that take one, in a
// batched product: the rows come from cache after the first vector, and
// prefetching far past a group of rows only competes with the work. A
// matrix-vector product, which streams its weights from memory once, asks
// the tuner (streamPrefetch, tune.go).
const prefetchBatch = 2 << 10

// setVecPF installs a row loop that takes its prefetch distance: the
// streaming distance for single products, the batch one for batches.
func setVecPF(t dtype.Type, loop rowLoopPF) {
	k := &kernelTable[t]
	k.vec = rowVec(k, func(y *float32, w *byte, rb, rows int, xq *byte, nb int) {
		loop(y, w, rb, rows, xq, nb, int(streamPrefetch.Load()))
	})
	k.vecBatch = rowVec(k, func(y *float32, w *byte, rb, rows int, xq *byte, nb int) {
		loop(y, w, rb, rows, xq, nb, prefetchBatch)
	})
	k.batchAct = k.act
}

// setVecF16 installs the F16 row loop: for single products over
// activations stored as halves, which leave more of the L1 cache to the
// streaming weights (a 5632-value input as float32 takes 22 KiB of a Zen
// 4's 32: decode's F16 down projection streamed at 0.6 of the others'
// speed), and for batches over float32 ones, which batched products read
// for every row and would otherwise convert each time. The loops keep
// vectors of float sums, so F16 is marked reordered.
func setVecF16(loop rowLoopF16) { setVecHalves(dtype.F16, loop) }

// setVecF16Floats installs the AVX2 F16 row loops over float32
// activations rounded to half precision, not over halves (actF16H): the
// same sums without converting every activation again for every row. On a
// core that splits 256-bit operations (Zen 1) that second conversion, not
// the L1 space the halves save, was the limit: from L2, 6.4 GB/s with
// halves against 12.6 with floats (BenchmarkLoopCache/F16, one core).
//
// Single products take vecF16UAVX2, over actF16U, which converts half of
// its weights with integer operations instead of VCVTPH2PS: from L2
// 15.3-17.4 GB/s against 13.1-15.0 for loop, and TinyLlama F16 decode
// went from 89.0-91.6% of the bound to 97.7-98.7% (three rounds
// alternating the binaries, the memory at 21.6-26.2 GB/s). Batches keep
// loop, over actF16, the form the batch loop (batchF16) reads, for the
// vectors that loop leaves.
func setVecF16Floats(loop rowLoopF16) {
	k := &kernelTable[dtype.F16]
	k.act = actF16U
	reordered[dtype.F16] = true
	setVecPF(dtype.F16, vecF16UAVX2)
	k.batchAct = actF16
	k.vecBatch = rowVecAct(k, actF16, func(y *float32, w *byte, rb, rows int, xq *byte, nb int) {
		loop(y, w, rb, rows, xq, nb, prefetchBatch, 0)
	})
}

// setVecHalves installs loop, an F16 row loop, for t (F16 or its
// interleaved layout) as setVecF16 describes.
func setVecHalves(t dtype.Type, loop rowLoopF16) {
	k := &kernelTable[t]
	k.act = actF16H
	reordered[t] = true
	setVecPF(t, func(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int) {
		loop(y, w, rb, rows, xq, nb, pf, 1)
	})
	k.batchAct = actF16
	k.vecBatch = rowVecAct(k, actF16, func(y *float32, w *byte, rb, rows int, xq *byte, nb int) {
		loop(y, w, rb, rows, xq, nb, prefetchBatch, 0)
	})
}

// setVec installs an assembly row loop as the vecFunc of t, checking the
// bounds the loop relies on. (The vecFunc is itself called through a func
// value, so calling the loop through one too makes nothing escape that
// did not already.)
func setVec(t dtype.Type, loop rowLoop) {
	k := &kernelTable[t]
	k.vec, k.vecBatch = rowVec(k, loop), nil
}

// rowVec wraps an assembly row loop as a vecFunc of k's type, checking the
// bounds the loop relies on.
func rowVec(k *kernel, loop rowLoop) vecFunc { return rowVecAct(k, k.act, loop) }

// rowVecAct is rowVec for a loop over activations of the form act. The
// loop of an interleaved type (kernel.unit) takes whole units: rb is a
// unit's bytes, and it is handed the number of units as its rows.
func rowVecAct(k *kernel, act actKind, loop rowLoop) vecFunc {
	bs, bb, u := k.blockSize, k.blockBytes, k.unitRows()
	return func(y []float32, w []byte, rb int, xq []byte) {
		n := len(y) / u
		if n == 0 || rb == 0 {
			return
		}
		nb := rb / u / bb
		_ = w[n*rb-1]
		_ = xq[actBytes(act, nb*bs)-1]
		loop(&y[0], &w[0], rb, n, &xq[0], nb)
	}
}

// The assembly row loops (kernels_amd64.s).

//go:noescape
func vecQ8_0AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

//go:noescape
func vecQ4_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

//go:noescape
func vecQ6_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

//go:noescape
func vecF16AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf, xh int)

//go:noescape
func vecF16UAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

//go:noescape
func sumBytesAVX2(p *byte, n int) uint64

//go:noescape
func quantQ8_0AVX2(dst *byte, x *float32, nb int)

//go:noescape
func quantQ8_KAVX2(dst *byte, x *float32, nb int)

//go:noescape
func vecQ4_0AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

//go:noescape
func vecQ5_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func axpyF32AVX2(y *float32, alpha float32, x *float32, n int)

//go:noescape
func roundF16AVX2(dst, src *float32, n int)

//go:noescape
func swigluAVX2(gate, up *float32, n int)

//go:noescape
func expShiftAVX2(x *float32, n int, shift float32) float32

//go:noescape
func softmaxF16RowsAVX2(x *float32, rows, n int, scale float32)

//go:noescape
func swigluAVX512(gate, up *float32, n int)

//go:noescape
func dotsF16x64AVX512(dst, a *float32, b *uint16, count, stride int)

//go:noescape
func axpysF16x64AVX512(y, alpha *float32, x *uint16, count, stride, n int)

//go:noescape
func expShiftAVX512(x *float32, n int, shift float32) float32

//go:noescape
func softmaxF16RowsAVX512(x *float32, rows, n int, scale float32)

//go:noescape
func dotsF16AVX2(dst, a *float32, b *uint16, n, count, stride int)

//go:noescape
func axpysF16AVX2(y, alpha *float32, x *uint16, n, count, stride int)

//go:noescape
func vecQ8_0AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

//go:noescape
func vecQ4_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

//go:noescape
func vecQ6_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

//go:noescape
func vecF16AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf, xh int)

//go:noescape
func vecF32AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)

//go:noescape
func vecF32AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)

//go:noescape
func quantQ8_KRAVX512(qs, sums, d *byte, nd int, x *float32)

// quantizeQ8_KRAVX512 is quantizeQ8_KR in assembly.
func quantizeQ8_KRAVX512(qs, sums, d []byte, nd int, x []float32) {
	_, _, _, _ = qs[255], sums[15], d[4*nd-1], x[255]
	quantQ8_KRAVX512(&qs[0], &sums[0], &d[0], nd, &x[0])
}

// quantizeQ8_KRAVX2 is quantizeQ8_KR over the AVX2 Q8_K quantizer (a
// direct call, so that the block it quantizes into stays on the stack),
// the block moved into place in assembly (moveQ8_KRAVX2: 0.6 of the 1.5
// µs a 2048-value input had taken, in Go).
func quantizeQ8_KRAVX2(qs, sums, d []byte, nd int, x []float32) {
	var b [q8KBlock]byte
	_, _, _, _ = x[255], qs[255], sums[15], d[4*nd-1]
	quantQ8_KAVX2(&b[0], &x[0], 1)
	moveQ8_KRAVX2(&b[0], &qs[0], &sums[0])
	for l := 0; l < nd; l++ {
		copy(d[4*l:4*l+4], b[0:4])
	}
}

//go:noescape
func quantQ8_0PAVX2(dst *byte, x *float32, nb int)

// quantizeQ8_0PAVX2 is quantizeQ8_0P in assembly.
func quantizeQ8_0PAVX2(dst []byte, x []float32) {
	if nb := len(x) / 32; nb > 0 {
		_ = dst[(nb+1)/2*q8PairBytes-1]
		quantQ8_0PAVX2(&dst[0], &x[0], nb)
	}
}
