#include "textflag.h"
#include "hsum_amd64.h"

// The row loop of packed Q4_K (pack.go: Q4_K blocks whose sixteen 6-bit
// scales and mins are packed end to end).

// Constants: kxPerm and kxShift pick the sixteen 6-bit fields out of a
// block's 12 packed bytes (VPERMB makes the qwords bytes 4-11 and 8-15 of
// the block's meta bytes, VPMULTISHIFTQB takes each field's 8 bits, an AND
// keeps 6); kxS0..kxS3 are VPERMB indices that widen two of the scales to
// the 16-bit words of a ZMM register of products (the odd bytes are zeroed
// by the mask in K1); kxMin widens the eight mins to words.
DATA kxPerm<>+0(SB)/8, $0x0b0a090807060504
DATA kxPerm<>+8(SB)/8, $0x0f0e0d0c0b0a0908
GLOBL kxPerm<>(SB), RODATA|NOPTR, $16
DATA kxShift<>+0(SB)/8, $0x2a241e18120c0600
DATA kxShift<>+8(SB)/8, $0x3a342e28221c1610
GLOBL kxShift<>(SB), RODATA|NOPTR, $16
DATA kxS0<>+0(SB)/8, $0x0000000000000000
DATA kxS0<>+8(SB)/8, $0x0000000000000000
DATA kxS0<>+16(SB)/8, $0x0000000000000000
DATA kxS0<>+24(SB)/8, $0x0000000000000000
DATA kxS0<>+32(SB)/8, $0x0002000200020002
DATA kxS0<>+40(SB)/8, $0x0002000200020002
DATA kxS0<>+48(SB)/8, $0x0002000200020002
DATA kxS0<>+56(SB)/8, $0x0002000200020002
GLOBL kxS0<>(SB), RODATA|NOPTR, $64
DATA kxS1<>+0(SB)/8, $0x0001000100010001
DATA kxS1<>+8(SB)/8, $0x0001000100010001
DATA kxS1<>+16(SB)/8, $0x0001000100010001
DATA kxS1<>+24(SB)/8, $0x0001000100010001
DATA kxS1<>+32(SB)/8, $0x0003000300030003
DATA kxS1<>+40(SB)/8, $0x0003000300030003
DATA kxS1<>+48(SB)/8, $0x0003000300030003
DATA kxS1<>+56(SB)/8, $0x0003000300030003
GLOBL kxS1<>(SB), RODATA|NOPTR, $64
DATA kxS2<>+0(SB)/8, $0x0004000400040004
DATA kxS2<>+8(SB)/8, $0x0004000400040004
DATA kxS2<>+16(SB)/8, $0x0004000400040004
DATA kxS2<>+24(SB)/8, $0x0004000400040004
DATA kxS2<>+32(SB)/8, $0x0006000600060006
DATA kxS2<>+40(SB)/8, $0x0006000600060006
DATA kxS2<>+48(SB)/8, $0x0006000600060006
DATA kxS2<>+56(SB)/8, $0x0006000600060006
GLOBL kxS2<>(SB), RODATA|NOPTR, $64
DATA kxS3<>+0(SB)/8, $0x0005000500050005
DATA kxS3<>+8(SB)/8, $0x0005000500050005
DATA kxS3<>+16(SB)/8, $0x0005000500050005
DATA kxS3<>+24(SB)/8, $0x0005000500050005
DATA kxS3<>+32(SB)/8, $0x0007000700070007
DATA kxS3<>+40(SB)/8, $0x0007000700070007
DATA kxS3<>+48(SB)/8, $0x0007000700070007
DATA kxS3<>+56(SB)/8, $0x0007000700070007
GLOBL kxS3<>(SB), RODATA|NOPTR, $64
DATA kxMin<>+0(SB)/8, $0x000b000a00090008
DATA kxMin<>+8(SB)/8, $0x000f000e000d000c
GLOBL kxMin<>(SB), RODATA|NOPTR, $16
DATA kxNib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL kxNib<>(SB), RODATA|NOPTR, $8
DATA kxHigh<>+0(SB)/8, $0x1020408000000000
GLOBL kxHigh<>(SB), RODATA|NOPTR, $8
DATA kx3f<>+0(SB)/8, $0x3f3f3f3f3f3f3f3f
GLOBL kx3f<>(SB), RODATA|NOPTR, $8

// KXMETA unpacks the meta bytes of the block at R8 into X1 (bytes 0-7 the
// scales, 8-15 the mins), adds its mins term dmin*dx*sum(m_j*bsum_j) to
// X23 and leaves d*dx in every lane of Z22.
#define KXMETA \
	VPERMB (R8), X10, X1; \
	VPMULTISHIFTQB X1, X11, X1; \
	VPANDD X12, X1, X1; \
	VPERMB.Z X1, X13, K1, X7; \
	VPMADDWD 256(R11), X7, X7; \
	VCVTDQ2PS X7, X7; \
	VCVTPH2PS (R8), X8; \
	VMULPS.BCST 272(R11), X8, X8; \
	VBROADCASTSS X8, Z22; \
	VPERMILPS $0x55, X8, X9; \
	VFMADD231PS X9, X7, X23

