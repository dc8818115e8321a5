#include "textflag.h"
#include "hsum_amd64.h"

// Assembly row loops for Q2_K and Q3_K weights against actQ8_K activations
// (installed by k23_amd64.go). Each computes y[i], i < rows, for the weight
// row at w + i*rb; nb is the number of 256-value blocks per row. The AVX2
// loops reduce each block to the integer sums of the portable kernels
// (qdot_generic.go) and do its float arithmetic in the same order, so their
// results are bit-identical. The AVX-512 loops (at the end) keep float
// accumulators across blocks instead, and handle 64 values a step.

// k23shuf: VPSHUFB patterns that spread 16-bit scales over a YMM register
// of 16-bit products: pattern s (at 32*s) fills the low half with word 2s
// and the high half with word 2s+1 of its 128-bit lane.
DATA k23shuf<>+0(SB)/8, $0x0100010001000100
DATA k23shuf<>+8(SB)/8, $0x0100010001000100
DATA k23shuf<>+16(SB)/8, $0x0302030203020302
DATA k23shuf<>+24(SB)/8, $0x0302030203020302
DATA k23shuf<>+32(SB)/8, $0x0504050405040504
DATA k23shuf<>+40(SB)/8, $0x0504050405040504
DATA k23shuf<>+48(SB)/8, $0x0706070607060706
DATA k23shuf<>+56(SB)/8, $0x0706070607060706
DATA k23shuf<>+64(SB)/8, $0x0908090809080908
DATA k23shuf<>+72(SB)/8, $0x0908090809080908
DATA k23shuf<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k23shuf<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k23shuf<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k23shuf<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k23shuf<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k23shuf<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL k23shuf<>(SB), RODATA|NOPTR, $128

// k3hsh: VPSRLVD counts that move bit pair c (bits 2c, 2c+1) of each byte
// of the Q3_K scales' high-bit dword to the bottom, for dword c.
DATA k3hsh<>+0(SB)/8, $0x0000000200000000
DATA k3hsh<>+8(SB)/8, $0x0000000600000004
GLOBL k3hsh<>(SB), RODATA|NOPTR, $16

// Byte constants, broadcast from their first dword.
DATA k23b03<>+0(SB)/4, $0x03030303
GLOBL k23b03<>(SB), RODATA|NOPTR, $4
DATA k23b04<>+0(SB)/4, $0x04040404
GLOBL k23b04<>(SB), RODATA|NOPTR, $4
DATA k23b0f<>+0(SB)/4, $0x0f0f0f0f
GLOBL k23b0f<>(SB), RODATA|NOPTR, $4
DATA k23b20<>+0(SB)/4, $0x20202020
GLOBL k23b20<>(SB), RODATA|NOPTR, $4
DATA k23b30<>+0(SB)/4, $0x30303030
GLOBL k23b30<>(SB), RODATA|NOPTR, $4

// K23_MAC adds to Y14 the 32 products of the unsigned quants in Y6 with
// the activations at off(R11), each 16 of them times its 16-bit scale:
// pattern shuf of k23shuf picks the two scales in use from sc.
#define K23_MAC(off, shuf, sc) \
	VPMADDUBSW off(R11), Y6, Y6; \
	VPSHUFB k23shuf<>+shuf(SB), sc, Y7; \
	VPMADDWD Y7, Y6, Y6; \
	VPADDD Y6, Y14, Y14

// Q2_FIELD sets Y6 to bits 2s..2s+1 (sh = 2s) of each quant byte in Y5.
#define Q2_FIELD(sh) \
	VPSRLW $sh, Y5, Y6; \
	VPAND Y13, Y6, Y6

// func vecQ2_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// Q2_K block (84 bytes): scales[16] @0 (scale in the low nibble, min in
// the high one), qs[64] @16, fp16 d @80, fp16 dmin @82. Value 128h+32s+l
// is bits 2s..2s+1 of qs[32h+l], times the scale of sub-block 8h+2s+l/16.
TEXT ·vecQ2_KAVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VPBROADCASTD k23b0f<>(SB), Y15
	VPBROADCASTD k23b03<>(SB), Y13
