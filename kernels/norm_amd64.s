#include "textflag.h"
#include "hsum_amd64.h"
#include "masks_amd64.h"

// Vector helpers for the per-token serial work (norms, the KV cache).

// DTG_ARGS loads the arguments of the grouped score loops, (dst *float32,
// n int, q *float32, kt *uint16, hd, stride int): dst in DI, n in R12, q
// in R9, kt in R10, hd in R13; the key blocks' stride (R14), a row of
// dst (R15) and one head's query (SI) in bytes.
#define DTG_ARGS \
	MOVQ dst+0(FP), DI; \
	MOVQ n+8(FP), R12; \
	MOVQ q+16(FP), R9; \
	MOVQ kt+24(FP), R10; \
	MOVQ hd+32(FP), R13; \
	MOVQ stride+40(FP), R14; \
	SHLQ $1, R14; \
	MOVQ R12, R15; \
	SHLQ $2, R15; \
	MOVQ R13, SI; \
	SHLQ $2, SI

// STORE8AT and LOAD8AT store and load Y0-Y7 as eight rows R15 bytes apart
// from BX on;
// STORE4X2AT and LOAD4X2AT store and load Y0-Y7 as four rows of two
// registers (64 bytes each). They take BX.
#define STORE8AT \
	VMOVUPS Y0, (BX); \
	ADDQ R15, BX; \
	VMOVUPS Y1, (BX); \
	ADDQ R15, BX; \
	VMOVUPS Y2, (BX); \
	ADDQ R15, BX; \
	VMOVUPS Y3, (BX); \
	ADDQ R15, BX; \
	VMOVUPS Y4, (BX); \
	ADDQ R15, BX; \
	VMOVUPS Y5, (BX); \
	ADDQ R15, BX; \
	VMOVUPS Y6, (BX); \
	ADDQ R15, BX; \
	VMOVUPS Y7, (BX)

#define LOAD8AT \
	VMOVUPS (BX), Y0; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y1; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y2; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y3; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y4; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y5; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y6; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y7

#define STORE4X2AT \
	VMOVUPS Y0, (BX); \
	VMOVUPS Y1, 32(BX); \
	ADDQ R15, BX; \
	VMOVUPS Y2, (BX); \
	VMOVUPS Y3, 32(BX); \
	ADDQ R15, BX; \
	VMOVUPS Y4, (BX); \
	VMOVUPS Y5, 32(BX); \
	ADDQ R15, BX; \
	VMOVUPS Y6, (BX); \
	VMOVUPS Y7, 32(BX)

#define LOAD4X2AT \
	VMOVUPS (BX), Y0; \
	VMOVUPS 32(BX), Y1; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y2; \
	VMOVUPS 32(BX), Y3; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y4; \
	VMOVUPS 32(BX), Y5; \
	ADDQ R15, BX; \
	VMOVUPS (BX), Y6; \
	VMOVUPS 32(BX), Y7

// func f32ToF16AVX2(dst *uint16, src *float32, n int)
// dst[i] = the half nearest src[i] (ties to even), n a positive multiple
// of 16.
TEXT ·f32ToF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
f2hloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VCVTPS2PH $0, Y0, (DI)
	VCVTPS2PH $0, Y1, 16(DI)
	ADDQ $64, SI
	ADDQ $32, DI
	SUBQ $16, CX
	JNZ f2hloop
	VZEROUPPER
	RET

// func scaleMulAVX2(dst, x, w *float32, s float32, n int)
// dst[i] = (x[i]*s)*w[i], n a positive multiple of 16.
TEXT ·scaleMulAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	VBROADCASTSS s+24(FP), Y2
	MOVQ n+32(FP), CX
smloop:
	VMULPS (SI), Y2, Y0
	VMULPS 32(SI), Y2, Y1
	VMULPS (DX), Y0, Y0
	VMULPS 32(DX), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ smloop
	VZEROUPPER
	RET

// func scaleMaxAVX2(x *float32, n int, s float32) float32
// x[i] *= s for i < n, a positive multiple of 16; returns the largest
// x[i] (VMAXPS: a NaN is passed over).
TEXT ·scaleMaxAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y2
	VBROADCASTSS negInf<>(SB), Y3
	VMOVAPS Y3, Y4
smxloop:
	VMULPS (SI), Y2, Y0
	VMULPS 32(SI), Y2, Y1
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	VMAXPS Y3, Y0, Y3
	VMAXPS Y4, Y1, Y4
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ smxloop
	VMAXPS Y4, Y3, Y3
	HMAX8(Y3, X3, X4)
	VMOVSS X3, ret+24(FP)
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, s float32)
// x[i] *= s for i < n, a positive multiple of 16.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y2
scloop:
	VMULPS (SI), Y2, Y0
	VMULPS 32(SI), Y2, Y1
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ scloop
	VZEROUPPER
	RET