// KXPRODUCTS takes the nibbles of 64 bytes split into Z17 (low) and Z18
// (high) against the activations at off(R11) and off+64(R11), weighted by
// the scale words picked by sa and sb, into the 32-bit sums in Z16 and Z21
// (op: VPMADDWD for the first half of the block, which sets them, then
// VPDPWSSD, which adds).
#define KXPRODUCTS(off, sa, sb, op) \
	VPMADDUBSW off(R11), Z17, Z17; \
	VPMADDUBSW off+64(R11), Z18, Z18; \
	VPERMB.Z Z1, sa, K1, Z19; \
	VPERMB.Z Z1, sb, K1, Z20; \
	op Z19, Z17, Z16; \
	op Z20, Z18, Z21

// func vecQ4_KXAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// Packed Q4_K rows against actQ8_KP activations (act.go: the sub-blocks of
// each 256 values in the order 0 2 1 3 4 6 5 7, which is the order of the
// low and high nibbles of 64 consecutive nibble bytes). Per block: the
// meta bytes are unpacked with three instructions; each 64 nibbles times
// activations goes VPMADDUBSW (16-bit pairs) then VPMADDWD/VPDPWSSD with
// the scales (32-bit), the high nibbles taken with one GF(2) affine
// transform; the block's integer sums are scaled and added to float
// accumulators, reduced at the row's end. Nibbles are loaded 32 bytes at a
// time (blocks are 144 bytes, and a load that straddles two cache lines is
// slow). The sums are those of the portable kernel in another order.
TEXT ·vecQ4_KXAVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	MOVQ $0x5555555555555555, AX
	KMOVQ AX, K1
	VMOVDQU kxPerm<>(SB), X10
	VMOVDQU kxShift<>(SB), X11
	VPBROADCASTQ kx3f<>(SB), X12
	VMOVDQU kxMin<>(SB), X13
	VPBROADCASTQ kxNib<>(SB), Z28
	VPBROADCASTQ kxHigh<>(SB), Z29
	VMOVDQU64 kxS0<>(SB), Z24
	VMOVDQU64 kxS1<>(SB), Z25
	VMOVDQU64 kxS2<>(SB), Z26
	VMOVDQU64 kxS3<>(SB), Z27
kxrow:
	MOVQ SI, R8
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VPXORD Z30, Z30, Z30
	VPXORD Z23, Z23, Z23
kxblock:
	PREFETCHT0 2048(R8)
	PREFETCHT0 2112(R8)
	PREFETCHT0 2176(R8)
	KXMETA
	VMOVDQU64 16(R8), Y17
	VINSERTI64X4 $1, 48(R8), Z17, Z17
	VGF2P8AFFINEQB $0, Z29, Z17, Z18
	VPANDD Z28, Z17, Z17
	KXPRODUCTS(0, Z24, Z25, VPMADDWD)
	VMOVDQU64 80(R8), Y17
	VINSERTI64X4 $1, 112(R8), Z17, Z17
	VGF2P8AFFINEQB $0, Z29, Z17, Z18
	VPANDD Z28, Z17, Z17
	KXPRODUCTS(128, Z26, Z27, VPDPWSSD)
	VPADDD Z21, Z16, Z16
	VCVTDQ2PS Z16, Z16
	VFMADD231PS Z22, Z16, Z30
	ADDQ $144, R8
	ADDQ $320, R11
	DECQ R12
	JNZ kxblock
	VEXTRACTF64X4 $1, Z30, Y1
	VADDPS Y30, Y1, Y1
	HSUM8(Y1, X1, X2)
	VMOVAPS X23, X3
	HSUM4(X3, X4)
	VSUBSS X3, X1, X1
	VMOVSS X1, (DI)
	ADDQ $4, DI
	ADDQ rb+16(FP), SI
	DECQ R9
	JNZ kxrow
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

// func vecQ8_0XAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// Packed Q8_0 rows (pack.go: groups of eight blocks, their eight scales
// first, then their quants plus 128, as unsigned bytes) against actQ8_0P
// activations; nb, the blocks per row, is a multiple of 8. Per group the
// eight scales become floats at once; per pair of blocks one VPDPBUSD
// (unsigned weights times signed activations, started from the pair's
// -128*sum corrections), a permute that spreads the pair's two scales, and
// a multiply-add into one of two float accumulators.
TEXT ·vecQ8_0XAVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
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
	PREFETCHT0 2048(R10)
	PREFETCHT0 2112(R10)
	PREFETCHT0 2176(R10)
	PREFETCHT0 2240(R10)
	PREFETCHT0 2304(R10)
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