q2krow:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VXORPS X0, X0, X0
q2kblock:
	PREFETCHT0 7680(R10)
	PREFETCHT0 7744(R10)
	// Scale bytes as words: their high nibbles (mins) times bsums give
	// summs as eight 32-bit partial sums in Y2; the low nibbles are the
	// scales, Y3 holding those of sub-blocks 0-7 in both halves, Y4 8-15.
	VPMOVZXBW (R10), Y1
	VPSRLW $4, Y1, Y2
	VPMADDWD 260(R11), Y2, Y2
	VPAND Y15, Y1, Y1
	VPERMQ $0x44, Y1, Y3
	VPERMQ $0xee, Y1, Y4
	// First 128 values: quants qs[0..31], activations 0..127.
	VMOVDQU 16(R10), Y5
	VPAND Y13, Y5, Y6
	VPMADDUBSW 4(R11), Y6, Y6
	VPSHUFB k23shuf<>+0(SB), Y3, Y7
	VPMADDWD Y7, Y6, Y14
	Q2_FIELD(2)
	K23_MAC(36, 32, Y3)
	Q2_FIELD(4)
	K23_MAC(68, 64, Y3)
	Q2_FIELD(6)
	K23_MAC(100, 96, Y3)
	// Last 128 values: qs[32..63], activations 128..255.
	VMOVDQU 48(R10), Y5
	VPAND Y13, Y5, Y6
	K23_MAC(132, 0, Y4)
	Q2_FIELD(2)
	K23_MAC(164, 32, Y4)
	Q2_FIELD(4)
	K23_MAC(196, 64, Y4)
	Q2_FIELD(6)
	K23_MAC(228, 96, Y4)
	// X6 = [isum, summs, isum, summs].
	VPHADDD Y2, Y14, Y6
	VEXTRACTI128 $1, Y6, X7
	VPADDD X7, X6, X6
	VPHADDD X6, X6, X6
	VCVTDQ2PS X6, X6
	// sumf += d*yd*isum - dmin*yd*summs.
	VMOVD 80(R10), X7
	VCVTPH2PS X7, X7
	VBROADCASTSS (R11), X8
	VMULPS X8, X7, X7
	VMULPS X6, X7, X7
	VMOVSHDUP X7, X8
	VSUBSS X8, X7, X7
	VADDSS X7, X0, X0
	ADDQ $84, R10
	ADDQ $292, R11
	DECQ R12
	JNZ q2kblock
	ROW_END(X0, q2krow)

// Q3_FIELD sets Y6 to the 3-bit quants (q+4, in [0, 8)) of field s of the
// 32 values in Y5 (qs) and Y8 (hmask): bits 2s..2s+1 of the qs bytes
// (qsh = 2s), and hmask bit 4h+s moved to bit 2 by hop (VPSLLW/VPSRLW) by
// hsh.
#define Q3_FIELD(qsh, hop, hsh) \
	VPSRLW $qsh, Y5, Y6; \
	hop $hsh, Y8, Y9; \
	VPAND Y13, Y6, Y6; \
	VPAND Y12, Y9, Y9; \
	VPOR Y9, Y6, Y6

// Q3_SCALES sets Y1 to the sixteen signed scales of the Q3_K block at R10
// as words: the low nibbles of scale bytes 0-7 then their high nibbles,
// or'ed with bits 2c..2c+1 of bytes 8-11 (for dword c = 0..3) moved to
// bits 4-5, less 32. X15, X11 and X10 hold bytes 0x0f, 0x30 and 0x20.
#define Q3_SCALES \
	VMOVQ 96(R10), X1; \
	VPSRLW $4, X1, X2; \
	VPUNPCKLQDQ X2, X1, X1; \
	VPAND X15, X1, X1; \
	VPBROADCASTD 104(R10), X2; \
	VPSRLVD k3hsh<>(SB), X2, X2; \
	VPSLLD $4, X2, X2; \
	VPAND X11, X2, X2; \
	VPOR X2, X1, X1; \
	VPSUBB X10, X1, X1; \
	VPMOVSXBW X1, Y1

// func vecQ3_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// Q3_K block (110 bytes): hmask[32] @0, qs[64] @32, scales[12] @96 (16
// 6-bit scales biased by 32), fp16 d @108. Value 128h+32s+l is q-4 for the
// 3-bit q of bits 2s..2s+1 of qs[32h+l] and bit 4h+s of hmask[l], times
// the scale of sub-block 8h+2s+l/16. The loop multiplies q itself and
// subtracts 4*sum(scale*bsum).
TEXT ·vecQ3_KAVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VPBROADCASTD k23b0f<>(SB), Y15
	VPBROADCASTD k23b03<>(SB), Y13
	VPBROADCASTD k23b04<>(SB), Y12
	VPBROADCASTD k23b30<>(SB), X11
	VPBROADCASTD k23b20<>(SB), X10
