#include "textflag.h"
#include "hsum_amd64.h"
#include "floatrow_amd64.h"
#include "prefetch_amd64.h"

// Row loops for BF16 and Q5_K weights (installed by bf16q5k_amd64.go).
// Like those of kernels_amd64.s, each computes y[i], i < rows, for the
// weight row at w + i*rb against the prepared activations at xq. These
// keep float accumulators (several lanes, summed at the row's end), so
// their results equal the portable kernels' within float rounding.

// BF16_REST ends a row of the AVX2 BF16 loops: eight values at a time
// into Y0 (each zero-extended and shifted into a float32's top half), the
// accumulators summed, the last nb%8 values one at a time into the sum,
// and the row stored (ROW_END); by8, sum, one and done are its labels,
// row the row loop's.
#define BF16_REST(by8, sum, one, done, row) \
by8: \
	CMPQ R12, $8; \
	JB sum; \
	VPMOVZXWD (R10), Y4; \
	VPSLLD $16, Y4, Y4; \
	VFMADD231PS (R11), Y4, Y0; \
	ADDQ $16, R10; \
	ADDQ $32, R11; \
	SUBQ $8, R12; \
	JMP by8; \
sum: \
	FROW_SUM; \
	TESTQ R12, R12; \
	JZ done; \
one: \
	MOVWLZX (R10), AX; \
	SHLL $16, AX; \
	VMOVD AX, X4; \
	VFMADD231SS (R11), X4, X0; \
	ADDQ $2, R10; \
	ADDQ $4, R11; \
	DECQ R12; \
	JNZ one; \
done: \
	ROW_END(X0, row)

// func vecBF16AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// nb is the number of values per row; xq holds float32 activations. A
// bfloat16 is the top half of a float32: zero-extending eight of them to
// 32 bits and shifting each left by 16 gives eight floats, which go
// straight into FMAs with the activations (four accumulators). The last
// nb%8 values are taken one by one.
TEXT ·vecBF16AVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
bf2row:
	FROW_START
	CMPQ R12, $32
	JB bf2by8
bf2by32:
	// 32 values: 64 bytes of weights, 128 of activations.
	PREFETCHT0 8192(R10)
	VPMOVZXWD (R10), Y4
	VPMOVZXWD 16(R10), Y5
	VPMOVZXWD 32(R10), Y6
	VPMOVZXWD 48(R10), Y7
	VPSLLD $16, Y4, Y4
	VPSLLD $16, Y5, Y5
	VPSLLD $16, Y6, Y6
	VPSLLD $16, Y7, Y7
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y5, Y1
	VFMADD231PS 64(R11), Y6, Y2
	VFMADD231PS 96(R11), Y7, Y3
	ADDQ $64, R10
	ADDQ $128, R11
	SUBQ $32, R12
	CMPQ R12, $32
	JAE bf2by32
	BF16_REST(bf2by8, bf2sum, bf2one, bf2done, bf2row)

// func vecBF16UAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// vecBF16AVX2 over activations in the order its widening takes the
// weights (actBF16U): each 32 bytes of a row, 16 values, go into the high
// words of two registers of dwords with zeros below (VPUNPCKLWD and
// VPUNPCKHWD, which take values 0-3 and 8-11, then 4-7 and 12-15), which
// is each value as a float32, with no shifts: one operation for eight
// values instead of two. Thirty-two values a step into four accumulators,
// then 16 into the first, then the values past the last 16 as vecBF16AVX2
// takes them (BF16_REST): the sums of vecBF16AVX2 over rows and
// activations put in that order. It prefetches as pf says
// (prefetch_amd64.h); its speed is in bf16q5k_amd64.go.
TEXT ·vecBF16UAVX2(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), R14
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VPXOR Y14, Y14, Y14
bfurow:
	FROW_START
	CMPQ R12, $32
	JB bfuby16
