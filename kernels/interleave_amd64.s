#include "textflag.h"
#include "prefetch_amd64.h"

// The AVX-512 loops of the interleaved Q4_K, Q8_0 and Q6_K layouts
// (interleave.go).

// x16Perm6 and x16Shift6 take 64 6-bit fields, stored end to end in 48
// bytes, out to one byte each: VPERMB gives qword q the six bytes 6q..6q+5,
// VPMULTISHIFTQB takes each field's 8 bits from its qword, an AND keeps 6.
DATA x16Perm6<>+0(SB)/8, $0x0505050403020100
DATA x16Perm6<>+8(SB)/8, $0x0b0b0b0a09080706
DATA x16Perm6<>+16(SB)/8, $0x111111100f0e0d0c
DATA x16Perm6<>+24(SB)/8, $0x1717171615141312
DATA x16Perm6<>+32(SB)/8, $0x1d1d1d1c1b1a1918
DATA x16Perm6<>+40(SB)/8, $0x2323232221201f1e
DATA x16Perm6<>+48(SB)/8, $0x2929292827262524
DATA x16Perm6<>+56(SB)/8, $0x2f2f2f2e2d2c2b2a
GLOBL x16Perm6<>(SB), RODATA|NOPTR, $64
DATA x16Shift6<>+0(SB)/8, $0x2a241e18120c0600
DATA x16Shift6<>+8(SB)/8, $0x2a241e18120c0600
DATA x16Shift6<>+16(SB)/8, $0x2a241e18120c0600
DATA x16Shift6<>+24(SB)/8, $0x2a241e18120c0600
DATA x16Shift6<>+32(SB)/8, $0x2a241e18120c0600
DATA x16Shift6<>+40(SB)/8, $0x2a241e18120c0600
DATA x16Shift6<>+48(SB)/8, $0x2a241e18120c0600
DATA x16Shift6<>+56(SB)/8, $0x2a241e18120c0600
GLOBL x16Shift6<>(SB), RODATA|NOPTR, $64

// x16Scale0..3 are VPERMB indices that widen the sixteen rows' scales of
// sub-block 4i+s (s = 0..3), bytes 16s..16s+15 of the register the fields
// went to, to the 32-bit lanes (the other bytes are zeroed by the mask in
// K1).
DATA x16Scale0<>+0(SB)/8, $0x0000000100000000
DATA x16Scale0<>+8(SB)/8, $0x0000000300000002
DATA x16Scale0<>+16(SB)/8, $0x0000000500000004
DATA x16Scale0<>+24(SB)/8, $0x0000000700000006
DATA x16Scale0<>+32(SB)/8, $0x0000000900000008
DATA x16Scale0<>+40(SB)/8, $0x0000000b0000000a
DATA x16Scale0<>+48(SB)/8, $0x0000000d0000000c
DATA x16Scale0<>+56(SB)/8, $0x0000000f0000000e
GLOBL x16Scale0<>(SB), RODATA|NOPTR, $64
DATA x16Scale1<>+0(SB)/8, $0x0000001100000010
DATA x16Scale1<>+8(SB)/8, $0x0000001300000012
DATA x16Scale1<>+16(SB)/8, $0x0000001500000014
DATA x16Scale1<>+24(SB)/8, $0x0000001700000016
DATA x16Scale1<>+32(SB)/8, $0x0000001900000018
DATA x16Scale1<>+40(SB)/8, $0x0000001b0000001a
DATA x16Scale1<>+48(SB)/8, $0x0000001d0000001c
DATA x16Scale1<>+56(SB)/8, $0x0000001f0000001e
GLOBL x16Scale1<>(SB), RODATA|NOPTR, $64
DATA x16Scale2<>+0(SB)/8, $0x0000002100000020
DATA x16Scale2<>+8(SB)/8, $0x0000002300000022
DATA x16Scale2<>+16(SB)/8, $0x0000002500000024
DATA x16Scale2<>+24(SB)/8, $0x0000002700000026
DATA x16Scale2<>+32(SB)/8, $0x0000002900000028
DATA x16Scale2<>+40(SB)/8, $0x0000002b0000002a
DATA x16Scale2<>+48(SB)/8, $0x0000002d0000002c
DATA x16Scale2<>+56(SB)/8, $0x0000002f0000002e
GLOBL x16Scale2<>(SB), RODATA|NOPTR, $64
DATA x16Scale3<>+0(SB)/8, $0x0000003100000030
DATA x16Scale3<>+8(SB)/8, $0x0000003300000032
DATA x16Scale3<>+16(SB)/8, $0x0000003500000034
DATA x16Scale3<>+24(SB)/8, $0x0000003700000036
DATA x16Scale3<>+32(SB)/8, $0x0000003900000038
DATA x16Scale3<>+40(SB)/8, $0x0000003b0000003a
DATA x16Scale3<>+48(SB)/8, $0x0000003d0000003c
DATA x16Scale3<>+56(SB)/8, $0x0000003f0000003e
GLOBL x16Scale3<>(SB), RODATA|NOPTR, $64