// func dotsF16TAVX512(dst *float32, q *float32, kt *uint16, n, hd, stride int)
// dst[j] = q . key j for j < n, the keys stored in blocks of 16 positions
// (kv.Cache): block b at kt + b*stride halves holds, for each of the hd
// channels in turn, that channel at the block's 16 positions. Per block:
// each channel's 16 halves become floats and meet the channel's query
// value broadcast, into eight accumulators (channels mod 8) summed at the
// end, so sixteen scores need no horizontal sum. hd is a positive
// multiple of 8, n positive; a last partial block is stored under a mask.
TEXT ·dotsF16TAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), R9
	MOVQ kt+16(FP), R10
	MOVQ n+24(FP), R12
	MOVQ hd+32(FP), R13
	MOVQ stride+40(FP), R14
	SHLQ $1, R14
dtblock:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ R10, R11
	MOVQ R9, R8
	MOVQ R13, CX
dtchan:
	VCVTPH2PS (R11), Z8
	VCVTPH2PS 32(R11), Z9
	VCVTPH2PS 64(R11), Z10
	VCVTPH2PS 96(R11), Z11
	VFMADD231PS.BCST (R8), Z8, Z0
	VFMADD231PS.BCST 4(R8), Z9, Z1
	VFMADD231PS.BCST 8(R8), Z10, Z2
	VFMADD231PS.BCST 12(R8), Z11, Z3
	VCVTPH2PS 128(R11), Z12
	VCVTPH2PS 160(R11), Z13
	VCVTPH2PS 192(R11), Z14
	VCVTPH2PS 224(R11), Z15
	VFMADD231PS.BCST 16(R8), Z12, Z4
	VFMADD231PS.BCST 20(R8), Z13, Z5
	VFMADD231PS.BCST 24(R8), Z14, Z6
	VFMADD231PS.BCST 28(R8), Z15, Z7
	ADDQ $256, R11
	ADDQ $32, R8
	SUBQ $8, CX
	JNZ dtchan
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z5, Z4, Z4
	VADDPS Z7, Z6, Z6
	VADDPS Z2, Z0, Z0
	VADDPS Z6, Z4, Z4
	VADDPS Z4, Z0, Z0
	CMPQ R12, $16
	JB dtpartial
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ R14, R10
	SUBQ $16, R12
	JNZ dtblock
	VZEROUPPER
	RET
dtpartial:
	MOVQ R12, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS Z0, K1, (DI)
	VZEROUPPER
	RET

// ZEROZ0Z15 clears the sixteen accumulators of the grouped loops.
#define ZEROZ0Z15 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15

// DTG8CH does channel pair (c, c+1) of a block for eight heads: the keys
// at (R11) and 32(R11), the queries of head r at channel c at (R8) + r*SI
// (SI the bytes of one head's query; DX = R8 + 3 SI, BX = R8 + 6 SI) and
// at channel c+1 four bytes further, into Z0-Z7 (channel c) and Z8-Z15
// (channel c+1).
#define DTG8CH \
	VCVTPH2PS (R11), Z16; \
	VCVTPH2PS 32(R11), Z17; \
	VFMADD231PS.BCST (R8), Z16, Z0; \
	VFMADD231PS.BCST (R8)(SI*1), Z16, Z1; \
	VFMADD231PS.BCST (R8)(SI*2), Z16, Z2; \
	VFMADD231PS.BCST (DX), Z16, Z3; \
	VFMADD231PS.BCST (R8)(SI*4), Z16, Z4; \
	VFMADD231PS.BCST (DX)(SI*2), Z16, Z5; \
	VFMADD231PS.BCST (BX), Z16, Z6; \
	VFMADD231PS.BCST (BX)(SI*1), Z16, Z7; \
	VFMADD231PS.BCST 4(R8), Z17, Z8; \
	VFMADD231PS.BCST 4(R8)(SI*1), Z17, Z9; \
	VFMADD231PS.BCST 4(R8)(SI*2), Z17, Z10; \
	VFMADD231PS.BCST 4(DX), Z17, Z11; \
	VFMADD231PS.BCST 4(R8)(SI*4), Z17, Z12; \
	VFMADD231PS.BCST 4(DX)(SI*2), Z17, Z13; \
	VFMADD231PS.BCST 4(BX), Z17, Z14; \
	VFMADD231PS.BCST 4(BX)(SI*1), Z17, Z15

// func dotsF16TG8AVX512(dst *float32, n int, q *float32, kt *uint16, hd, stride int)
// DotsF16T for the eight query heads that share a KV head: dst holds eight
// rows of n scores, q the eight queries one after another (q[r*hd+c] is
// channel c of head r), so each key block is converted once for all
// eight. Each step prefetches its line four blocks ahead: a head's keys
// are 2 KiB runs 8 KiB apart, which the hardware prefetcher does not
// follow, and at a few thousand positions the loop otherwise waits on
// memory. hd is a positive even number, n positive.
TEXT ·dotsF16TG8AVX512(SB), NOSPLIT, $0-48
	DTG_ARGS
	MOVQ $0xffff, AX
	KMOVW AX, K1
g8block:
	CMPQ R12, $16
	JAE g8full
	MOVQ R12, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