bfuby32:
	PFLINES1(R14)
	VMOVDQU (R10), Y5
	VMOVDQU 32(R10), Y7
	VPUNPCKLWD Y5, Y14, Y4
	VPUNPCKHWD Y5, Y14, Y5
	VPUNPCKLWD Y7, Y14, Y6
	VPUNPCKHWD Y7, Y14, Y7
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y5, Y1
	VFMADD231PS 64(R11), Y6, Y2
	VFMADD231PS 96(R11), Y7, Y3
	ADDQ $64, R10
	ADDQ $128, R11
	SUBQ $32, R12
	CMPQ R12, $32
	JAE bfuby32
bfuby16:
	CMPQ R12, $16
	JB bfuby8
	VMOVDQU (R10), Y5
	VPUNPCKLWD Y5, Y14, Y4
	VPUNPCKHWD Y5, Y14, Y5
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y5, Y0
	ADDQ $32, R10
	ADDQ $64, R11
	SUBQ $16, R12
	BF16_REST(bfuby8, bfusum, bfuone, bfudone, bfurow)

// func vecBF16AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// vecBF16AVX2 with ZMM registers: sixteen values per VPMOVZXWD, 64 per
// iteration into four accumulators, then 16 at a time, and the last nb%16
// values in one step under a mask (masked-off lanes are neither loaded
// nor added).
TEXT ·vecBF16AVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	// K1 = the tail's mask, (1 << nb%16) - 1.
	MOVQ nb+40(FP), CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
bf5row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ R12, $64
	JB bf5by16
bf5by64:
	// 64 values: 128 bytes of weights, 256 of activations.
	PREFETCHT0 8192(R10)
	PREFETCHT0 8256(R10)
	VPMOVZXWD (R10), Z4
	VPMOVZXWD 32(R10), Z5
	VPMOVZXWD 64(R10), Z6
	VPMOVZXWD 96(R10), Z7
	VPSLLD $16, Z4, Z4
	VPSLLD $16, Z5, Z5
	VPSLLD $16, Z6, Z6
	VPSLLD $16, Z7, Z7
	VFMADD231PS (R11), Z4, Z0
	VFMADD231PS 64(R11), Z5, Z1
	VFMADD231PS 128(R11), Z6, Z2
	VFMADD231PS 192(R11), Z7, Z3
	ADDQ $128, R10
	ADDQ $256, R11
	SUBQ $64, R12
	CMPQ R12, $64
	JAE bf5by64
bf5by16:
	CMPQ R12, $16
	JB bf5tail
	VPMOVZXWD (R10), Z4
	VPSLLD $16, Z4, Z4
	VFMADD231PS (R11), Z4, Z0
	ADDQ $32, R10
	ADDQ $64, R11
	SUBQ $16, R12
	JMP bf5by16
bf5tail:
	TESTQ R12, R12
	JZ bf5sum
	VPMOVZXWD (R10), K1, Z4
	VPSLLD $16, Z4, Z4
	VFMADD231PS (R11), Z4, K1, Z1
bf5sum:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	HSUM8(Y0, X0, X1)
	ROW_END(X0, bf5row)

// Constants of vecQ5_KAVX512.
//
// k5sA, k5sB, k5sM, k5sH and k5three take apart the 12 packed scale bytes
// p[0..11] of a block into [s0..s7, m0..m7] (6 bits each):
// s0-3 = p0-3 & 63, s4-7 = p8-11 & 15 | (p0-3 >> 6) << 4,
// m0-3 = p4-7 & 63, m4-7 = p8-11 >> 4 | (p4-7 >> 6) << 4.
// k5sA gathers [p0-3, p8-11, p4-7, p8-11] (the low bits), k5sB
// [-, p0-3, -, p4-7] (the bytes whose top two bits become bits 4-5),
// k5sM keeps the 6 or 4 low bits of the first, k5sH the high nibbles
// of the last four.
DATA k5sA<>+0(SB)/8, $0x0b0a090803020100
DATA k5sA<>+8(SB)/8, $0x0b0a090807060504
GLOBL k5sA<>(SB), RODATA|NOPTR, $16
DATA k5sB<>+0(SB)/8, $0x0302010080808080
DATA k5sB<>+8(SB)/8, $0x0706050480808080
GLOBL k5sB<>(SB), RODATA|NOPTR, $16
DATA k5sM<>+0(SB)/8, $0x0f0f0f0f3f3f3f3f
DATA k5sM<>+8(SB)/8, $0x000000003f3f3f3f
GLOBL k5sM<>(SB), RODATA|NOPTR, $16
DATA k5sH<>+0(SB)/8, $0x0000000000000000
DATA k5sH<>+8(SB)/8, $0x0f0f0f0f00000000
GLOBL k5sH<>(SB), RODATA|NOPTR, $16
DATA k5three<>+0(SB)/8, $0x0303030303030303
DATA k5three<>+8(SB)/8, $0x0303030303030303
GLOBL k5three<>(SB), RODATA|NOPTR, $16