// x16Min0 and x16Min1 widen the sixteen rows' mins of a pair of
// sub-blocks, bytes 32c..32c+31 (c = 0, 1), to the two 16-bit halves of
// the 32-bit lanes (odd bytes zeroed by the mask in K2): the operand
// VPDPWSSD takes against the pair's sums of activations.
DATA x16Min0<>+0(SB)/8, $0x0003000200010000
DATA x16Min0<>+8(SB)/8, $0x0007000600050004
DATA x16Min0<>+16(SB)/8, $0x000b000a00090008
DATA x16Min0<>+24(SB)/8, $0x000f000e000d000c
DATA x16Min0<>+32(SB)/8, $0x0013001200110010
DATA x16Min0<>+40(SB)/8, $0x0017001600150014
DATA x16Min0<>+48(SB)/8, $0x001b001a00190018
DATA x16Min0<>+56(SB)/8, $0x001f001e001d001c
GLOBL x16Min0<>(SB), RODATA|NOPTR, $64
DATA x16Min1<>+0(SB)/8, $0x0023002200210020
DATA x16Min1<>+8(SB)/8, $0x0027002600250024
DATA x16Min1<>+16(SB)/8, $0x002b002a00290028
DATA x16Min1<>+24(SB)/8, $0x002f002e002d002c
DATA x16Min1<>+32(SB)/8, $0x0033003200310030
DATA x16Min1<>+40(SB)/8, $0x0037003600350034
DATA x16Min1<>+48(SB)/8, $0x003b003a00390038
DATA x16Min1<>+56(SB)/8, $0x003f003e003d003c
GLOBL x16Min1<>(SB), RODATA|NOPTR, $64
DATA x16Nib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL x16Nib<>(SB), RODATA|NOPTR, $8
DATA x16High<>+0(SB)/8, $0xf0f0f0f0f0f0f0f0
GLOBL x16High<>(SB), RODATA|NOPTR, $8
DATA x16Six<>+0(SB)/8, $0x3f3f3f3f3f3f3f3f
GLOBL x16Six<>(SB), RODATA|NOPTR, $8

// X16STEP takes four quants of each of the sixteen rows, the 64 bytes at
// nib(R10): their low nibbles against the four activation bytes at lo(R11)
// into A, their high nibbles (kept in place, so sixteen times their value)
// against those at hi(R11) into B.
#define X16STEP(nib, lo, hi, A, B) \
	VMOVDQU64 nib(R10), Z11; \
	VPANDD Z31, Z11, Z9; \
	VPANDD Z30, Z11, Z10; \
	VPDPBUSD.BCST lo(R11), Z9, A; \
	VPDPBUSD.BCST hi(R11), Z10, B

// X16QUAD is four steps, sixteen quants of each row, and the prefetch of
// their lines' successors pf ahead.
#define X16QUAD(nib, lo, hi, A, B) \
	PFAT4(nib, DX); \
	X16STEP(nib, lo, hi, A, B); \
	X16STEP(nib+64, lo+4, hi+4, A, B); \
	X16STEP(nib+128, lo+8, hi+8, A, B); \
	X16STEP(nib+192, lo+12, hi+12, A, B)