g8full:
	ZEROZ0Z15
	MOVQ R10, R11
	MOVQ R9, R8
	LEAQ (R9)(SI*2), DX
	ADDQ SI, DX
	LEAQ (DX)(SI*2), BX
	ADDQ SI, BX
	MOVQ R13, CX
g8chan:
	PREFETCHT0 (R11)(R14*4)
	DTG8CH
	ADDQ $64, R11
	ADDQ $8, R8
	ADDQ $8, DX
	ADDQ $8, BX
	SUBQ $2, CX
	JNZ g8chan
	VADDPS Z8, Z0, Z0
	VADDPS Z9, Z1, Z1
	VADDPS Z10, Z2, Z2
	VADDPS Z11, Z3, Z3
	VADDPS Z12, Z4, Z4
	VADDPS Z13, Z5, Z5
	VADDPS Z14, Z6, Z6
	VADDPS Z15, Z7, Z7
	MOVQ DI, BX
	VMOVUPS Z0, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z1, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z2, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z3, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z4, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z5, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z6, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z7, K1, (BX)
	ADDQ $64, DI
	ADDQ R14, R10
	SUBQ $16, R12
	JA g8block
	VZEROUPPER
	RET

// func dotsF16TAVX2(dst *float32, q *float32, kt *uint16, n, hd, stride int)
// dotsF16TAVX512 with YMM registers: a block's 16 positions are two halves
// of 8, four accumulators each (channels mod 4). A last partial block is
// computed whole into the frame and its first n scores copied out. hd is
// a positive multiple of 4, n positive.
TEXT ·dotsF16TAVX2(SB), NOSPLIT, $64-48
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), R9
	MOVQ kt+16(FP), R10
	MOVQ n+24(FP), R12
	MOVQ hd+32(FP), R13
	MOVQ stride+40(FP), R14
	SHLQ $1, R14
d2block:
	ZERO8Y
	MOVQ R10, R11
	MOVQ R9, R8
	MOVQ R13, CX
d2chan:
	VBROADCASTSS (R8), Y8
	VCVTPH2PS (R11), Y9
	VCVTPH2PS 16(R11), Y10
	VFMADD231PS Y8, Y9, Y0
	VFMADD231PS Y8, Y10, Y1
	VBROADCASTSS 4(R8), Y8
	VCVTPH2PS 32(R11), Y9
	VCVTPH2PS 48(R11), Y10
	VFMADD231PS Y8, Y9, Y2
	VFMADD231PS Y8, Y10, Y3
	VBROADCASTSS 8(R8), Y8
	VCVTPH2PS 64(R11), Y9
	VCVTPH2PS 80(R11), Y10
	VFMADD231PS Y8, Y9, Y4
	VFMADD231PS Y8, Y10, Y5
	VBROADCASTSS 12(R8), Y8
	VCVTPH2PS 96(R11), Y9
	VCVTPH2PS 112(R11), Y10
	VFMADD231PS Y8, Y9, Y6
	VFMADD231PS Y8, Y10, Y7
	ADDQ $128, R11
	ADDQ $16, R8
	SUBQ $4, CX
	JNZ d2chan
	VADDPS Y2, Y0, Y0
	VADDPS Y6, Y4, Y4
	VADDPS Y4, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS Y7, Y5, Y5
	VADDPS Y5, Y1, Y1
	CMPQ R12, $16
	JB d2partial
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, DI
	ADDQ R14, R10
	SUBQ $16, R12
	JNZ d2block
	VZEROUPPER
	RET
d2partial:
	VMOVUPS Y0, 0(SP)
	VMOVUPS Y1, 32(SP)
	XORQ AX, AX
d2copy:
	MOVL (SP)(AX*4), BX
	MOVL BX, (DI)(AX*4)
	INCQ AX
	CMPQ AX, R12
	JB d2copy
	VZEROUPPER
	RET

// AXG4POS adds, for one position, the value at (R10) (64 halves, four
// registers once converted) times each of four heads' probabilities at
// (R8), (R11), (BX), (DX) into Z0-Z3, Z4-Z7, Z8-Z11, Z12-Z15.
#define AXG4POS \
	VCVTPH2PS (R10), Z16; \
	VCVTPH2PS 32(R10), Z17; \
	VCVTPH2PS 64(R10), Z18; \
	VCVTPH2PS 96(R10), Z19; \
	VFMADD231PS.BCST (R8), Z16, Z0; \
	VFMADD231PS.BCST (R8), Z17, Z1; \
	VFMADD231PS.BCST (R8), Z18, Z2; \
	VFMADD231PS.BCST (R8), Z19, Z3; \
	VFMADD231PS.BCST (R11), Z16, Z4; \
	VFMADD231PS.BCST (R11), Z17, Z5; \
	VFMADD231PS.BCST (R11), Z18, Z6; \
	VFMADD231PS.BCST (R11), Z19, Z7; \
	VFMADD231PS.BCST (BX), Z16, Z8; \
	VFMADD231PS.BCST (BX), Z17, Z9; \
	VFMADD231PS.BCST (BX), Z18, Z10; \
	VFMADD231PS.BCST (BX), Z19, Z11; \
	VFMADD231PS.BCST (DX), Z16, Z12; \
	VFMADD231PS.BCST (DX), Z17, Z13; \
	VFMADD231PS.BCST (DX), Z18, Z14; \
	VFMADD231PS.BCST (DX), Z19, Z15

