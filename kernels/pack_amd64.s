#include "textflag.h"
#include "hsum_amd64.h"
#include "prefetch_amd64.h"

// The row loop of packed Q4_K (pack.go: groups of four blocks, their four
// 16-byte headers, d, dmin and sixteen 6-bit scales and mins end to end,
// then their nibbles), against actQ8_KQ activations (act.go).

// Constants. kqPerm and kqShift take the sixteen 6-bit fields out of each
// 16-byte header of a register (VPERMB makes a lane's qwords its bytes 4-11
// and 8-15, VPMULTISHIFTQB takes each field's 8 bits, an AND keeps 6).
// kqS0..kqS3 are VPERMB indices that widen two scales of the block in lane
// 0 to the 16-bit words of a register of products (odd bytes are zeroed by
// the mask in K1). kqMin widens the eight mins of each of four blocks to
// words; kqD and kqDm pick each block's d and dmin four times over (the
// lanes its mins sums land in).
DATA kqPerm<>+0(SB)/8, $0x0b0a090807060504
DATA kqPerm<>+8(SB)/8, $0x0f0e0d0c0b0a0908
DATA kqPerm<>+16(SB)/8, $0x1b1a191817161514
DATA kqPerm<>+24(SB)/8, $0x1f1e1d1c1b1a1918
DATA kqPerm<>+32(SB)/8, $0x2b2a292827262524
DATA kqPerm<>+40(SB)/8, $0x2f2e2d2c2b2a2928
DATA kqPerm<>+48(SB)/8, $0x3b3a393837363534
DATA kqPerm<>+56(SB)/8, $0x3f3e3d3c3b3a3938
GLOBL kqPerm<>(SB), RODATA|NOPTR, $64
DATA kqShift<>+0(SB)/8, $0x2a241e18120c0600
DATA kqShift<>+8(SB)/8, $0x3a342e28221c1610
DATA kqShift<>+16(SB)/8, $0x2a241e18120c0600
DATA kqShift<>+24(SB)/8, $0x3a342e28221c1610
DATA kqShift<>+32(SB)/8, $0x2a241e18120c0600
DATA kqShift<>+40(SB)/8, $0x3a342e28221c1610
DATA kqShift<>+48(SB)/8, $0x2a241e18120c0600
DATA kqShift<>+56(SB)/8, $0x3a342e28221c1610
GLOBL kqShift<>(SB), RODATA|NOPTR, $64
DATA kqS0<>+0(SB)/8, $0x0000000000000000
DATA kqS0<>+8(SB)/8, $0x0000000000000000
DATA kqS0<>+16(SB)/8, $0x0000000000000000
DATA kqS0<>+24(SB)/8, $0x0000000000000000
DATA kqS0<>+32(SB)/8, $0x0002000200020002
DATA kqS0<>+40(SB)/8, $0x0002000200020002
DATA kqS0<>+48(SB)/8, $0x0002000200020002
DATA kqS0<>+56(SB)/8, $0x0002000200020002
GLOBL kqS0<>(SB), RODATA|NOPTR, $64
DATA kqS1<>+0(SB)/8, $0x0001000100010001
DATA kqS1<>+8(SB)/8, $0x0001000100010001
DATA kqS1<>+16(SB)/8, $0x0001000100010001
DATA kqS1<>+24(SB)/8, $0x0001000100010001
DATA kqS1<>+32(SB)/8, $0x0003000300030003
DATA kqS1<>+40(SB)/8, $0x0003000300030003
DATA kqS1<>+48(SB)/8, $0x0003000300030003
DATA kqS1<>+56(SB)/8, $0x0003000300030003
GLOBL kqS1<>(SB), RODATA|NOPTR, $64
DATA kqS2<>+0(SB)/8, $0x0004000400040004
DATA kqS2<>+8(SB)/8, $0x0004000400040004
DATA kqS2<>+16(SB)/8, $0x0004000400040004
DATA kqS2<>+24(SB)/8, $0x0004000400040004
DATA kqS2<>+32(SB)/8, $0x0006000600060006
DATA kqS2<>+40(SB)/8, $0x0006000600060006
DATA kqS2<>+48(SB)/8, $0x0006000600060006
DATA kqS2<>+56(SB)/8, $0x0006000600060006
GLOBL kqS2<>(SB), RODATA|NOPTR, $64
DATA kqS3<>+0(SB)/8, $0x0005000500050005
DATA kqS3<>+8(SB)/8, $0x0005000500050005
DATA kqS3<>+16(SB)/8, $0x0005000500050005
DATA kqS3<>+24(SB)/8, $0x0005000500050005
DATA kqS3<>+32(SB)/8, $0x0007000700070007
DATA kqS3<>+40(SB)/8, $0x0007000700070007
DATA kqS3<>+48(SB)/8, $0x0007000700070007
DATA kqS3<>+56(SB)/8, $0x0007000700070007
GLOBL kqS3<>(SB), RODATA|NOPTR, $64
DATA kqMin<>+0(SB)/8, $0x000b000a00090008
DATA kqMin<>+8(SB)/8, $0x000f000e000d000c
DATA kqMin<>+16(SB)/8, $0x001b001a00190018
DATA kqMin<>+24(SB)/8, $0x001f001e001d001c
DATA kqMin<>+32(SB)/8, $0x002b002a00290028
DATA kqMin<>+40(SB)/8, $0x002f002e002d002c
DATA kqMin<>+48(SB)/8, $0x003b003a00390038
DATA kqMin<>+56(SB)/8, $0x003f003e003d003c
GLOBL kqMin<>(SB), RODATA|NOPTR, $64
DATA kqD<>+0(SB)/8, $0x0000000000000000
DATA kqD<>+8(SB)/8, $0x0008000800080008
DATA kqD<>+16(SB)/8, $0x0010001000100010
DATA kqD<>+24(SB)/8, $0x0018001800180018
DATA kqD<>+32(SB)/8, $0x0000000000000000
DATA kqD<>+40(SB)/8, $0x0000000000000000
DATA kqD<>+48(SB)/8, $0x0000000000000000
DATA kqD<>+56(SB)/8, $0x0000000000000000
GLOBL kqD<>(SB), RODATA|NOPTR, $64
DATA kqDm<>+0(SB)/8, $0x0001000100010001
DATA kqDm<>+8(SB)/8, $0x0009000900090009
DATA kqDm<>+16(SB)/8, $0x0011001100110011
DATA kqDm<>+24(SB)/8, $0x0019001900190019
DATA kqDm<>+32(SB)/8, $0x0000000000000000
DATA kqDm<>+40(SB)/8, $0x0000000000000000
DATA kqDm<>+48(SB)/8, $0x0000000000000000
DATA kqDm<>+56(SB)/8, $0x0000000000000000
GLOBL kqDm<>(SB), RODATA|NOPTR, $64
DATA kq3f<>+0(SB)/8, $0x3f3f3f3f3f3f3f3f
GLOBL kq3f<>(SB), RODATA|NOPTR, $8
DATA kqNib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL kqNib<>(SB), RODATA|NOPTR, $8
DATA kqHigh<>+0(SB)/8, $0x1020408000000000
GLOBL kqHigh<>(SB), RODATA|NOPTR, $8