// k5byte: the byte constants 0x0f (a nibble) and 0x10 (the fifth bit).
DATA k5byte<>+0(SB)/1, $0x0f
DATA k5byte<>+1(SB)/1, $0x10
GLOBL k5byte<>(SB), RODATA|NOPTR, $2

// k5perm: four VPERMW index vectors, each picking from the words
// [s0..s7, m0..m7] the scales of the two sub-blocks a ZMM register of
// products covers (16 words each): s0|s2, s1|s3, s4|s6, s5|s7.
DATA k5perm<>+0(SB)/8, $0x0000000000000000
DATA k5perm<>+8(SB)/8, $0x0000000000000000
DATA k5perm<>+16(SB)/8, $0x0000000000000000
DATA k5perm<>+24(SB)/8, $0x0000000000000000
DATA k5perm<>+32(SB)/8, $0x0002000200020002
DATA k5perm<>+40(SB)/8, $0x0002000200020002
DATA k5perm<>+48(SB)/8, $0x0002000200020002
DATA k5perm<>+56(SB)/8, $0x0002000200020002
DATA k5perm<>+64(SB)/8, $0x0001000100010001
DATA k5perm<>+72(SB)/8, $0x0001000100010001
DATA k5perm<>+80(SB)/8, $0x0001000100010001
DATA k5perm<>+88(SB)/8, $0x0001000100010001
DATA k5perm<>+96(SB)/8, $0x0003000300030003
DATA k5perm<>+104(SB)/8, $0x0003000300030003
DATA k5perm<>+112(SB)/8, $0x0003000300030003
DATA k5perm<>+120(SB)/8, $0x0003000300030003
DATA k5perm<>+128(SB)/8, $0x0004000400040004
DATA k5perm<>+136(SB)/8, $0x0004000400040004
DATA k5perm<>+144(SB)/8, $0x0004000400040004
DATA k5perm<>+152(SB)/8, $0x0004000400040004
DATA k5perm<>+160(SB)/8, $0x0006000600060006
DATA k5perm<>+168(SB)/8, $0x0006000600060006
DATA k5perm<>+176(SB)/8, $0x0006000600060006
DATA k5perm<>+184(SB)/8, $0x0006000600060006
DATA k5perm<>+192(SB)/8, $0x0005000500050005
DATA k5perm<>+200(SB)/8, $0x0005000500050005
DATA k5perm<>+208(SB)/8, $0x0005000500050005
DATA k5perm<>+216(SB)/8, $0x0005000500050005
DATA k5perm<>+224(SB)/8, $0x0007000700070007
DATA k5perm<>+232(SB)/8, $0x0007000700070007
DATA k5perm<>+240(SB)/8, $0x0007000700070007
DATA k5perm<>+248(SB)/8, $0x0007000700070007
GLOBL k5perm<>(SB), RODATA|NOPTR, $256