// func axpysF16G4x64AVX512(out *float32, p *float32, n int, v *uint16, stride int)
// For four heads of width 64 sharing a KV head: out[r*64+c] += the sum
// over positions j < n of p[r*n+j] * v[j*stride+c], position after
// position (the order of AxpysF16, so the sums are the same bit for bit),
// each value converted once for the four, and prefetched 128 positions
// ahead (a head's values are 128-byte pieces a position's stride apart).
// n is positive.
TEXT ·axpysF16G4x64AVX512(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ p+8(FP), R8
	MOVQ n+16(FP), R12
	MOVQ v+24(FP), R10
	MOVQ stride+32(FP), R13
	SHLQ $1, R13
	MOVQ R13, R14
	SHLQ $7, R14 // prefetch 128 positions ahead
	MOVQ R12, AX
	SHLQ $2, AX
	LEAQ (R8)(AX*1), R11
	LEAQ (R11)(AX*1), BX
	LEAQ (BX)(AX*1), DX
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VMOVUPS 256(DI), Z4
	VMOVUPS 320(DI), Z5
	VMOVUPS 384(DI), Z6
	VMOVUPS 448(DI), Z7
	VMOVUPS 512(DI), Z8
	VMOVUPS 576(DI), Z9
	VMOVUPS 640(DI), Z10
	VMOVUPS 704(DI), Z11
	VMOVUPS 768(DI), Z12
	VMOVUPS 832(DI), Z13
	VMOVUPS 896(DI), Z14
	VMOVUPS 960(DI), Z15
axg4loop:
	PREFETCHT0 (R10)(R14*1)
	PREFETCHT0 64(R10)(R14*1)
	AXG4POS
	ADDQ $4, R8
	ADDQ $4, R11
	ADDQ $4, BX
	ADDQ $4, DX
	ADDQ R13, R10
	DECQ R12
	JNZ axg4loop
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	VZEROUPPER
	RET

// DTG4CH does channels c..c+3 of a block for four heads: the keys at
// (R11) + 32k, the query of head r at channel c+k at 4k(R8) + r*SI (DX =
// R8 + 3 SI), into Z(4k)-Z(4k+3).
#define DTG4CH \
	VCVTPH2PS 0(R11), Z16; \
	VCVTPH2PS 32(R11), Z17; \
	VCVTPH2PS 64(R11), Z18; \
	VCVTPH2PS 96(R11), Z19; \
	VFMADD231PS.BCST 0(R8), Z16, Z0; \
	VFMADD231PS.BCST 0(R8)(SI*1), Z16, Z1; \
	VFMADD231PS.BCST 0(R8)(SI*2), Z16, Z2; \
	VFMADD231PS.BCST 0(DX), Z16, Z3; \
	VFMADD231PS.BCST 4(R8), Z17, Z4; \
	VFMADD231PS.BCST 4(R8)(SI*1), Z17, Z5; \
	VFMADD231PS.BCST 4(R8)(SI*2), Z17, Z6; \
	VFMADD231PS.BCST 4(DX), Z17, Z7; \
	VFMADD231PS.BCST 8(R8), Z18, Z8; \
	VFMADD231PS.BCST 8(R8)(SI*1), Z18, Z9; \
	VFMADD231PS.BCST 8(R8)(SI*2), Z18, Z10; \
	VFMADD231PS.BCST 8(DX), Z18, Z11; \
	VFMADD231PS.BCST 12(R8), Z19, Z12; \
	VFMADD231PS.BCST 12(R8)(SI*1), Z19, Z13; \
	VFMADD231PS.BCST 12(R8)(SI*2), Z19, Z14; \
	VFMADD231PS.BCST 12(DX), Z19, Z15

// func dotsF16TG4AVX512(dst *float32, n int, q *float32, kt *uint16, hd, stride int)
// dotsF16TG8AVX512 for four heads (q[r*hd+c] is channel c of head r),
// four channels per step into sixteen accumulators. hd is a positive
// multiple of 4, n positive.
TEXT ·dotsF16TG4AVX512(SB), NOSPLIT, $0-48
	DTG_ARGS
	MOVQ $0xffff, AX
	KMOVW AX, K1
g4block:
	CMPQ R12, $16
	JAE g4full
	MOVQ R12, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
g4full:
	ZEROZ0Z15
	MOVQ R10, R11
	MOVQ R9, R8
	LEAQ (R9)(SI*2), DX
	ADDQ SI, DX
	MOVQ R13, CX
g4chan:
	PREFETCHT0 (R11)(R14*4)
	PREFETCHT0 64(R11)(R14*4)
	DTG4CH
	ADDQ $128, R11
	ADDQ $16, R8
	ADDQ $16, DX
	SUBQ $4, CX
	JNZ g4chan
	VADDPS Z4, Z0, Z0
	VADDPS Z12, Z8, Z8
	VADDPS Z8, Z0, Z0
	VADDPS Z5, Z1, Z1
	VADDPS Z13, Z9, Z9
	VADDPS Z9, Z1, Z1
	VADDPS Z6, Z2, Z2
	VADDPS Z14, Z10, Z10
	VADDPS Z10, Z2, Z2
	VADDPS Z7, Z3, Z3
	VADDPS Z15, Z11, Z11
	VADDPS Z11, Z3, Z3
	MOVQ DI, BX
	VMOVUPS Z0, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z1, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z2, K1, (BX)
	ADDQ R15, BX
	VMOVUPS Z3, K1, (BX)
	ADDQ $64, DI
	ADDQ R14, R10
	SUBQ $16, R12
	JA g4block
	VZEROUPPER
	RET

// G2MASK sets Y15 to the mask of the first k lanes, k in CX (0 to 8),
// for the grouped AVX2 loops' last, partial stores; it takes AX.
#define G2MASK \
	NEGQ CX; \
	LEAQ lanes8<>+32(SB), AX; \
	VMOVDQU (AX)(CX*4), Y15

// H8FMA adds the eight values at src, converted once, times each of
// eight heads' scalars at off(R8) + r*SI (b3 = R8 + 3 SI, BX = R8 + 6 SI)
// into Y0-Y7; Y8-Y14 are scratch. DTG8Y does channel c of eight positions
// for eight heads (the keys at koff(R11), the query of head r at channel
// c at qoff(R8) + r*SI, DX = R8 + 3 SI); AXG8Y one position's eight
// values (at vaddr) times eight heads' probabilities (at poff(R8) + r*SI,
// R13 = R8 + 3 SI).
#define H8FMA(src, off, b3) \
	VCVTPH2PS src, Y8; \
	VBROADCASTSS off(R8), Y9; \
	VFMADD231PS Y8, Y9, Y0; \
	VBROADCASTSS off(R8)(SI*1), Y10; \
	VFMADD231PS Y8, Y10, Y1; \
	VBROADCASTSS off(R8)(SI*2), Y11; \
	VFMADD231PS Y8, Y11, Y2; \
	VBROADCASTSS off(b3), Y12; \
	VFMADD231PS Y8, Y12, Y3; \
	VBROADCASTSS off(R8)(SI*4), Y13; \
	VFMADD231PS Y8, Y13, Y4; \
	VBROADCASTSS off(b3)(SI*2), Y14; \
	VFMADD231PS Y8, Y14, Y5; \
	VBROADCASTSS off(BX), Y9; \
	VFMADD231PS Y8, Y9, Y6; \
	VBROADCASTSS off(BX)(SI*1), Y10; \
	VFMADD231PS Y8, Y10, Y7

#define DTG8Y(koff, qoff) H8FMA(koff(R11), qoff, DX)

// func dotsF16TG8AVX2(dst *float32, n int, q *float32, kt *uint16, hd, stride int)
// dotsF16TG8AVX512 with YMM registers (dst holds eight rows of n scores,
// q[r*hd+c] is channel c of head r): each half of a block (eight
// positions) is one register per head, Y0-Y7, and each channel's eight
// keys are converted once for the eight heads, whose query values are
// broadcast (from memory; on a Zen 1 the conversion, not the broadcast,
// is the costly operation: one 256-bit VCVTPH2PS takes about three
// cycles, and DotsF16T converts each key once per head). Score j of head
// r is the sum over the channels in order, as the portable loop's, but
// with one rounding per fused multiply-add. The second half of a block
// reads its keys again, from L1. The last half with positions left is
// stored under a mask (VMASKMOVPS). hd is a positive even number, n
// positive.
TEXT ·dotsF16TG8AVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), R12
	MOVQ q+16(FP), R9
	MOVQ kt+24(FP), R10
	MOVQ stride+40(FP), R14
	SHLQ $1, R14
	MOVQ R12, R15
	SHLQ $2, R15 // row stride in bytes
	MOVQ hd+32(FP), SI
	SHLQ $2, SI // one head's query in bytes
	XORQ R13, R13 // the half's offset in the block: 0 or 16 bytes