q3krow:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VXORPS X0, X0, X0
q3kblock:
	PREFETCHT0 8192(R10)
	PREFETCHT0 8256(R10)
	Q3_SCALES
	// The -4 of every quant: 4*sum(scale*bsum) in Y2, subtracted at the
	// end.
	VPMADDWD 260(R11), Y1, Y2
	VPSLLD $2, Y2, Y2
	VPERMQ $0x44, Y1, Y3
	VPERMQ $0xee, Y1, Y4
	// First 128 values: hmask bits 0-3, qs[0..31]. The hmask bit goes to
	// bit 2 by a shift left by 2 (s = 0), by 1, none, right by 1 (s = 3).
	VMOVDQU (R10), Y8
	VMOVDQU 32(R10), Y5
	VPAND Y13, Y5, Y6
	VPSLLW $2, Y8, Y9
	VPAND Y12, Y9, Y9
	VPOR Y9, Y6, Y6
	VPMADDUBSW 4(R11), Y6, Y6
	VPSHUFB k23shuf<>+0(SB), Y3, Y7
	VPMADDWD Y7, Y6, Y14
	Q3_FIELD(2, VPSLLW, 1)
	K23_MAC(36, 32, Y3)
	VPSRLW $4, Y5, Y6
	VPAND Y12, Y8, Y9
	VPAND Y13, Y6, Y6
	VPOR Y9, Y6, Y6
	K23_MAC(68, 64, Y3)
	Q3_FIELD(6, VPSRLW, 1)
	K23_MAC(100, 96, Y3)
	// Last 128 values: hmask bits 4-7 (shifts right by 2 to 5), qs[32..63].
	VMOVDQU 64(R10), Y5
	VPAND Y13, Y5, Y6
	VPSRLW $2, Y8, Y9
	VPAND Y12, Y9, Y9
	VPOR Y9, Y6, Y6
	K23_MAC(132, 0, Y4)
	Q3_FIELD(2, VPSRLW, 3)
	K23_MAC(164, 32, Y4)
	Q3_FIELD(4, VPSRLW, 4)
	K23_MAC(196, 64, Y4)
	Q3_FIELD(6, VPSRLW, 5)
	K23_MAC(228, 96, Y4)
	VPSUBD Y2, Y14, Y14
	VEXTRACTI128 $1, Y14, X6
	VPADDD X6, X14, X14
	VPSHUFD $0x4e, X14, X6
	VPADDD X6, X14, X14
	VPSHUFD $0xb1, X14, X6
	VPADDD X6, X14, X14
	VCVTDQ2PS X14, X14
	// sumf += d*yd*isum.
	MOVWLZX 108(R10), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (R11), X6, X6
	VMULSS X14, X6, X6
	VADDSS X6, X0, X0
	ADDQ $110, R10
	ADDQ $292, R11
	DECQ R12
	JNZ q3kblock
	ROW_END(X0, q3krow)

// k23w: VPERMW indices spreading 16-bit scales over a ZMM register of
// 16-bit products of 64 consecutive values: table c (at 64*c) fills
// quarter j (16 values, one sub-block) with word 4c+j.
DATA k23w<>+0(SB)/8, $0x0000000000000000
DATA k23w<>+8(SB)/8, $0x0000000000000000
DATA k23w<>+16(SB)/8, $0x0001000100010001
DATA k23w<>+24(SB)/8, $0x0001000100010001
DATA k23w<>+32(SB)/8, $0x0002000200020002
DATA k23w<>+40(SB)/8, $0x0002000200020002
DATA k23w<>+48(SB)/8, $0x0003000300030003
DATA k23w<>+56(SB)/8, $0x0003000300030003
DATA k23w<>+64(SB)/8, $0x0004000400040004
DATA k23w<>+72(SB)/8, $0x0004000400040004
DATA k23w<>+80(SB)/8, $0x0005000500050005
DATA k23w<>+88(SB)/8, $0x0005000500050005
DATA k23w<>+96(SB)/8, $0x0006000600060006
DATA k23w<>+104(SB)/8, $0x0006000600060006
DATA k23w<>+112(SB)/8, $0x0007000700070007
DATA k23w<>+120(SB)/8, $0x0007000700070007
DATA k23w<>+128(SB)/8, $0x0008000800080008
DATA k23w<>+136(SB)/8, $0x0008000800080008
DATA k23w<>+144(SB)/8, $0x0009000900090009
DATA k23w<>+152(SB)/8, $0x0009000900090009
DATA k23w<>+160(SB)/8, $0x000a000a000a000a
DATA k23w<>+168(SB)/8, $0x000a000a000a000a
DATA k23w<>+176(SB)/8, $0x000b000b000b000b
DATA k23w<>+184(SB)/8, $0x000b000b000b000b
DATA k23w<>+192(SB)/8, $0x000c000c000c000c
DATA k23w<>+200(SB)/8, $0x000c000c000c000c
DATA k23w<>+208(SB)/8, $0x000d000d000d000d
DATA k23w<>+216(SB)/8, $0x000d000d000d000d
DATA k23w<>+224(SB)/8, $0x000e000e000e000e
DATA k23w<>+232(SB)/8, $0x000e000e000e000e
DATA k23w<>+240(SB)/8, $0x000f000f000f000f
DATA k23w<>+248(SB)/8, $0x000f000f000f000f
GLOBL k23w<>(SB), RODATA|NOPTR, $256