// KQLOADLINE and KQLOADSPLIT load 64 nibble bytes at off(base) into
// Z17: a line at once, or 32 bytes at a time where the bytes straddle two
// lines.
#define KQLOADLINE(base, off) \
	VMOVDQU64 off(base), Z17

#define KQLOADSPLIT(base, off) \
	VMOVDQU64 off(base), Y17; \
	VINSERTI64X4 $1, off+32(base), Z17, Z17

// KQPRODUCTS splits the nibbles in Z17 into Z17 (low) and Z18 (high) and
// takes them against the activations at ao(ab) and ao+64(ab), weighted by
// the scale words sa and sb pick from Z1, into Z16 and Z21 (op: VPMADDWD
// for the first half of a block, which sets them, then VPDPWSSD).
#define KQPRODUCTS(ab, ao, sa, sb, op) \
	VGF2P8AFFINEQB $0, Z29, Z17, Z18; \
	VPANDD Z28, Z17, Z17; \
	VPMADDUBSW ao(ab), Z17, Z17; \
	VPMADDUBSW ao+64(ab), Z18, Z18; \
	VPERMB.Z Z1, sa, K1, Z19; \
	VPERMB.Z Z1, sb, K1, Z20; \
	op Z19, Z17, Z16; \
	op Z20, Z18, Z21