y8half:
	ZERO8Y
	LEAQ (R10)(R13*1), R11
	MOVQ R9, R8
	LEAQ (R9)(SI*2), DX
	ADDQ SI, DX
	LEAQ (DX)(SI*2), BX
	ADDQ SI, BX
	MOVQ hd+32(FP), CX
y8chan:
	DTG8Y(0, 0)
	DTG8Y(32, 4)
	ADDQ $64, R11
	ADDQ $8, R8
	ADDQ $8, DX
	ADDQ $8, BX
	SUBQ $2, CX
	JNZ y8chan
	CMPQ R12, $8
	JB y8partial
	MOVQ DI, BX
	STORE8AT
	ADDQ $32, DI
	XORQ $16, R13
	JNZ y8next // to the block's second half
	ADDQ R14, R10
y8next:
	SUBQ $8, R12
	JNZ y8half
	VZEROUPPER
	RET
y8partial:
	MOVQ R12, CX
	G2MASK
	MOVQ DI, BX
	VMASKMOVPS Y0, Y15, (BX)
	ADDQ R15, BX
	VMASKMOVPS Y1, Y15, (BX)
	ADDQ R15, BX
	VMASKMOVPS Y2, Y15, (BX)
	ADDQ R15, BX
	VMASKMOVPS Y3, Y15, (BX)
	ADDQ R15, BX
	VMASKMOVPS Y4, Y15, (BX)
	ADDQ R15, BX
	VMASKMOVPS Y5, Y15, (BX)
	ADDQ R15, BX
	VMASKMOVPS Y6, Y15, (BX)
	ADDQ R15, BX
	VMASKMOVPS Y7, Y15, (BX)
	VZEROUPPER
	RET