// k5hbit: four VPTESTMB masks over qh broadcast to both halves of a ZMM
// register, one per register of values, picking the fifth bit of each
// value's sub-block: bits 0|2, 1|3, 4|6 and 5|7 (low half | high half).
DATA k5hbit<>+0(SB)/8, $0x0101010101010101
DATA k5hbit<>+8(SB)/8, $0x0101010101010101
DATA k5hbit<>+16(SB)/8, $0x0101010101010101
DATA k5hbit<>+24(SB)/8, $0x0101010101010101
DATA k5hbit<>+32(SB)/8, $0x0404040404040404
DATA k5hbit<>+40(SB)/8, $0x0404040404040404
DATA k5hbit<>+48(SB)/8, $0x0404040404040404
DATA k5hbit<>+56(SB)/8, $0x0404040404040404
DATA k5hbit<>+64(SB)/8, $0x0202020202020202
DATA k5hbit<>+72(SB)/8, $0x0202020202020202
DATA k5hbit<>+80(SB)/8, $0x0202020202020202
DATA k5hbit<>+88(SB)/8, $0x0202020202020202
DATA k5hbit<>+96(SB)/8, $0x0808080808080808
DATA k5hbit<>+104(SB)/8, $0x0808080808080808
DATA k5hbit<>+112(SB)/8, $0x0808080808080808
DATA k5hbit<>+120(SB)/8, $0x0808080808080808
DATA k5hbit<>+128(SB)/8, $0x1010101010101010
DATA k5hbit<>+136(SB)/8, $0x1010101010101010
DATA k5hbit<>+144(SB)/8, $0x1010101010101010
DATA k5hbit<>+152(SB)/8, $0x1010101010101010
DATA k5hbit<>+160(SB)/8, $0x4040404040404040
DATA k5hbit<>+168(SB)/8, $0x4040404040404040
DATA k5hbit<>+176(SB)/8, $0x4040404040404040
DATA k5hbit<>+184(SB)/8, $0x4040404040404040
DATA k5hbit<>+192(SB)/8, $0x2020202020202020
DATA k5hbit<>+200(SB)/8, $0x2020202020202020
DATA k5hbit<>+208(SB)/8, $0x2020202020202020
DATA k5hbit<>+216(SB)/8, $0x2020202020202020
DATA k5hbit<>+224(SB)/8, $0x8080808080808080
DATA k5hbit<>+232(SB)/8, $0x8080808080808080
DATA k5hbit<>+240(SB)/8, $0x8080808080808080
DATA k5hbit<>+248(SB)/8, $0x8080808080808080
GLOBL k5hbit<>(SB), RODATA|NOPTR, $256

// func vecQ5_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// Q5_K rows (176-byte blocks: d, dmin, 12 scale bytes, qh[32] @16,
// qs[128] @48) against actQ8_KP activations (act.go: sub-blocks stored
// 0 2 1 3 4 6 5 7, the eight sub-block sums at byte 256, d at 272), as
// vecQ4_KAVX512 does Q4_K. The 64 bytes of qs at 48 hold sub-blocks 0
// and 2 in their low nibbles, 1 and 3 in their high ones (and the 64 at
// 112 sub-blocks 4-7 alike), so each nibble register meets 64 adjacent
// activations. Value l of sub-block j takes bit j of qh[l] as its fifth
// bit: with qh broadcast to both 32-byte halves, one VPTESTMB per register
// marks the bytes whose bit is set, and a masked VPADDB adds 16 to them.
// The 5-bit values times the activations go VPMADDUBSW (16-bit pairs, at
// most 2*31*128 in magnitude), then VPMADDWD/VPDPWSSD with the scales
// (32-bit); each block's integer sums are scaled by d*yd into float
// accumulators, its mins term (mins times sub-block sums) by dmin*yd into
// another, and the horizontal sums wait for the row's end.
TEXT ·vecQ5_KAVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VMOVDQU k5sA<>(SB), X10
	VMOVDQU k5sB<>(SB), X11
	VMOVDQU k5sM<>(SB), X12
	VMOVDQU k5sH<>(SB), X13
	VMOVDQU k5three<>(SB), X14
	VPBROADCASTB k5byte<>+0(SB), Z28
	VPBROADCASTB k5byte<>+1(SB), Z29
	VMOVDQU64 k5perm<>+0(SB), Z24
	VMOVDQU64 k5perm<>+64(SB), Z25
	VMOVDQU64 k5perm<>+128(SB), Z26
	VMOVDQU64 k5perm<>+192(SB), Z27
	VMOVDQU64 k5hbit<>+0(SB), Z0
	VMOVDQU64 k5hbit<>+64(SB), Z9
	VMOVDQU64 k5hbit<>+128(SB), Z15
	VMOVDQU64 k5hbit<>+192(SB), Z31