// X16CHUNK does one 64-value chunk of the block for the sixteen rows: the
// sums of its two sub-blocks (activations at lo and hi) times their scales,
// picked from S by the indices i0 and i1, into Z4, and its mins, picked
// from M by mi, times the pair's sums of activations at so(R11), into Z5.
// Each quad of steps sums into a pair of registers of its own (Z7/Z8,
// Z17/Z18), added before the scales: chains of four VPDPBUSD instead of
// eight, and integer sums, so the bits are the same (from L2 on one Zen 4
// core 69-76 GB/s against 71-73; decode the same within noise).
#define X16CHUNK(nib, lo, hi, S, i0, i1, M, mi, so) \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	X16QUAD(nib, lo, hi, Z7, Z8); \
	X16QUAD(nib+256, lo+16, hi+16, Z17, Z18); \
	VPADDD Z17, Z7, Z7; \
	VPADDD Z18, Z8, Z8; \
	VPSRAD $4, Z8, Z8; \
	VPERMB.Z S, i0, K1, Z12; \
	VPMULLD Z12, Z7, Z7; \
	VPADDD Z7, Z4, Z4; \
	VPERMB.Z S, i1, K1, Z13; \
	VPMULLD Z13, Z8, Z8; \
	VPADDD Z8, Z4, Z4; \
	VPERMB.Z M, mi, K2, Z14; \
	VPDPWSSD.BCST so(R11), Z14, Z5

// X16FIELDS unpacks 64 6-bit fields at off(R10) into the bytes of dst.
#define X16FIELDS(off, dst) \
	VPERMB off(R10), Z29, dst; \
	VPMULTISHIFTQB dst, Z28, dst; \
	VPANDD Z27, dst, dst

// func vecQ4_KX16AVX512(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// Interleaved Q4_K units of sixteen rows (rb bytes each, nb blocks per
// row) against actQ8_KP activations: y gets sixteen values per unit. Per
// block the sixteen rows' scales and mins are unpacked at once (four
// registers of bytes); per 64-value chunk, eight VPDPBUSD steps sum each
// row's two sub-blocks in the lanes of two registers, one VPMULLD each
// applies the sixteen rows' scales, and one VPDPWSSD takes the mins
// against the activations' sums; per block, the integer sums are scaled by
// d and dmin into sixteen float lanes, which are the unit's results. Every
// operation is the portable kernel's, in its order, so the results are
// its bit for bit. pf is the prefetch setting (see rowLoopPF).
TEXT ·vecQ4_KX16AVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ units+24(FP), R9
	MOVQ pf+48(FP), DX
	VPBROADCASTQ x16Nib<>(SB), Z31
	VPBROADCASTQ x16High<>(SB), Z30
	VMOVDQU64 x16Perm6<>(SB), Z29
	VMOVDQU64 x16Shift6<>(SB), Z28
	VPBROADCASTQ x16Six<>(SB), Z27
	VMOVDQU64 x16Scale0<>(SB), Z23
	VMOVDQU64 x16Scale1<>(SB), Z24
	VMOVDQU64 x16Scale2<>(SB), Z25
	VMOVDQU64 x16Scale3<>(SB), Z26
	VMOVDQU64 x16Min0<>(SB), Z21
	VMOVDQU64 x16Min1<>(SB), Z22
	MOVQ $0x1111111111111111, AX
	KMOVQ AX, K1
	MOVQ $0x5555555555555555, AX
	KMOVQ AX, K2
x16unit:
	MOVQ SI, R10
	MOVQ xq+32(FP), R11
	MOVQ nb+40(FP), R12
	VPXORD Z6, Z6, Z6