// KQBLOCK does one block: its nibbles at no(nb) loaded by LOAD, its
// activations at ao(ab), its scales in lane 0 of Z1; it leaves the block's
// sums as floats in Z16, for the caller to scale by d*dx.
#define KQBLOCK(LOAD, nb, no, ab, ao) \
	LOAD(nb, no); \
	KQPRODUCTS(ab, ao, Z24, Z25, VPMADDWD); \
	LOAD(nb, no+64); \
	KQPRODUCTS(ab, ao+128, Z26, Z27, VPDPWSSD); \
	VPADDD Z21, Z16, Z16; \
	VCVTDQ2PS Z16, Z16

// KQGROUPBLOCK does block k of a group (nibbles at no(R10), activations
// at ao(R11)) and adds its sums times d*dx, at so(SP), to Z30.
#define KQGROUPBLOCK(LOAD, no, ao, so) \
	KQBLOCK(LOAD, R10, no, R11, ao); \
	VFMADD231PS.BCST so(SP), Z16, Z30

// KQHEAD unpacks the four headers at R10 into Z1 (lane k: block k's
// scales in bytes 0-7, mins in 8-15), adds the group's mins terms
// dmin*dx*sum(m_j*bsum_j) to Z23, and stores each block's d*dx at 16k(SP).
#define KQHEAD \
	PFLINES9(DX); \
	VPERMB (R10), Z10, Z1; \
	VPMULTISHIFTQB Z1, Z11, Z1; \
	VPANDD Z12, Z1, Z1; \
	VPERMB.Z Z1, Z13, K1, Z7; \
	VPMADDWD 1024(R11), Z7, Z7; \
	VCVTDQ2PS Z7, Z7; \
	VPERMW (R10), Z15, Z8; \
	VCVTPH2PS Y8, Z8; \
	VMULPS 1088(R11), Z8, Z8; \
	VFMADD231PS Z8, Z7, Z23; \
	VPERMW (R10), Z14, Z9; \
	VCVTPH2PS Y9, Z9; \
	VMULPS 1088(R11), Z9, Z9; \
	VMOVUPS Z9, (SP)

// func vecQ4_KXAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Packed Q4_K rows against actQ8_KQ activations. Per group of four blocks
// the headers are unpacked at once (three instructions), and the mins
// terms and the blocks' d*dx computed at once; per block, each 64 nibble
// bytes are split by an AND and a GF(2) affine transform, go VPMADDUBSW
// with the activations (16-bit pairs) and VPMADDWD/VPDPWSSD with the
// scales (32-bit), and the block's sums are scaled into sixteen float
// lanes, reduced at the row's end; VALIGND brings the next block's scales
// to lane 0. Rows that start on a 64-byte line (those of a multiple of
// four blocks, when the matrix does) load nibbles a line at a time, others
// 32 bytes at a time; a last group of fewer than four blocks goes block by
// block. The sums are those of the portable kernel in another order.
// pf is the distance, in bytes, at which the loop prefetches weights
// (its lowest bit for non-temporal: see rowLoopPF).
TEXT ·vecQ4_KXAVX512(SB), NOSPLIT, $64-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), DX
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	MOVQ $0x5555555555555555, AX
	KMOVQ AX, K1
	VMOVDQU64 kqPerm<>(SB), Z10
	VMOVDQU64 kqShift<>(SB), Z11
	VPBROADCASTQ kq3f<>(SB), Z12
	VMOVDQU64 kqMin<>(SB), Z13
	VMOVDQU64 kqD<>(SB), Z14
	VMOVDQU64 kqDm<>(SB), Z15
	VMOVDQU64 kqS0<>(SB), Z24
	VMOVDQU64 kqS1<>(SB), Z25
	VMOVDQU64 kqS2<>(SB), Z26
	VMOVDQU64 kqS3<>(SB), Z27
	VPBROADCASTQ kqNib<>(SB), Z28
	VPBROADCASTQ kqHigh<>(SB), Z29