// DTG4Y does channel c of a block (16 positions) for four heads: the keys
// at koff(R11) and koff+16(R11) (positions 0-7 and 8-15; koff2 =
// koff+16), the query of head r at channel c at qoff(R8) + r*SI (DX = R8 +
// 3 SI), into Y(2r) (positions 0-7) and Y(2r+1) (8-15).
#define DTG4Y(koff, koff2, qoff) \
	VCVTPH2PS koff(R11), Y8; \
	VCVTPH2PS koff2(R11), Y9; \
	VBROADCASTSS qoff(R8), Y10; \
	VFMADD231PS Y8, Y10, Y0; \
	VFMADD231PS Y9, Y10, Y1; \
	VBROADCASTSS qoff(R8)(SI*1), Y11; \
	VFMADD231PS Y8, Y11, Y2; \
	VFMADD231PS Y9, Y11, Y3; \
	VBROADCASTSS qoff(R8)(SI*2), Y12; \
	VFMADD231PS Y8, Y12, Y4; \
	VFMADD231PS Y9, Y12, Y5; \
	VBROADCASTSS qoff(DX), Y13; \
	VFMADD231PS Y8, Y13, Y6; \
	VFMADD231PS Y9, Y13, Y7

// func dotsF16TG4AVX2(dst *float32, n int, q *float32, kt *uint16, hd, stride int)
// dotsF16TG8AVX2 for four heads: a whole block (16 positions) at a time,
// two registers per head, each channel's 16 keys converted once for the
// four; the sums are in the same order. A last partial block is stored
// under masks. hd is a positive even number, n positive.
TEXT ·dotsF16TG4AVX2(SB), NOSPLIT, $0-48
	DTG_ARGS
y4block:
	ZERO8Y
	MOVQ R10, R11
	MOVQ R9, R8
	LEAQ (R9)(SI*2), DX
	ADDQ SI, DX
	MOVQ R13, CX
y4chan:
	DTG4Y(0, 16, 0)
	DTG4Y(32, 48, 4)
	ADDQ $64, R11
	ADDQ $8, R8
	ADDQ $8, DX
	SUBQ $2, CX
	JNZ y4chan
	CMPQ R12, $16
	JB y4partial
	MOVQ DI, BX
	STORE4X2AT
	ADDQ $64, DI
	ADDQ R14, R10
	SUBQ $16, R12
	JNZ y4block
	VZEROUPPER
	RET
y4partial:
	// Y14: the first min(n, 8) lanes; Y15: the first max(n-8, 0).
	MOVQ $8, CX
	CMPQ R12, CX
	CMOVQLT R12, CX
	G2MASK
	VMOVDQU Y15, Y14
	XORQ CX, CX
	MOVQ R12, DX
	SUBQ $8, DX
	CMOVQGT DX, CX
	G2MASK
	MOVQ DI, BX
	VMASKMOVPS Y0, Y14, (BX)
	VMASKMOVPS Y1, Y15, 32(BX)
	ADDQ R15, BX
	VMASKMOVPS Y2, Y14, (BX)
	VMASKMOVPS Y3, Y15, 32(BX)
	ADDQ R15, BX
	VMASKMOVPS Y4, Y14, (BX)
	VMASKMOVPS Y5, Y15, 32(BX)
	ADDQ R15, BX
	VMASKMOVPS Y6, Y14, (BX)
	VMASKMOVPS Y7, Y15, 32(BX)
	VZEROUPPER
	RET

#define AXG8Y(poff, vaddr) H8FMA(vaddr, poff, R13)

// LOAD8ROWS and STORE8ROWS move Y0-Y7 from and to eight rows of out, R15
// bytes apart, from (DI)(R11*4) on; they take BX.
#define LOAD8ROWS \
	LEAQ (DI)(R11*4), BX; \
	LOAD8AT

#define STORE8ROWS \
	LEAQ (DI)(R11*4), BX; \
	STORE8AT