// Byte constants for the Q3_K hmask tests.
DATA k23b01<>+0(SB)/4, $0x01010101
GLOBL k23b01<>(SB), RODATA|NOPTR, $4
DATA k23b10<>+0(SB)/4, $0x10101010
GLOBL k23b10<>(SB), RODATA|NOPTR, $4
DATA k23b40<>+0(SB)/4, $0x40404040
GLOBL k23b40<>(SB), RODATA|NOPTR, $4

// K23_SETUP512 loads what both AVX-512 loops keep in registers: the scale
// spreading indices (Z24-Z27), 0x03 bytes (Z13), and in K1 the upper half
// (qwords 4-7) of a ZMM register.
#define K23_SETUP512 \
	VMOVDQU64 k23w<>+0(SB), Z24; \
	VMOVDQU64 k23w<>+64(SB), Z25; \
	VMOVDQU64 k23w<>+128(SB), Z26; \
	VMOVDQU64 k23w<>+192(SB), Z27; \
	VPBROADCASTD k23b03<>(SB), Z13; \
	MOVL $0xf0, AX; \
	KMOVW AX, K1

// K23_HSUM512 sets X1 to the sum of the sixteen floats of Z30.
#define K23_HSUM512 \
	VEXTRACTF64X4 $1, Z30, Y1; \
	VADDPS Y30, Y1, Y1; \
	HSUM8(Y1, X1, X2)

// func vecQ2_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// Q2_K rows (see vecQ2_KAVX2) with 64 values a step: a ZMM register holds
// the 32 quant bytes of one half block twice, the upper copy shifted down
// by 2 bits, so its fields 2s..2s+1 in both halves (after a shift by 4 for
// odd chunks) are 64 consecutive values, whose activations are one load.
// The products go VPMADDUBSW (16-bit pairs) then VPDPWSSD with the scales
// (32-bit); each block's integer sums are scaled and added to float
// accumulators, reduced at the row's end. The sums are those of the
// portable kernel, in another order.
TEXT ·vecQ2_KAVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	K23_SETUP512
	VPBROADCASTD k23b0f<>(SB), Y15
q2k5row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VPXORD Z30, Z30, Z30
	VPXORD Z23, Z23, Z23
q2k5block:
	PREFETCHT0 7680(R10)
	PREFETCHT0 7744(R10)
	// Scale bytes as words: the low nibbles (scales) in Y1; the high ones
	// (mins) times bsums as eight 32-bit sums in Y2.
	VPMOVZXBW (R10), Y1
	VPSRLW $4, Y1, Y2
	VPMADDWD 260(R11), Y2, Y2
	VPAND Y15, Y1, Y1
	// Values 0-127: qs[0..31].
	VBROADCASTI64X4 16(R10), Z5
	VPSRLQ $2, Z5, K1, Z5
	VPANDD Z13, Z5, Z6
	VPMADDUBSW 4(R11), Z6, Z6
	VPERMW Z1, Z24, Z7
	VPMADDWD Z7, Z6, Z14
	VPSRLW $4, Z5, Z6
	VPANDD Z13, Z6, Z6
	VPMADDUBSW 68(R11), Z6, Z6
	VPERMW Z1, Z25, Z7
	VPDPWSSD Z7, Z6, Z14
	// Values 128-255: qs[32..63].
	VBROADCASTI64X4 48(R10), Z5
	VPSRLQ $2, Z5, K1, Z5
	VPANDD Z13, Z5, Z6
	VPMADDUBSW 132(R11), Z6, Z6
	VPERMW Z1, Z26, Z7
	VPDPWSSD Z7, Z6, Z14
	VPSRLW $4, Z5, Z6
	VPANDD Z13, Z6, Z6
	VPMADDUBSW 196(R11), Z6, Z6
	VPERMW Z1, Z27, Z7
	VPDPWSSD Z7, Z6, Z14
	// Z30 += d*yd*isum, Z23 += dmin*yd*summs (lane by lane): Z7 is
	// [d*yd, dmin*yd] eight times.
	VPBROADCASTD 80(R10), Y7
	VCVTPH2PS Y7, Z7
	VMULPS.BCST (R11), Z7, Z7
	VCVTDQ2PS Z14, Z14
	VCVTDQ2PS Y2, Y2
	VMOVSLDUP Z7, Z8
	VFMADD231PS Z8, Z14, Z30
	VMOVSHDUP Y7, Y9
	VFMADD231PS Y9, Y2, Y23
	ADDQ $84, R10
	ADDQ $292, R11
	DECQ R12
	JNZ q2k5block
	K23_HSUM512
	VEXTRACTF32X4 $1, Y23, X3
	VADDPS X23, X3, X3
	HSUM4(X3, X4)
	VSUBSS X3, X1, X1
	ROW_END(X1, q2k5row)