q5x5row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VPXORD Z30, Z30, Z30
	VPXORD Z23, Z23, Z23
q5x5block:
	PREFETCHT0 8192(R10)
	PREFETCHT0 8256(R10)
	PREFETCHT0 8320(R10)
	// Scales and mins: X4 = [s0..s7, m0..m7] bytes, Y6 the same as words.
	VMOVDQU 4(R10), X1
	VPSHUFB X10, X1, X2
	VPSHUFB X11, X1, X3
	VPAND X12, X2, X4
	VPSRLW $4, X2, X5
	VPAND X13, X5, X5
	VPSRLW $6, X3, X3
	VPAND X14, X3, X3
	VPSLLW $4, X3, X3
	VPOR X5, X4, X4
	VPOR X3, X4, X4
	VPMOVZXBW X4, Y6
	// Mins times sub-block sums: four 32-bit pairs in X7.
	VEXTRACTI128 $1, Y6, X7
	VPMADDWD 256(R11), X7, X7
	// K1-K4: which values of each register get 16 added.
	VBROADCASTI64X4 16(R10), Z1
	VPTESTMB Z0, Z1, K1
	VPTESTMB Z9, Z1, K2
	VPTESTMB Z15, Z1, K3
	VPTESTMB Z31, Z1, K4
	// Sub-blocks 0-3: low nibbles (0|2) into Z17, high (1|3) into Z18.
	VMOVDQU64 48(R10), Z17
	VPSRLW $4, Z17, Z18
	VPANDD Z28, Z17, Z17
	VPANDD Z28, Z18, Z18
	VPADDB Z29, Z17, K1, Z17
	VPADDB Z29, Z18, K2, Z18
	VPMADDUBSW 0(R11), Z17, Z17
	VPMADDUBSW 64(R11), Z18, Z18
	VPERMW Z6, Z24, Z19
	VPERMW Z6, Z25, Z20
	VPMADDWD Z19, Z17, Z16
	VPMADDWD Z20, Z18, Z21
	// Sub-blocks 4-7 alike (4|6, 5|7).
	VMOVDQU64 112(R10), Z17
	VPSRLW $4, Z17, Z18
	VPANDD Z28, Z17, Z17
	VPANDD Z28, Z18, Z18
	VPADDB Z29, Z17, K3, Z17
	VPADDB Z29, Z18, K4, Z18
	VPMADDUBSW 128(R11), Z17, Z17
	VPMADDUBSW 192(R11), Z18, Z18
	VPERMW Z6, Z26, Z19
	VPERMW Z6, Z27, Z20
	VPDPWSSD Z19, Z17, Z16
	VPDPWSSD Z20, Z18, Z21
	// Z30 += d*yd * isum lanes; X23 += dmin*yd * mins lanes.
	VPADDD Z21, Z16, Z16
	VCVTDQ2PS Z16, Z16
	VCVTPH2PS (R10), X8
	VBROADCASTSS 272(R11), X2
	VMULPS X2, X8, X8
	VBROADCASTSS X8, Z22
	VFMADD231PS Z22, Z16, Z30
	VCVTDQ2PS X7, X7
	VMOVSHDUP X8, X2
	VBROADCASTSS X2, X2
	VFMADD231PS X2, X7, X23
	ADDQ $176, R10
	ADDQ $320, R11
	DECQ R12
	JNZ q5x5block
	// y = sum(Z30) - sum(X23).
	VEXTRACTF64X4 $1, Z30, Y1
	VADDPS Y30, Y1, Y1
	HSUM8(Y1, X1, X2)
	VMOVHLPS X23, X23, X4
	VADDPS X4, X23, X3
	VMOVSHDUP X3, X4
	VADDSS X4, X3, X3
	VSUBSS X3, X1, X1
	ROW_END(X1, q5x5row)