// func axpysF16G8AVX2(out *float32, p *float32, n int, v *uint16, hd, stride int)
// For eight heads of width hd sharing a KV head: out[r*hd+c] += the sum
// over positions j < n of p[r*n+j] * v[j*stride+c], position after
// position with one fused multiply-add each (the order of axpysF16AVX2,
// so the sums are AxpysF16's bit for bit). The positions go in chunks of
// up to 64 (8 KiB of values at hd 64, kept in L1); for each chunk, each
// slice of eight channels is one register per head, Y0-Y7, loaded from
// out, summed over the chunk's positions, each value converted once for
// the eight heads, and stored back; two positions a step, then the odd
// one. hd is a positive multiple of 8, n positive.
TEXT ·axpysF16G8AVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ p+8(FP), R9
	MOVQ n+16(FP), R12
	MOVQ v+24(FP), R10
	MOVQ stride+40(FP), R14
	SHLQ $1, R14
	MOVQ R12, SI
	SHLQ $2, SI // a row of p in bytes
	MOVQ hd+32(FP), R15
	SHLQ $2, R15 // a row of out in bytes
a8chunk:
	MOVQ $64, AX
	CMPQ R12, AX
	CMOVQLT R12, AX // the chunk's positions
	XORQ R11, R11 // the slice's first channel
a8slice:
	LOAD8ROWS
	LEAQ (R10)(R11*2), DX
	MOVQ R9, R8
	LEAQ (R8)(SI*2), R13
	ADDQ SI, R13
	LEAQ (R13)(SI*2), BX
	ADDQ SI, BX
	MOVQ AX, CX
	SHRQ $1, CX
	JZ a8odd
a8pair:
	AXG8Y(0, (DX))
	AXG8Y(4, (DX)(R14*1))
	ADDQ $8, R8
	ADDQ $8, R13
	ADDQ $8, BX
	LEAQ (DX)(R14*2), DX
	DECQ CX
	JNZ a8pair
a8odd:
	TESTQ $1, AX
	JZ a8end
	AXG8Y(0, (DX))
a8end:
	STORE8ROWS
	ADDQ $8, R11
	CMPQ R11, hd+32(FP)
	JB a8slice
	SUBQ AX, R12
	LEAQ (R9)(AX*4), R9
	IMULQ R14, AX
	ADDQ AX, R10
	TESTQ R12, R12
	JNZ a8chunk
	VZEROUPPER
	RET

// AXG4Y adds, for one position, its 16 values at (DX) (two registers once
// converted) times each of four heads' probabilities at (R8) + r*SI (R13
// = R8 + 3 SI) into Y(2r) and Y(2r+1).
#define AXG4Y \
	VCVTPH2PS (DX), Y8; \
	VCVTPH2PS 16(DX), Y9; \
	VBROADCASTSS (R8), Y10; \
	VFMADD231PS Y8, Y10, Y0; \
	VFMADD231PS Y9, Y10, Y1; \
	VBROADCASTSS (R8)(SI*1), Y11; \
	VFMADD231PS Y8, Y11, Y2; \
	VFMADD231PS Y9, Y11, Y3; \
	VBROADCASTSS (R8)(SI*2), Y12; \
	VFMADD231PS Y8, Y12, Y4; \
	VFMADD231PS Y9, Y12, Y5; \
	VBROADCASTSS (R13), Y13; \
	VFMADD231PS Y8, Y13, Y6; \
	VFMADD231PS Y9, Y13, Y7

// func axpysF16G4AVX2(out *float32, p *float32, n int, v *uint16, hd, stride int)
// axpysF16G8AVX2 for four heads, in slices of 16 channels (two registers
// per head); the sums are the same, bit for bit. hd is a positive
// multiple of 16, n positive.
TEXT ·axpysF16G4AVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ p+8(FP), R9
	MOVQ n+16(FP), R12
	MOVQ v+24(FP), R10
	MOVQ stride+40(FP), R14
	SHLQ $1, R14
	MOVQ R12, SI
	SHLQ $2, SI
	MOVQ hd+32(FP), R15
	SHLQ $2, R15
a4chunk:
	MOVQ $64, AX
	CMPQ R12, AX
	CMOVQLT R12, AX
	XORQ R11, R11
a4slice:
	LEAQ (DI)(R11*4), BX
	LOAD4X2AT
	LEAQ (R10)(R11*2), DX
	MOVQ R9, R8
	LEAQ (R8)(SI*2), R13
	ADDQ SI, R13
	MOVQ AX, CX
a4pos:
	AXG4Y
	ADDQ $4, R8
	ADDQ $4, R13
	ADDQ R14, DX
	DECQ CX
	JNZ a4pos
	LEAQ (DI)(R11*4), BX
	STORE4X2AT
	ADDQ $16, R11
	CMPQ R11, hd+32(FP)
	JB a4slice
	SUBQ AX, R12
	LEAQ (R9)(AX*4), R9
	IMULQ R14, AX
	ADDQ AX, R10
	TESTQ R12, R12
	JNZ a4chunk
	VZEROUPPER
	RET

