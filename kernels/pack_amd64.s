#include "textflag.h"
#include "hsum_amd64.h"
#include "prefetch_amd64.h"

// The row loop of packed Q8_0 (pack.go).

// q8x0..q8x3: VPERMPS indices that spread the scales of blocks 2p and
// 2p+1 of a group over the two halves of a register.
DATA q8x0<>+0(SB)/8, $0x0000000000000000
DATA q8x0<>+8(SB)/8, $0x0000000000000000
DATA q8x0<>+16(SB)/8, $0x0000000000000000
DATA q8x0<>+24(SB)/8, $0x0000000000000000
DATA q8x0<>+32(SB)/8, $0x0000000100000001
DATA q8x0<>+40(SB)/8, $0x0000000100000001
DATA q8x0<>+48(SB)/8, $0x0000000100000001
DATA q8x0<>+56(SB)/8, $0x0000000100000001
GLOBL q8x0<>(SB), RODATA|NOPTR, $64
DATA q8x1<>+0(SB)/8, $0x0000000200000002
DATA q8x1<>+8(SB)/8, $0x0000000200000002
DATA q8x1<>+16(SB)/8, $0x0000000200000002
DATA q8x1<>+24(SB)/8, $0x0000000200000002
DATA q8x1<>+32(SB)/8, $0x0000000300000003
DATA q8x1<>+40(SB)/8, $0x0000000300000003
DATA q8x1<>+48(SB)/8, $0x0000000300000003
DATA q8x1<>+56(SB)/8, $0x0000000300000003
GLOBL q8x1<>(SB), RODATA|NOPTR, $64
DATA q8x2<>+0(SB)/8, $0x0000000400000004
DATA q8x2<>+8(SB)/8, $0x0000000400000004
DATA q8x2<>+16(SB)/8, $0x0000000400000004
DATA q8x2<>+24(SB)/8, $0x0000000400000004
DATA q8x2<>+32(SB)/8, $0x0000000500000005
DATA q8x2<>+40(SB)/8, $0x0000000500000005
DATA q8x2<>+48(SB)/8, $0x0000000500000005
DATA q8x2<>+56(SB)/8, $0x0000000500000005
GLOBL q8x2<>(SB), RODATA|NOPTR, $64
DATA q8x3<>+0(SB)/8, $0x0000000600000006
DATA q8x3<>+8(SB)/8, $0x0000000600000006
DATA q8x3<>+16(SB)/8, $0x0000000600000006
DATA q8x3<>+24(SB)/8, $0x0000000600000006
DATA q8x3<>+32(SB)/8, $0x0000000700000007
DATA q8x3<>+40(SB)/8, $0x0000000700000007
DATA q8x3<>+48(SB)/8, $0x0000000700000007
DATA q8x3<>+56(SB)/8, $0x0000000700000007
GLOBL q8x3<>(SB), RODATA|NOPTR, $64

// Q8XPAIR takes the pair of blocks whose quants are at qoff(R10) against
// the actQ8_0P pair at aoff(R11), scaled by the weight scales picked from
// Z1 by idx, into acc.
#define Q8XPAIR(qoff, aoff, idx, acc) \
	VMOVDQU qoff(R10), Y2; \
	VINSERTI64X4 $1, qoff+32(R10), Z2, Z2; \
	VMOVDQU32 aoff+64(R11), Z5; \
	VPDPBUSD aoff(R11), Z2, Z5; \
	VCVTDQ2PS Z5, Z5; \
	VPERMPS Z1, idx, Z6; \
	VMULPS aoff+128(R11), Z6, Z6; \
	VFMADD231PS Z6, Z5, acc

// func vecQ8_0XAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Packed Q8_0 rows (pack.go: groups of eight blocks, their eight scales
// first, then their quants plus 128, as unsigned bytes) against actQ8_0P
// activations; nb, the blocks per row, is a multiple of 8. Per group the
// eight scales become floats at once; per pair of blocks one VPDPBUSD
// (unsigned weights times signed activations, started from the pair's
// -128*sum corrections), a permute that spreads the pair's two scales, and
// a multiply-add into one of two float accumulators.
// pf is the distance, in bytes, at which the loop prefetches weights
// (its lowest bit for non-temporal: see rowLoopPF).
TEXT ·vecQ8_0XAVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), DX
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VMOVDQU64 q8x0<>(SB), Z24
	VMOVDQU64 q8x1<>(SB), Z25
	VMOVDQU64 q8x2<>(SB), Z26
	VMOVDQU64 q8x3<>(SB), Z27
q8xrow:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	SHRQ $3, R12
	VPXORD Z30, Z30, Z30
	VPXORD Z29, Z29, Z29
q8xgroup:
	PFLINES5(DX)
	VCVTPH2PS (R10), Y1
	Q8XPAIR(16, 0, Z24, Z30)
	Q8XPAIR(80, 192, Z25, Z29)
	Q8XPAIR(144, 384, Z26, Z30)
	Q8XPAIR(208, 576, Z27, Z29)
	ADDQ $272, R10
	ADDQ $768, R11
	DECQ R12
	JNZ q8xgroup
	VADDPS Z29, Z30, Z30
	VEXTRACTF64X4 $1, Z30, Y1
	VADDPS Y30, Y1, Y1
	HSUM8(Y1, X1, X2)
	VMOVSS X1, (DI)
	ADDQ $4, DI
	ADDQ rb+16(FP), SI
	DECQ R9
	JNZ q8xrow
	VZEROUPPER
	RET