x16block:
	PFAT4(0, DX)
	X16FIELDS(64, Z0)
	X16FIELDS(112, Z1)
	X16FIELDS(160, Z2)
	X16FIELDS(208, Z3)
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	X16CHUNK(256, 0, 64, Z0, Z23, Z24, Z2, Z21, 256)
	X16CHUNK(768, 32, 96, Z0, Z25, Z26, Z2, Z22, 260)
	X16CHUNK(1280, 128, 192, Z1, Z23, Z24, Z3, Z21, 264)
	X16CHUNK(1792, 160, 224, Z1, Z25, Z26, Z3, Z22, 268)
	VCVTDQ2PS Z4, Z4
	VCVTPH2PS (R10), Z15
	VMULPS.BCST 272(R11), Z15, Z15
	VMULPS Z4, Z15, Z15
	VCVTDQ2PS Z5, Z5
	VCVTPH2PS 32(R10), Z16
	VMULPS.BCST 272(R11), Z16, Z16
	VMULPS Z5, Z16, Z16
	VSUBPS Z16, Z15, Z15
	VADDPS Z15, Z6, Z6
	ADDQ $2304, R10
	ADDQ $320, R11
	DECQ R12
	JNZ x16block
	VMOVUPS Z6, (DI)
	ADDQ $64, DI
	ADDQ rb+16(FP), SI
	DECQ R9
	JNZ x16unit
	VZEROUPPER
	RET

// X8STEP takes four quants of each of the sixteen rows, the 64 bytes at
// off(R10), against the four activation bytes at ao(R11), into Z4.
#define X8STEP(off, ao) \
	VMOVDQU64 off(R10), Z9; \
	VPDPBUSD.BCST ao(R11), Z9, Z4

// X8BLOCK does one block index of a unit, its activations at ao(R11) in
// an actQ8_0X block: the correction -128*sum(x) is where the sums start,
// eight steps add the sixteen rows' products, and the block's sums scaled
// by d*dx are added to Z6, as the row loop does (vecQ8_0AVX512), so the
// two give the same bits.
#define X8BLOCK(ao) \
	VPBROADCASTD ao+32(R11), Z4; \
	X8STEP(32, ao); \
	X8STEP(96, ao+4); \
	X8STEP(160, ao+8); \
	X8STEP(224, ao+12); \
	X8STEP(288, ao+16); \
	X8STEP(352, ao+20); \
	X8STEP(416, ao+24); \
	X8STEP(480, ao+28); \
	VCVTDQ2PS Z4, Z4; \
	VCVTPH2PS (R10), Z5; \
	VMULPS.BCST ao+36(R11), Z5, Z5; \
	VMULPS Z4, Z5, Z5; \
	VADDPS Z5, Z6, Z6; \
	ADDQ $544, R10

// func vecQ8_0X16AVX512(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// Interleaved Q8_0 units of sixteen rows (rb bytes each, nb blocks per
// row) against actQ8_0X activations: y gets sixteen values per unit. Per
// block index, eight VPDPBUSD steps give the sixteen rows' integer sums in
// the lanes of one register; per row the sum is sum + (d*dx)*isum, block by
// block. pf is the prefetch setting (see rowLoopPF).
TEXT ·vecQ8_0X16AVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ units+24(FP), R9
	MOVQ pf+48(FP), DX
x8unit:
	MOVQ SI, R10
	MOVQ xq+32(FP), R11
	MOVQ nb+40(FP), R12
	VPXORD Z6, Z6, Z6
	CMPQ R12, $2
	JB x8tail
x8pair:
	PFAT4(0, DX)
	PFAT4(256, DX)
	X8BLOCK(0)
	PFAT4(0, DX)
	PFAT4(256, DX)
	X8BLOCK(40)
	ADDQ $80, R11
	SUBQ $2, R12
	CMPQ R12, $2
	JAE x8pair
x8tail:
	TESTQ R12, R12
	JZ x8done
	X8BLOCK(0)
x8done:
	VMOVUPS Z6, (DI)
	ADDQ $64, DI
	ADDQ rb+16(FP), SI
	DECQ R9
	JNZ x8unit
	VZEROUPPER
	RET

DATA x6Three<>+0(SB)/8, $0x0303030303030303
GLOBL x6Three<>(SB), RODATA|NOPTR, $8