// Q3_CHUNK512 adds to Z14 the products of the 64 values of chunk c
// (values 64c..64c+63): src holds their 2-bit fields (bits 0-1 of each
// byte, other bits still to be masked); bit (Z16, Z12, Z18, Z19: bytes
// 0x01, 0x04, 0x10, 0x40 for c = 0..3) selects their hmask bits in Z8,
// whose set ones add 4 (Z12) to the field; the activations are at
// off(R11) and idx (Z24-Z27) spreads the chunk's scales. op is VPMADDWD
// for the first chunk (which sets Z14), VPDPWSSD after.
#define Q3_CHUNK512(src, bit, off, idx, op) \
	VPANDD Z13, src, Z6; \
	VPTESTMB bit, Z8, K2; \
	VPADDB Z12, Z6, K2, Z6; \
	VPMADDUBSW off(R11), Z6, Z6; \
	VPERMW Z1, idx, Z7; \
	op Z7, Z6, Z14

// func vecQ3_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// Q3_K rows (see vecQ3_KAVX2) with 64 values a step, as vecQ2_KAVX512:
// the hmask is held twice in a ZMM register, the upper copy shifted down
// by one bit, so that bit 2c of every byte is the high bit of chunk c's
// values; VPTESTMB turns it into a byte mask that adds 4 to the 2-bit
// fields. The sums are those of the portable kernel, in another order.
TEXT ·vecQ3_KAVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	K23_SETUP512
	VPBROADCASTD k23b0f<>(SB), X15
	VPBROADCASTD k23b30<>(SB), X11
	VPBROADCASTD k23b20<>(SB), X10
	VPBROADCASTD k23b04<>(SB), Z12
	VPBROADCASTD k23b01<>(SB), Z16
	VPBROADCASTD k23b10<>(SB), Z18
	VPBROADCASTD k23b40<>(SB), Z19
q3k5row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VPXORD Z30, Z30, Z30
q3k5block:
	PREFETCHT0 8192(R10)
	PREFETCHT0 8256(R10)
	Q3_SCALES
	// 4*sum(scale*bsum), subtracted at the end for the -4 of every quant.
	VPMADDWD 260(R11), Y1, Y2
	VPSLLD $2, Y2, Y2
	VBROADCASTI64X4 (R10), Z8
	VPSRLQ $1, Z8, K1, Z8
	// Values 0-127: qs[0..31], hmask bits 0-3.
	VBROADCASTI64X4 32(R10), Z5
	VPSRLQ $2, Z5, K1, Z5
	Q3_CHUNK512(Z5, Z16, 4, Z24, VPMADDWD)
	VPSRLW $4, Z5, Z6
	Q3_CHUNK512(Z6, Z12, 68, Z25, VPDPWSSD)
	// Values 128-255: qs[32..63], hmask bits 4-7.
	VBROADCASTI64X4 64(R10), Z5
	VPSRLQ $2, Z5, K1, Z5
	Q3_CHUNK512(Z5, Z18, 132, Z26, VPDPWSSD)
	VPSRLW $4, Z5, Z6
	Q3_CHUNK512(Z6, Z19, 196, Z27, VPDPWSSD)
	VPSUBD Z2, Z14, Z14
	// Z30 += d*yd*isum (lane by lane).
	VCVTDQ2PS Z14, Z14
	VPBROADCASTW 108(R10), Y6
	VCVTPH2PS Y6, Z6
	VMULPS.BCST (R11), Z6, Z6
	VFMADD231PS Z6, Z14, Z30
	ADDQ $110, R10
	ADDQ $292, R11
	DECQ R12
	JNZ q3k5block
	K23_HSUM512
	ROW_END(X1, q3k5row)