kqrow:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	SHRQ $2, R12
	VPXORD Z30, Z30, Z30
	VPXORD Z23, Z23, Z23
	TESTQ R12, R12
	JZ kqtail
	TESTQ $63, SI
	JNZ kqsplit
kqline:
	KQHEAD
	KQGROUPBLOCK(KQLOADLINE, 64, 0, 0)
	VALIGND $4, Z1, Z1, Z1
	KQGROUPBLOCK(KQLOADLINE, 192, 256, 16)
	VALIGND $4, Z1, Z1, Z1
	KQGROUPBLOCK(KQLOADLINE, 320, 512, 32)
	VALIGND $4, Z1, Z1, Z1
	KQGROUPBLOCK(KQLOADLINE, 448, 768, 48)
	ADDQ $576, R10
	ADDQ $1216, R11
	DECQ R12
	JNZ kqline
	JMP kqtail
kqsplit:
	KQHEAD
	KQGROUPBLOCK(KQLOADSPLIT, 64, 0, 0)
	VALIGND $4, Z1, Z1, Z1
	KQGROUPBLOCK(KQLOADSPLIT, 192, 256, 16)
	VALIGND $4, Z1, Z1, Z1
	KQGROUPBLOCK(KQLOADSPLIT, 320, 512, 32)
	VALIGND $4, Z1, Z1, Z1
	KQGROUPBLOCK(KQLOADSPLIT, 448, 768, 48)
	ADDQ $576, R10
	ADDQ $1216, R11
	DECQ R12
	JNZ kqsplit
kqtail:
	// The last nb%4 blocks: headers at R10, nibbles after them (R14),
	// one block at a time; activations in a group laid out as the others.
	MOVQ nb+40(FP), R12
	ANDQ $3, R12
	JZ kqsum
	MOVQ R12, AX
	SHLQ $4, AX
	LEAQ (R10)(AX*1), R14
	MOVQ R11, R15
	MOVQ R11, BX
kqtailblock:
	VPERMB (R10), X10, X1
	VPMULTISHIFTQB X1, X11, X1
	VPANDD X12, X1, X1
	VPERMB.Z X1, X13, K1, X7
	VPMADDWD 1024(BX), X7, X7
	VCVTDQ2PS X7, X7
	VCVTPH2PS (R10), X8
	VMULPS.BCST 1088(BX), X8, X8
	VBROADCASTSS X8, Z22
	VPERMILPS $0x55, X8, X9
	VFMADD231PS Z9, Z7, Z23
	KQBLOCK(KQLOADSPLIT, R14, 0, R15, 0)
	VFMADD231PS Z22, Z16, Z30
	ADDQ $16, R10
	ADDQ $128, R14
	ADDQ $256, R15
	ADDQ $16, BX
	DECQ R12
	JNZ kqtailblock
kqsum:
	VEXTRACTF64X4 $1, Z30, Y1
	VADDPS Y30, Y1, Y1
	HSUM8(Y1, X1, X2)
	VEXTRACTF64X4 $1, Z23, Y3
	VADDPS Y23, Y3, Y3
	HSUM8(Y3, X3, X4)
	VSUBSS X3, X1, X1
	VMOVSS X1, (DI)
	ADDQ $4, DI
	ADDQ rb+16(FP), SI
	DECQ R9
	JNZ kqrow
	VZEROUPPER
	RET

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