// Lane indices that spread four values to pairs: [0 0 1 1 2 2 3 3] and
// [4 4 5 5 6 6 7 7], and the sign of every even lane.
DATA ropeLo<>+0(SB)/4, $0
DATA ropeLo<>+4(SB)/4, $0
DATA ropeLo<>+8(SB)/4, $1
DATA ropeLo<>+12(SB)/4, $1
DATA ropeLo<>+16(SB)/4, $2
DATA ropeLo<>+20(SB)/4, $2
DATA ropeLo<>+24(SB)/4, $3
DATA ropeLo<>+28(SB)/4, $3
GLOBL ropeLo<>(SB), RODATA|NOPTR, $32
DATA ropeHi<>+0(SB)/4, $4
DATA ropeHi<>+4(SB)/4, $4
DATA ropeHi<>+8(SB)/4, $5
DATA ropeHi<>+12(SB)/4, $5
DATA ropeHi<>+16(SB)/4, $6
DATA ropeHi<>+20(SB)/4, $6
DATA ropeHi<>+24(SB)/4, $7
DATA ropeHi<>+28(SB)/4, $7
GLOBL ropeHi<>(SB), RODATA|NOPTR, $32
DATA ropeSign<>+0(SB)/4, $0x80000000
DATA ropeSign<>+4(SB)/4, $0
DATA ropeSign<>+8(SB)/4, $0x80000000
DATA ropeSign<>+12(SB)/4, $0
DATA ropeSign<>+16(SB)/4, $0x80000000
DATA ropeSign<>+20(SB)/4, $0
DATA ropeSign<>+24(SB)/4, $0x80000000
DATA ropeSign<>+28(SB)/4, $0
GLOBL ropeSign<>(SB), RODATA|NOPTR, $32

// func ropePairsAVX2(x *float32, heads, headDim int, cos, sin *float32, half int)
// RotatePairs: for each run of eight pairs (sixteen values), the cosines
// spread to [c0 c0 c1 c1 ...] and the sines to [-s0 s0 -s1 s1 ...] once,
// then every head's run is x*C + swap(x)*S, each product rounded before
// the sum. half is a positive multiple of 8, heads positive.
TEXT ·ropePairsAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), DI
	MOVQ heads+8(FP), R12
	MOVQ headDim+16(FP), R13
	SHLQ $2, R13
	MOVQ cos+24(FP), R8
	MOVQ sin+32(FP), R9
	MOVQ half+40(FP), CX
	VMOVUPS ropeLo<>(SB), Y12
	VMOVUPS ropeHi<>(SB), Y13
	VMOVUPS ropeSign<>(SB), Y14
rpchunk:
	VMOVUPS (R8), Y0
	VMOVUPS (R9), Y1
	VPERMPS Y0, Y12, Y2 // cos, low pairs
	VPERMPS Y0, Y13, Y3 // cos, high pairs
	VPERMPS Y1, Y12, Y4
	VPERMPS Y1, Y13, Y5
	VXORPS Y14, Y4, Y4 // -sin, sin, low pairs
	VXORPS Y14, Y5, Y5
	MOVQ DI, SI
	MOVQ R12, DX
rphead:
	VMOVUPS (SI), Y6
	VMOVUPS 32(SI), Y7
	VPERMILPS $0xb1, Y6, Y8
	VPERMILPS $0xb1, Y7, Y9
	VMULPS Y2, Y6, Y6
	VMULPS Y3, Y7, Y7
	VMULPS Y4, Y8, Y8
	VMULPS Y5, Y9, Y9
	VADDPS Y8, Y6, Y6
	VADDPS Y9, Y7, Y7
	VMOVUPS Y6, (SI)
	VMOVUPS Y7, 32(SI)
	ADDQ R13, SI
	DECQ DX
	JNZ rphead
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $64, DI
	SUBQ $8, CX
	JNZ rpchunk
	VZEROUPPER
	RET

// func ropeHalvesAVX2(x *float32, heads, headDim int, cos, sin *float32, half int)
// RotateHalves: for each run of eight pairs, every head's a = x[i:i+8] and
// b = x[half+i:half+i+8] become a*c - b*s and a*s + b*c. half is a
// positive multiple of 8, heads positive.
TEXT ·ropeHalvesAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), DI
	MOVQ heads+8(FP), R12
	MOVQ headDim+16(FP), R13
	SHLQ $2, R13
	MOVQ cos+24(FP), R8
	MOVQ sin+32(FP), R9
	MOVQ half+40(FP), CX
	MOVQ CX, R10
	SHLQ $2, R10 // bytes from a to b
rhchunk:
	VMOVUPS (R8), Y0
	VMOVUPS (R9), Y1
	MOVQ DI, SI
	MOVQ R12, DX
rhhead:
	VMOVUPS (SI), Y6
	VMOVUPS (SI)(R10*1), Y7
	VMULPS Y0, Y6, Y8 // a*c
	VMULPS Y1, Y7, Y9 // b*s
	VMULPS Y1, Y6, Y10 // a*s
	VMULPS Y0, Y7, Y11 // b*c
	VSUBPS Y9, Y8, Y8
	VADDPS Y11, Y10, Y10
	VMOVUPS Y8, (SI)
	VMOVUPS Y10, (SI)(R10*1)
	ADDQ R13, SI
	DECQ DX
	JNZ rhhead
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ rhchunk
	VZEROUPPER
	RET