// X6SUB does sub-block j of a block index for the sixteen rows: its three
// planes at pl(R10) give the 6-bit quants of four steps (the top two bits
// of each plane are the fourth step's), four VPDPBUSD add their products
// with the activations at ao(R11) to the sums' start -32*sum(x) (at co),
// and the sixteen rows' scales at sc times the sums go into Z11.
#define X6SUB(pl, ao, co, sc) \
	VMOVDQU64 pl(R10), Z0; \
	VMOVDQU64 pl+64(R10), Z1; \
	VMOVDQU64 pl+128(R10), Z2; \
	VPSRLW $6, Z0, Z6; \
	VPSRLW $4, Z1, Z7; \
	VPSRLW $2, Z2, Z8; \
	VPTERNLOGD $0xe4, Z30, Z7, Z6; \
	VPTERNLOGD $0xe4, Z29, Z8, Z6; \
	VPANDD Z31, Z6, Z6; \
	VPANDD Z31, Z0, Z0; \
	VPANDD Z31, Z1, Z1; \
	VPANDD Z31, Z2, Z2; \
	VPBROADCASTD co(R11), Z9; \
	VPDPBUSD.BCST ao(R11), Z0, Z9; \
	VPDPBUSD.BCST ao+4(R11), Z1, Z9; \
	VPDPBUSD.BCST ao+8(R11), Z2, Z9; \
	VPDPBUSD.BCST ao+12(R11), Z6, Z9; \
	VPMOVSXBD sc(R10), Z10; \
	VPMULLD Z10, Z9, Z9; \
	VPADDD Z9, Z11, Z11

// X6QUAD is four sub-blocks from j, and the prefetch of their lines'
// successors pf ahead.
#define X6QUAD(j) \
	PFAT4(288+192*j, DX); \
	PFAT4(544+192*j, DX); \
	PFAT4(800+192*j, DX); \
	X6SUB(288+192*j, 16*j, 256+4*j, 32+16*j); \
	X6SUB(480+192*j, 16*j+16, 260+4*j, 48+16*j); \
	X6SUB(672+192*j, 16*j+32, 264+4*j, 64+16*j); \
	X6SUB(864+192*j, 16*j+48, 268+4*j, 80+16*j)

// func vecQ6_KX16AVX512(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// Interleaved Q6_K units of sixteen rows (rb bytes each, nb blocks per
// row) against actQ8_K6 activations: y gets sixteen values per unit. Per
// sub-block of 16 values, the quants are unpacked from their three planes
// and four VPDPBUSD steps sum (q+32)*x from -32*sum(x) for the sixteen rows
// in the lanes of one register, which one VPMULLD scales; per block index
// each row's sum is sum + (d*dx)*isum, as the portable kernel's, whose
// bits these are. pf is the prefetch setting (see rowLoopPF).
TEXT ·vecQ6_KX16AVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ units+24(FP), R9
	MOVQ pf+48(FP), DX
	VPBROADCASTQ x16Six<>(SB), Z31
	VPBROADCASTQ x6Three<>(SB), Z30
	VPBROADCASTQ x16Nib<>(SB), Z29
x6unit:
	MOVQ SI, R10
	MOVQ xq+32(FP), R11
	MOVQ nb+40(FP), R12
	VPXORD Z12, Z12, Z12
x6block:
	PFAT4(0, DX)
	PFAT4(256, DX)
	VPXORD Z11, Z11, Z11
	X6QUAD(0)
	X6QUAD(4)
	X6QUAD(8)
	X6QUAD(12)
	VCVTDQ2PS Z11, Z11
	VCVTPH2PS (R10), Z13
	VMULPS.BCST 320(R11), Z13, Z13
	VMULPS Z11, Z13, Z13
	VADDPS Z13, Z12, Z12
	ADDQ $3360, R10
	ADDQ $336, R11
	DECQ R12
	JNZ x6block
	VMOVUPS Z12, (DI)
	ADDQ $64, DI
	ADDQ rb+16(FP), SI
	DECQ R9
	JNZ x6unit
	VZEROUPPER
	RET
