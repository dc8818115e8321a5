#include "textflag.h"
#include "hsum_amd64.h"
#include "floatrow_amd64.h"
#include "prefetch_amd64.h"
#include "rowpair_amd64.h"

// Assembly row loops for MatVec/MatMul (see simd_amd64.go). Each computes
// y[i], i < rows, for the weight row at w + i*rb against the prepared
// activations at xq. Loops that reordered (simd_amd64.go) does not mark do
// qdot_generic.go's float arithmetic operation for operation, so their
// results are bit-identical to the portable kernels'; the marked ones are
// within float rounding of them.


DATA k4shuf<>+0(SB)/8, $0x0100010001000100
DATA k4shuf<>+8(SB)/8, $0x0100010001000100
DATA k4shuf<>+16(SB)/8, $0x0100010001000100
DATA k4shuf<>+24(SB)/8, $0x0100010001000100
DATA k4shuf<>+32(SB)/8, $0x0302030203020302
DATA k4shuf<>+40(SB)/8, $0x0302030203020302
DATA k4shuf<>+48(SB)/8, $0x0302030203020302
DATA k4shuf<>+56(SB)/8, $0x0302030203020302
DATA k4shuf<>+64(SB)/8, $0x0504050405040504
DATA k4shuf<>+72(SB)/8, $0x0504050405040504
DATA k4shuf<>+80(SB)/8, $0x0504050405040504
DATA k4shuf<>+88(SB)/8, $0x0504050405040504
DATA k4shuf<>+96(SB)/8, $0x0706070607060706
DATA k4shuf<>+104(SB)/8, $0x0706070607060706
DATA k4shuf<>+112(SB)/8, $0x0706070607060706
DATA k4shuf<>+120(SB)/8, $0x0706070607060706
DATA k4shuf<>+128(SB)/8, $0x0908090809080908
DATA k4shuf<>+136(SB)/8, $0x0908090809080908
DATA k4shuf<>+144(SB)/8, $0x0908090809080908
DATA k4shuf<>+152(SB)/8, $0x0908090809080908
DATA k4shuf<>+160(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k4shuf<>+168(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k4shuf<>+176(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k4shuf<>+184(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k4shuf<>+192(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k4shuf<>+200(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k4shuf<>+208(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k4shuf<>+216(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k4shuf<>+224(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k4shuf<>+232(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k4shuf<>+240(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k4shuf<>+248(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL k4shuf<>(SB), RODATA|NOPTR, $256

DATA k6shuf<>+0(SB)/8, $0x0100010001000100
DATA k6shuf<>+8(SB)/8, $0x0100010001000100
DATA k6shuf<>+16(SB)/8, $0x0302030203020302
DATA k6shuf<>+24(SB)/8, $0x0302030203020302
DATA k6shuf<>+32(SB)/8, $0x0504050405040504
DATA k6shuf<>+40(SB)/8, $0x0504050405040504
DATA k6shuf<>+48(SB)/8, $0x0706070607060706
DATA k6shuf<>+56(SB)/8, $0x0706070607060706
DATA k6shuf<>+64(SB)/8, $0x0908090809080908
DATA k6shuf<>+72(SB)/8, $0x0908090809080908
DATA k6shuf<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k6shuf<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k6shuf<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k6shuf<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k6shuf<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k6shuf<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL k6shuf<>(SB), RODATA|NOPTR, $128

DATA nib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL nib<>(SB), RODATA|NOPTR, $32

DATA ones16<>+0(SB)/8, $0x0001000100010001
DATA ones16<>+8(SB)/8, $0x0001000100010001
DATA ones16<>+16(SB)/8, $0x0001000100010001
DATA ones16<>+24(SB)/8, $0x0001000100010001
GLOBL ones16<>(SB), RODATA|NOPTR, $32

// Q80_ISUM leaves in Y(dst) the integer sums of the Q8_0 block at
// woff(R10) (its quants at woff+2) against the actQ8_0 quants at
// xoff(R11), eight dwords whose total is the block's (SIGNED_ISUM). Y15
// holds words of 1; Y2 and Y3 are scratch.
#define Q80_ISUM(woff, xoff, dst) \
	VMOVDQU woff+2(R10), Y2; \
	SIGNED_ISUM(xoff, dst, Y15)

// func vecQ8_0AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Q8_0 rows against actQ8_0 activations (rowpair_amd64.h): sum +=
// (d_w*d_x)*isum block after block, as the portable kernel and the
// interleaved loop (q8X8) do.
TEXT ·vecQ8_0AVX2(SB), NOSPLIT, $0-56
	ROW_ARGS
	VMOVDQU ones16<>(SB), Y15
	ROWS(Q80_ISUM, QD_FLOATS, 34, q80row, q80pair, q80tail, q80done)

// The Q5_K loop's steps (the AVX2 Q4_K loop has its own, K4X_*): unpack a
// super-block's 6-bit scales and mins (ggml's utmp shuffle; bytes 0-7 of X1
// are the scales, 8-15 the mins), form the mins term (K4_MINS: X2 = mins
// times the bsums, Y3 the scales as words in both lanes), and finish a
// super-block from its integer sum (X14) into the float sum X0.
#define K4_SCALES \
	MOVL 4(R10), AX; \
	MOVL 8(R10), BX; \
	MOVL 12(R10), CX; \
	MOVL CX, DX; \
	SHRL $4, DX; \
	ANDL $0x0f0f0f0f, DX; \
	MOVL BX, R8; \
	SHRL $6, R8; \
	ANDL $0x03030303, R8; \
	SHLL $4, R8; \
	ORL R8, DX; \
	ANDL $0x3f3f3f3f, BX; \
	ANDL $0x0f0f0f0f, CX; \
	MOVL AX, R8; \
	SHRL $6, R8; \
	ANDL $0x03030303, R8; \
	SHLL $4, R8; \
	ORL R8, CX; \
	ANDL $0x3f3f3f3f, AX; \
	VMOVD AX, X1; \
	VPINSRD $1, CX, X1, X1; \
	VPINSRD $2, BX, X1, X1; \
	VPINSRD $3, DX, X1, X1
#define K4_MINS \
	VPMOVZXBW X1, Y1; \
	VEXTRACTI128 $1, Y1, X2; \
	VPERMQ $0x44, Y1, Y3; \
	VMOVDQU 260(R11), Y4; \
	VEXTRACTI128 $1, Y4, X5; \
	VPHADDW X5, X4, X4; \
	VPMADDWD X4, X2, X2
#define K4_FINISH \
	VEXTRACTI128 $1, Y14, X6; \
	VPADDD X6, X14, X14; \
	VPSHUFD $0x4e, X14, X6; \
	VPADDD X6, X14, X14; \
	VPSHUFD $0xb1, X14, X6; \
	VPADDD X6, X14, X14; \
	VPSHUFD $0x4e, X2, X6; \
	VPADDD X6, X2, X2; \
	VPSHUFD $0xb1, X2, X6; \
	VPADDD X6, X2, X2; \
	VCVTDQ2PS X14, X14; \
	VCVTDQ2PS X2, X2; \
	VCVTPH2PS (R10), X6; \
	VBROADCASTSS (R11), X7; \
	VMULPS X7, X6, X6; \
	VMULSS X14, X6, X8; \
	VMOVSHDUP X6, X9; \
	VMULSS X2, X9, X9; \
	VSUBSS X9, X8, X8; \
	VADDSS X8, X0, X0

// Constants of K4X_SCALES: VPSHUFB indices and masks that take a Q4_K
// super-block's 12 packed scale bytes p[0..11] apart into [s0..s7, m0..m7]
// (0x80 selects zero).
DATA k4xi1<>+0(SB)/8, $0x0b0a090803020100
DATA k4xi1<>+8(SB)/8, $0x8080808007060504
GLOBL k4xi1<>(SB), RODATA|NOPTR, $16
DATA k4xm1<>+0(SB)/8, $0x0f0f0f0f3f3f3f3f
DATA k4xm1<>+8(SB)/8, $0x000000003f3f3f3f
GLOBL k4xm1<>(SB), RODATA|NOPTR, $16
DATA k4xi2<>+0(SB)/8, $0x8080808080808080
DATA k4xi2<>+8(SB)/8, $0x0b0a090880808080
GLOBL k4xi2<>(SB), RODATA|NOPTR, $16
DATA k4xi3<>+0(SB)/8, $0x0302010080808080
DATA k4xi3<>+8(SB)/8, $0x0706050480808080
GLOBL k4xi3<>(SB), RODATA|NOPTR, $16
DATA k4xm3<>+0(SB)/8, $0x0303030303030303
DATA k4xm3<>+8(SB)/8, $0x0303030303030303
GLOBL k4xm3<>(SB), RODATA|NOPTR, $16

// K4X_SCALES unpacks the 6-bit scales and mins of the super-block at R10
// with byte shuffles into X1: bytes 0-7 the scales, 8-15 the mins. For
// j < 4, s_j = p[j]&63 and m_j = p[j+4]&63; for j >= 4, the low four bits
// are the low (s) and high (m) nibbles of p[j+4], the high two bits the
// top bits of p[j-4] (s) and p[j] (m). (The 16-byte load reads four
// bytes of the quants after the scales.) Clobbers X3-X5.
#define K4X_SCALES \
	VMOVDQU 4(R10), X3; \
	VPSRLW $4, X3, X4; \
	VPSRLW $6, X3, X5; \
	VPSHUFB k4xi1<>(SB), X3, X1; \
	VPAND k4xm1<>(SB), X1, X1; \
	VPSHUFB k4xi2<>(SB), X4, X4; \
	VPAND nib<>(SB), X4, X4; \
	VPOR X4, X1, X1; \
	VPSHUFB k4xi3<>(SB), X5, X5; \
	VPAND k4xm3<>(SB), X5, X5; \
	VPSLLW $4, X5, X5; \
	VPOR X5, X1, X1

// K4X_MINS widens the scales and mins in X1 (K4X_SCALES) to 16-bit words,
// the scales s0..s7 into X3 (so that 32-bit word k is the pair s2k, s2k+1)
// and the mins into X2, and leaves in X2 the mins times the activations'
// sums of each sub-block (actQ8_KP keeps those eight sums at 256).
#define K4X_MINS \
	VPMOVZXBW X1, X3; \
	VPSRLDQ $8, X1, X2; \
	VPMOVZXBW X2, X2; \
	VPMADDWD 256(R11), X2, X2

// K4X_PAIR adds to X14 the scaled integer sums of sub-blocks 2k and 2k+1
// (the low and high nibbles of the 32 bytes at woff(R10)) against their
// activations at aoff and boff (R11); sel is k times 0x55. VPMADDUBSW
// leaves 16 words a sub-block; interleaving the two sub-blocks' words and
// adding halves, then the two 128-bit lanes, folds them into eight words
// that alternate between the two (each at most 4*2*15*128, inside 16
// bits), so one 128-bit VPMADDWD applies both scales. Cores that split
// 256-bit operations (Zen 1 and 2) issue about three vector operations a
// cycle, and the fold takes fewer than a multiply by scales per sub-block.
#define K4X_PAIR(woff, aoff, boff, sel) \
	VMOVDQU woff(R10), Y6; \
	VPSRLW $4, Y6, Y7; \
	VPAND Y15, Y6, Y6; \
	VPAND Y15, Y7, Y7; \
	VPMADDUBSW aoff(R11), Y6, Y6; \
	VPMADDUBSW boff(R11), Y7, Y7; \
	VPUNPCKLWD Y7, Y6, Y8; \
	VPUNPCKHWD Y7, Y6, Y9; \
	VPADDW Y9, Y8, Y8; \
	VEXTRACTI128 $1, Y8, X9; \
	VPADDW X9, X8, X8; \
	VPSHUFD $sel, X3, X10; \
	VPMADDWD X10, X8, X8; \
	VPADDD X8, X14, X14

// K4X_ACC finishes a super-block as the portable kernel does, in its
// order: its integer sums (X14, four lanes) and mins term (X2, four lanes)
// are added up exactly, and X0 += d*dx*isum - dmin*dx*summs (the interleaved
// loop, q4KX8, does the same steps, so that streamed and resident spans
// give the same bits).
#define K4X_ACC \
	VPHADDD X2, X14, X14; \
	VPHADDD X14, X14, X14; \
	VCVTDQ2PS X14, X14; \
	VCVTPH2PS (R10), X6; \
	VBROADCASTSS 272(R11), X7; \
	VMULPS X7, X6, X6; \
	VMULPS X14, X6, X6; \
	VMOVSHDUP X6, X8; \
	VSUBSS X8, X6, X6; \
	VADDSS X6, X0, X0

// func vecQ4_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Q4_K rows against actQ8_KP activations (sub-blocks in the order 0 2 1 3
// 4 6 5 7, the eight sub-block sums at 256, d at 272), a pair of
// sub-blocks at a time (K4X_PAIR), each super-block finished as the
// portable kernel does (K4X_ACC): its results are the portable kernel's.
TEXT ·vecQ4_KAVX2(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), R14
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VMOVDQU nib<>(SB), Y15
q4krow:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VXORPS X0, X0, X0
q4kblock:
	PFLINES3(R14)
	K4X_SCALES
	K4X_MINS
	VPXOR X14, X14, X14
	K4X_PAIR(16, 0, 64, 0x00)
	K4X_PAIR(48, 32, 96, 0x55)
	K4X_PAIR(80, 128, 192, 0xaa)
	K4X_PAIR(112, 160, 224, 0xff)
	K4X_ACC
	ADDQ $144, R10
	ADDQ $320, R11
	DECQ R12
	JNZ q4kblock
	ROW_END(X0, q4krow)

// func vecQ6_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
TEXT ·vecQ6_KAVX2(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), R14
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VMOVDQU nib<>(SB), Y15
	MOVL $0x03030303, AX
	VMOVD AX, X10
	VPBROADCASTD X10, Y10
	MOVL $0x0c0c0c0c, AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11
	MOVL $0x30303030, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12
	MOVL $0xc0c0c0c0, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
q6krow:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VXORPS X0, X0, X0
q6kblock:
	PFLINES4(R14)
	// The quants are used unsigned (q in [0, 64)); 32*sum(sc*bsum) is
	// subtracted at the start.
	VPMOVSXBW 192(R10), Y1
	VPMADDWD 260(R11), Y1, Y2
	VPSLLD $5, Y2, Y2
	VPXOR Y14, Y14, Y14
	VPSUBD Y2, Y14, Y14
	VPERMQ $0x44, Y1, Y3
	VPERMQ $0xee, Y1, Y4
	VMOVDQU 128(R10), Y5
	VMOVDQU 0(R10), Y6
	VMOVDQU 32(R10), Y7
	VPAND Y15, Y6, Y8
	VPAND Y10, Y5, Y9
	VPSLLW $4, Y9, Y9
	VPOR Y9, Y8, Y8
	VPMADDUBSW 4(R11), Y8, Y8
	VPSHUFB k6shuf<>+0(SB), Y3, Y9
	VPMADDWD Y9, Y8, Y8
	VPADDD Y8, Y14, Y14
	VPAND Y15, Y7, Y8
	VPAND Y11, Y5, Y9
	VPSLLW $2, Y9, Y9
	VPOR Y9, Y8, Y8
	VPMADDUBSW 36(R11), Y8, Y8
	VPSHUFB k6shuf<>+32(SB), Y3, Y9
	VPMADDWD Y9, Y8, Y8
	VPADDD Y8, Y14, Y14
	VPSRLW $4, Y6, Y8
	VPAND Y15, Y8, Y8
	VPAND Y12, Y5, Y9
	VPOR Y9, Y8, Y8
	VPMADDUBSW 68(R11), Y8, Y8
	VPSHUFB k6shuf<>+64(SB), Y3, Y9
	VPMADDWD Y9, Y8, Y8
	VPADDD Y8, Y14, Y14
	VPSRLW $4, Y7, Y8
	VPAND Y15, Y8, Y8
	VPAND Y13, Y5, Y9
	VPSRLW $2, Y9, Y9
	VPOR Y9, Y8, Y8
	VPMADDUBSW 100(R11), Y8, Y8
	VPSHUFB k6shuf<>+96(SB), Y3, Y9
	VPMADDWD Y9, Y8, Y8
	VPADDD Y8, Y14, Y14
	VMOVDQU 160(R10), Y5
	VMOVDQU 64(R10), Y6
	VMOVDQU 96(R10), Y7
	VPAND Y15, Y6, Y8
	VPAND Y10, Y5, Y9
	VPSLLW $4, Y9, Y9
	VPOR Y9, Y8, Y8
	VPMADDUBSW 132(R11), Y8, Y8
	VPSHUFB k6shuf<>+0(SB), Y4, Y9
	VPMADDWD Y9, Y8, Y8
	VPADDD Y8, Y14, Y14
	VPAND Y15, Y7, Y8
	VPAND Y11, Y5, Y9
	VPSLLW $2, Y9, Y9
	VPOR Y9, Y8, Y8
	VPMADDUBSW 164(R11), Y8, Y8
	VPSHUFB k6shuf<>+32(SB), Y4, Y9
	VPMADDWD Y9, Y8, Y8
	VPADDD Y8, Y14, Y14
	VPSRLW $4, Y6, Y8
	VPAND Y15, Y8, Y8
	VPAND Y12, Y5, Y9
	VPOR Y9, Y8, Y8
	VPMADDUBSW 196(R11), Y8, Y8
	VPSHUFB k6shuf<>+64(SB), Y4, Y9
	VPMADDWD Y9, Y8, Y8
	VPADDD Y8, Y14, Y14
	VPSRLW $4, Y7, Y8
	VPAND Y15, Y8, Y8
	VPAND Y13, Y5, Y9
	VPSRLW $2, Y9, Y9
	VPOR Y9, Y8, Y8
	VPMADDUBSW 228(R11), Y8, Y8
	VPSHUFB k6shuf<>+96(SB), Y4, Y9
	VPMADDWD Y9, Y8, Y8
	VPADDD Y8, Y14, Y14
	VEXTRACTI128 $1, Y14, X6
	VPADDD X6, X14, X14
	VPSHUFD $0x4e, X14, X6
	VPADDD X6, X14, X14
	VPSHUFD $0xb1, X14, X6
	VPADDD X6, X14, X14
	VCVTDQ2PS X14, X14
	MOVWLZX 208(R10), AX
	VMOVD AX, X6
	VCVTPH2PS X6, X6
	VMULSS (R11), X6, X6
	VMULSS X14, X6, X6
	VADDSS X6, X0, X0
	ADDQ $210, R10
	ADDQ $292, R11
	DECQ R12
	JNZ q6kblock
	ROW_END(X0, q6krow)

// func vecF16AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf, xh int)
// nb is the number of values per row; xq holds the activations as float32
// (actF16), or as halves (actF16H) when xh is not 0.
TEXT ·vecF16AVX2(SB), NOSPLIT, $0-64
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), R14
	MOVQ xh+56(FP), R15
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
f16row:
	FROW_START
	CMPQ R12, $32
	JB f16by8
f16by32:
	PFLINES1(R14)
	VCVTPH2PS (R10), Y4
	VCVTPH2PS 16(R10), Y5
	VCVTPH2PS 32(R10), Y6
	VCVTPH2PS 48(R10), Y7
	ADDQ $64, R10
	TESTQ R15, R15
	JNZ f16by32h
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y5, Y1
	VFMADD231PS 64(R11), Y6, Y2
	VFMADD231PS 96(R11), Y7, Y3
	ADDQ $128, R11
	JMP f16by32next
f16by32h:
	VCVTPH2PS (R11), Y8
	VCVTPH2PS 16(R11), Y9
	VCVTPH2PS 32(R11), Y10
	VCVTPH2PS 48(R11), Y11
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y9, Y5, Y1
	VFMADD231PS Y10, Y6, Y2
	VFMADD231PS Y11, Y7, Y3
	ADDQ $64, R11
f16by32next:
	SUBQ $32, R12
	CMPQ R12, $32
	JAE f16by32
f16by8:
	CMPQ R12, $8
	JB f16sum
	VCVTPH2PS (R10), Y4
	ADDQ $16, R10
	TESTQ R15, R15
	JNZ f16by8h
	VFMADD231PS (R11), Y4, Y0
	ADDQ $32, R11
	SUBQ $8, R12
	JMP f16by8
f16by8h:
	VCVTPH2PS (R11), Y8
	VFMADD231PS Y8, Y4, Y0
	ADDQ $16, R11
	SUBQ $8, R12
	JMP f16by8
f16sum:
	FROW_SUM
	TESTQ R12, R12
	JZ f16done
f16one:
	MOVWLZX (R10), AX
	VMOVD AX, X4
	VCVTPH2PS X4, X4
	ADDQ $2, R10
	TESTQ R15, R15
	JNZ f16oneh
	VFMADD231SS (R11), X4, X0
	ADDQ $4, R11
	DECQ R12
	JNZ f16one
	JMP f16done
f16oneh:
	MOVWLZX (R11), AX
	VMOVD AX, X5
	VCVTPH2PS X5, X5
	VFMADD231SS X5, X4, X0
	ADDQ $2, R11
	DECQ R12
	JNZ f16one
f16done:
	ROW_END(X0, f16row)

// func vecF16UAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// vecF16AVX2 over float32 activations (actF16U) with half of each 32
// values' conversions done by integer operations instead of VCVTPH2PS,
// which on a Zen 1 core takes about three cycles of the FMA pipes for eight
// values: the first 16 halves of every 32 are unpacked into the high
// words of dwords (VPUNPCKLWD/VPUNPCKHWD, which take them in the order 0-3,
// 8-11 and 4-7, 12-15), shifted right arithmetically by three and their
// sign's copies masked off (0x8fffe000), which leaves the bits of the
// half's value times 2^-112 for every finite half; actF16U holds those
// activations in that order, times 2^112, so each product, and so each
// sum, is exactly what the same lanes would make with the converted
// values. The rest of a row (each 32 values' second 16, and the values
// past the last 32) is converted as vecF16AVX2 converts it. The loop
// takes 64 values a step while it can, each accumulator adding its two
// vectors in turn, which is the order of two 32-value steps. From L2, one
// Zen 1 core (BenchmarkLoopCache/F16, alternating the binaries): 15.3-17.4
// GB/s against 13.1-15.0 converting every half with VCVTPH2PS; a test loop
// that unpacked every half made 14.0-14.4 against 13.9-14.4, one that
// unpacked half of them 16.0-16.5.
TEXT ·vecF16UAVX2(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), R14
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	MOVL $0x8fffe000, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	VPXOR Y14, Y14, Y14
fuprow:
	FROW_START
	CMPQ R12, $64
	JB fupby32t
fupby64:
	PFLINES2(R14)
	VMOVDQU (R10), Y5
	VMOVDQU 64(R10), Y9
	VPUNPCKLWD Y5, Y14, Y4
	VPUNPCKHWD Y5, Y14, Y5
	VPUNPCKLWD Y9, Y14, Y8
	VPUNPCKHWD Y9, Y14, Y9
	VPSRAD $3, Y4, Y4
	VPSRAD $3, Y5, Y5
	VPSRAD $3, Y8, Y8
	VPSRAD $3, Y9, Y9
	VPAND Y15, Y4, Y4
	VPAND Y15, Y5, Y5
	VPAND Y15, Y8, Y8
	VPAND Y15, Y9, Y9
	VCVTPH2PS 32(R10), Y6
	VCVTPH2PS 48(R10), Y7
	VCVTPH2PS 96(R10), Y10
	VCVTPH2PS 112(R10), Y11
	ADDQ $128, R10
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y5, Y1
	VFMADD231PS 64(R11), Y6, Y2
	VFMADD231PS 96(R11), Y7, Y3
	VFMADD231PS 128(R11), Y8, Y0
	VFMADD231PS 160(R11), Y9, Y1
	VFMADD231PS 192(R11), Y10, Y2
	VFMADD231PS 224(R11), Y11, Y3
	ADDQ $256, R11
	SUBQ $64, R12
	CMPQ R12, $64
	JAE fupby64
fupby32t:
	CMPQ R12, $32
	JB fupby8
fupby32:
	PFLINES1(R14)
	VMOVDQU (R10), Y5
	VPUNPCKLWD Y5, Y14, Y4
	VPUNPCKHWD Y5, Y14, Y5
	VPSRAD $3, Y4, Y4
	VPSRAD $3, Y5, Y5
	VPAND Y15, Y4, Y4
	VPAND Y15, Y5, Y5
	VCVTPH2PS 32(R10), Y6
	VCVTPH2PS 48(R10), Y7
	ADDQ $64, R10
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y5, Y1
	VFMADD231PS 64(R11), Y6, Y2
	VFMADD231PS 96(R11), Y7, Y3
	ADDQ $128, R11
	SUBQ $32, R12
	CMPQ R12, $32
	JAE fupby32
fupby8:
	CMPQ R12, $8
	JB fupsum
	VCVTPH2PS (R10), Y4
	ADDQ $16, R10
	VFMADD231PS (R11), Y4, Y0
	ADDQ $32, R11
	SUBQ $8, R12
	JMP fupby8
fupsum:
	FROW_SUM
	TESTQ R12, R12
	JZ fupdone
fupone:
	MOVWLZX (R10), AX
	VMOVD AX, X4
	VCVTPH2PS X4, X4
	ADDQ $2, R10
	VFMADD231SS (R11), X4, X0
	ADDQ $4, R11
	DECQ R12
	JNZ fupone
fupdone:
	ROW_END(X0, fuprow)

// func sumBytesAVX2(p *byte, n int) uint64
// n is a multiple of 128.
TEXT ·sumBytesAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y15, Y15, Y15
	TESTQ CX, CX
	JZ sbdone
sbloop:
	VPSADBW (SI), Y15, Y4
	VPSADBW 32(SI), Y15, Y5
	VPSADBW 64(SI), Y15, Y6
	VPSADBW 96(SI), Y15, Y7
	VPADDQ Y4, Y0, Y0
	VPADDQ Y5, Y1, Y1
	VPADDQ Y6, Y2, Y2
	VPADDQ Y7, Y3, Y3
	ADDQ $128, SI
	SUBQ $128, CX
	JNZ sbloop
sbdone:
	VPADDQ Y1, Y0, Y0
	VPADDQ Y3, Y2, Y2
	VPADDQ Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPADDQ X1, X0, X0
	VMOVQ X0, AX
	MOVQ AX, ret+16(FP)
	VZEROUPPER
	RET

// Activation quantizers (act.go): the same operations as quantizeQ8_0Go and
// quantizeQ8_KGo, with CVTPS2DQ's round-to-nearest-even standing in for
// nearestInt.

DATA permq8<>+0(SB)/4, $0
DATA permq8<>+4(SB)/4, $4
DATA permq8<>+8(SB)/4, $1
DATA permq8<>+12(SB)/4, $5
DATA permq8<>+16(SB)/4, $2
DATA permq8<>+20(SB)/4, $6
DATA permq8<>+24(SB)/4, $3
DATA permq8<>+28(SB)/4, $7
GLOBL permq8<>(SB), RODATA|NOPTR, $32

DATA ones8<>+0(SB)/8, $0x0101010101010101
DATA ones8<>+8(SB)/8, $0x0101010101010101
DATA ones8<>+16(SB)/8, $0x0101010101010101
DATA ones8<>+24(SB)/8, $0x0101010101010101
GLOBL ones8<>(SB), RODATA|NOPTR, $32

// Q80QUANT quantizes the 32 floats at in(SI) as one Q8_0 block (ggml's
// quantize_row_q8_0: d = amax/127, quants round(x*127/amax)): Y0-Y3 get
// the quants as int32, X5 d, X7 d rounded to half precision, and every
// lane of X8 the sum of the quants. Y15 is the magnitude mask, X14 127.
#define Q80QUANT(in) \
	VMOVUPS in(SI), Y0; \
	VMOVUPS in+32(SI), Y1; \
	VMOVUPS in+64(SI), Y2; \
	VMOVUPS in+96(SI), Y3; \
	VANDPS Y15, Y0, Y4; \
	VANDPS Y15, Y1, Y5; \
	VANDPS Y15, Y2, Y6; \
	VANDPS Y15, Y3, Y7; \
	VMAXPS Y5, Y4, Y4; \
	VMAXPS Y7, Y6, Y6; \
	VMAXPS Y6, Y4, Y4; \
	HMAX8(Y4, X4, X5); \
	VDIVSS X14, X4, X5; \
	VXORPS X6, X6, X6; \
	VUCOMISS X6, X4; \
	JEQ 2(PC); \
	VDIVSS X4, X14, X6; \
	VBROADCASTSS X6, Y6; \
	VCVTPS2PH $0, X5, X7; \
	VCVTPH2PS X7, X7; \
	VMULPS Y6, Y0, Y0; \
	VMULPS Y6, Y1, Y1; \
	VMULPS Y6, Y2, Y2; \
	VMULPS Y6, Y3, Y3; \
	VCVTPS2DQ Y0, Y0; \
	VCVTPS2DQ Y1, Y1; \
	VCVTPS2DQ Y2, Y2; \
	VCVTPS2DQ Y3, Y3; \
	VPADDD Y1, Y0, Y8; \
	VPADDD Y3, Y2, Y9; \
	VPADDD Y9, Y8, Y8; \
	VEXTRACTI128 $1, Y8, X9; \
	VPADDD X9, X8, X8; \
	VPSHUFD $0x4e, X8, X9; \
	VPADDD X9, X8, X8; \
	VPSHUFD $0xb1, X8, X9; \
	VPADDD X9, X8, X8

// Q80PACK narrows the quants in Y0-Y3 to 32 bytes in order in Y0 (Y13 the
// lane order permq8).
#define Q80PACK \
	VPACKSSDW Y1, Y0, Y0; \
	VPACKSSDW Y3, Y2, Y2; \
	VPACKSSWB Y2, Y0, Y0; \
	VPERMD Y0, Y13, Y0

// func quantQ8_0AVX2(dst *byte, x *float32, nb int)
TEXT ·quantQ8_0AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	MOVL $0x7fffffff, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x42fe0000, AX
	VMOVD AX, X14
	VMOVDQU permq8<>(SB), Y13
	TESTQ CX, CX
	JZ q80qdone
q80qloop:
	Q80QUANT(0)
	VCVTDQ2PS X8, X8
	VMULSS X8, X5, X8
	VCVTPS2PH $0, X8, X8
	VCVTPH2PS X8, X8
	Q80PACK
	VMOVSS X7, (DI)
	VMOVSS X8, 4(DI)
	VMOVDQU Y0, 8(DI)
	ADDQ $128, SI
	ADDQ $40, DI
	DECQ CX
	JNZ q80qloop
q80qdone:
	VZEROUPPER
	RET

// func quantQ8_KAVX2(dst *byte, x *float32, nb int)
TEXT ·quantQ8_KAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	MOVL $0x7fffffff, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	VMOVDQU permq8<>(SB), Y13
	VMOVDQU ones8<>(SB), Y14
	MOVL $127, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12
	TESTQ CX, CX
	JZ q8kdone
q8kloop:
	VANDPS (SI), Y15, Y4
	VANDPS 32(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 64(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 96(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 128(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 160(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 192(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 224(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 256(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 288(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 320(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 352(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 384(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 416(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 448(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 480(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 512(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 544(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 576(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 608(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 640(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 672(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 704(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 736(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 768(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 800(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 832(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 864(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 896(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 928(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 960(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS 992(SI), Y15, Y5
	VMAXPS Y5, Y4, Y4
	HMAX8(Y4, X4, X5)
	VXORPS X6, X6, X6
	VUCOMISS X6, X4
	JNE q8knonzero
	// All zero: a zero block.
	VPXOR Y0, Y0, Y0
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y0, 32(DI)
	VMOVDQU Y0, 64(DI)
	VMOVDQU Y0, 96(DI)
	VMOVDQU Y0, 128(DI)
	VMOVDQU Y0, 160(DI)
	VMOVDQU Y0, 192(DI)
	VMOVDQU Y0, 224(DI)
	VMOVDQU Y0, 256(DI)
	MOVL $0, 288(DI)
	JMP q8knext
q8knonzero:
	// mx: the first value with |x| == amax; iscale = -127/mx, d = 1/iscale.
	VBROADCASTSS X4, Y4
	MOVQ SI, R8
q8kfind:
	VANDPS (R8), Y15, Y5
	VCMPPS $0, Y4, Y5, Y5
	VMOVMSKPS Y5, AX
	TESTL AX, AX
	JNZ q8kfound
	ADDQ $32, R8
	JMP q8kfind
q8kfound:
	BSFL AX, AX
	VMOVSS (R8)(AX*4), X5
	MOVL $0xc2fe0000, AX
	VMOVD AX, X6
	VDIVSS X5, X6, X6
	MOVL $0x3f800000, AX
	VMOVD AX, X7
	VDIVSS X6, X7, X7
	VMOVSS X7, (DI)
	VBROADCASTSS X6, Y6
	VMULPS 0(SI), Y6, Y0
	VCVTPS2DQ Y0, Y0
	VPMINSD Y12, Y0, Y0
	VMULPS 32(SI), Y6, Y1
	VCVTPS2DQ Y1, Y1
	VPMINSD Y12, Y1, Y1
	VMULPS 64(SI), Y6, Y2
	VCVTPS2DQ Y2, Y2
	VPMINSD Y12, Y2, Y2
	VMULPS 96(SI), Y6, Y3
	VCVTPS2DQ Y3, Y3
	VPMINSD Y12, Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y13, Y0
	VMOVDQU Y0, 4(DI)
	VMULPS 128(SI), Y6, Y0
	VCVTPS2DQ Y0, Y0
	VPMINSD Y12, Y0, Y0
	VMULPS 160(SI), Y6, Y1
	VCVTPS2DQ Y1, Y1
	VPMINSD Y12, Y1, Y1
	VMULPS 192(SI), Y6, Y2
	VCVTPS2DQ Y2, Y2
	VPMINSD Y12, Y2, Y2
	VMULPS 224(SI), Y6, Y3
	VCVTPS2DQ Y3, Y3
	VPMINSD Y12, Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y13, Y0
	VMOVDQU Y0, 36(DI)
	VMULPS 256(SI), Y6, Y0
	VCVTPS2DQ Y0, Y0
	VPMINSD Y12, Y0, Y0
	VMULPS 288(SI), Y6, Y1
	VCVTPS2DQ Y1, Y1
	VPMINSD Y12, Y1, Y1
	VMULPS 320(SI), Y6, Y2
	VCVTPS2DQ Y2, Y2
	VPMINSD Y12, Y2, Y2
	VMULPS 352(SI), Y6, Y3
	VCVTPS2DQ Y3, Y3
	VPMINSD Y12, Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y13, Y0
	VMOVDQU Y0, 68(DI)
	VMULPS 384(SI), Y6, Y0
	VCVTPS2DQ Y0, Y0
	VPMINSD Y12, Y0, Y0
	VMULPS 416(SI), Y6, Y1
	VCVTPS2DQ Y1, Y1
	VPMINSD Y12, Y1, Y1
	VMULPS 448(SI), Y6, Y2
	VCVTPS2DQ Y2, Y2
	VPMINSD Y12, Y2, Y2
	VMULPS 480(SI), Y6, Y3
	VCVTPS2DQ Y3, Y3
	VPMINSD Y12, Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y13, Y0
	VMOVDQU Y0, 100(DI)
	VMULPS 512(SI), Y6, Y0
	VCVTPS2DQ Y0, Y0
	VPMINSD Y12, Y0, Y0
	VMULPS 544(SI), Y6, Y1
	VCVTPS2DQ Y1, Y1
	VPMINSD Y12, Y1, Y1
	VMULPS 576(SI), Y6, Y2
	VCVTPS2DQ Y2, Y2
	VPMINSD Y12, Y2, Y2
	VMULPS 608(SI), Y6, Y3
	VCVTPS2DQ Y3, Y3
	VPMINSD Y12, Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y13, Y0
	VMOVDQU Y0, 132(DI)
	VMULPS 640(SI), Y6, Y0
	VCVTPS2DQ Y0, Y0
	VPMINSD Y12, Y0, Y0
	VMULPS 672(SI), Y6, Y1
	VCVTPS2DQ Y1, Y1
	VPMINSD Y12, Y1, Y1
	VMULPS 704(SI), Y6, Y2
	VCVTPS2DQ Y2, Y2
	VPMINSD Y12, Y2, Y2
	VMULPS 736(SI), Y6, Y3
	VCVTPS2DQ Y3, Y3
	VPMINSD Y12, Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y13, Y0
	VMOVDQU Y0, 164(DI)
	VMULPS 768(SI), Y6, Y0
	VCVTPS2DQ Y0, Y0
	VPMINSD Y12, Y0, Y0
	VMULPS 800(SI), Y6, Y1
	VCVTPS2DQ Y1, Y1
	VPMINSD Y12, Y1, Y1
	VMULPS 832(SI), Y6, Y2
	VCVTPS2DQ Y2, Y2
	VPMINSD Y12, Y2, Y2
	VMULPS 864(SI), Y6, Y3
	VCVTPS2DQ Y3, Y3
	VPMINSD Y12, Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y13, Y0
	VMOVDQU Y0, 196(DI)
	VMULPS 896(SI), Y6, Y0
	VCVTPS2DQ Y0, Y0
	VPMINSD Y12, Y0, Y0
	VMULPS 928(SI), Y6, Y1
	VCVTPS2DQ Y1, Y1
	VPMINSD Y12, Y1, Y1
	VMULPS 960(SI), Y6, Y2
	VCVTPS2DQ Y2, Y2
	VPMINSD Y12, Y2, Y2
	VMULPS 992(SI), Y6, Y3
	VCVTPS2DQ Y3, Y3
	VPMINSD Y12, Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD Y0, Y13, Y0
	VMOVDQU Y0, 228(DI)
	// bsums: sums of each 16 quants.
	VMOVDQU 4(DI), Y4
	VPMADDUBSW Y4, Y14, Y4
	VPMADDWD ones16<>(SB), Y4, Y4
	VMOVDQU 36(DI), Y5
	VPMADDUBSW Y5, Y14, Y5
	VPMADDWD ones16<>(SB), Y5, Y5
	VMOVDQU 68(DI), Y6
	VPMADDUBSW Y6, Y14, Y6
	VPMADDWD ones16<>(SB), Y6, Y6
	VMOVDQU 100(DI), Y7
	VPMADDUBSW Y7, Y14, Y7
	VPMADDWD ones16<>(SB), Y7, Y7
	VMOVDQU 132(DI), Y8
	VPMADDUBSW Y8, Y14, Y8
	VPMADDWD ones16<>(SB), Y8, Y8
	VMOVDQU 164(DI), Y9
	VPMADDUBSW Y9, Y14, Y9
	VPMADDWD ones16<>(SB), Y9, Y9
	VMOVDQU 196(DI), Y10
	VPMADDUBSW Y10, Y14, Y10
	VPMADDWD ones16<>(SB), Y10, Y10
	VMOVDQU 228(DI), Y11
	VPMADDUBSW Y11, Y14, Y11
	VPMADDWD ones16<>(SB), Y11, Y11
	VPHADDD Y5, Y4, Y4
	VPHADDD Y7, Y6, Y6
	VPHADDD Y6, Y4, Y4
	VPHADDD Y9, Y8, Y8
	VPHADDD Y11, Y10, Y10
	VPHADDD Y10, Y8, Y8
	VPACKSSDW Y8, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPUNPCKLWD X5, X4, X6
	VPUNPCKHWD X5, X4, X7
	VMOVDQU X6, 260(DI)
	VMOVDQU X7, 276(DI)
q8knext:
	ADDQ $1024, SI
	ADDQ $292, DI
	DECQ CX
	JNZ q8kloop
q8kdone:
	VZEROUPPER
	RET

// Q40_ISUM leaves in Y(dst) the integer sums of the Q4_0 block at
// woff(R10) (its sixteen bytes of quants at woff+2) against the actQ8_0
// quants at xoff(R11), eight dwords whose total is the block's: the low
// nibbles (values 0-15) in the low lane and the high nibbles (16-31) in
// the high, less 8, multiplied by the activations through their signs
// (VPSIGNB, as the Q8_0 loop does). Y13 holds 8 in every byte, Y14 the
// nibble mask, Y15 words of 1; Y2 and Y3 are scratch.
#define Q40_ISUM(woff, xoff, dst) \
	VMOVDQU woff+2(R10), X2; \
	VPSRLW $4, X2, X3; \
	VINSERTI128 $1, X3, Y2, Y2; \
	VPAND Y14, Y2, Y2; \
	VPSUBB Y13, Y2, Y2; \
	SIGNED_ISUM(xoff, dst, Y15)

// func vecQ4_0AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Q4_0 rows against actQ8_0 activations (rowpair_amd64.h): sum +=
// (d_w*d_x)*isum block after block, as the portable kernel and the
// interleaved loop (q40X8) do.
TEXT ·vecQ4_0AVX2(SB), NOSPLIT, $0-56
	ROW_ARGS
	VMOVDQU ones16<>(SB), Y15
	VMOVDQU nib<>(SB), Y14
	MOVL $0x08080808, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	ROWS(Q40_ISUM, QD_FLOATS, 18, q40row, q40pair, q40tail, q40done)

// func vecQ5_KAVX2(y *float32, w *byte, rb, rows int, xq *byte, nb int)
TEXT ·vecQ5_KAVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VMOVDQU nib<>(SB), Y15
	VMOVDQU ones8<>(SB), Y13
q5krow:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VXORPS X0, X0, X0
q5kblock:
	PREFETCHT0 8192(R10)
	PREFETCHT0 8256(R10)
	PREFETCHT0 8320(R10)
	K4_SCALES
	K4_MINS
	VMOVDQU 16(R10), Y12
	VMOVDQU 48(R10), Y6
	VPSRLW $4, Y6, Y7
	VPAND Y15, Y6, Y6
	VPAND Y15, Y7, Y7
	VPSRLW $0, Y12, Y10
	VPSRLW $1, Y12, Y11
	VPAND Y13, Y10, Y10
	VPAND Y13, Y11, Y11
	VPSLLW $4, Y10, Y10
	VPSLLW $4, Y11, Y11
	VPOR Y10, Y6, Y6
	VPOR Y11, Y7, Y7
	VPMADDUBSW 4(R11), Y6, Y6
	VPMADDUBSW 36(R11), Y7, Y7
	VPSHUFB k4shuf<>+0(SB), Y3, Y8
	VPSHUFB k4shuf<>+32(SB), Y3, Y9
	VPMADDWD Y8, Y6, Y6
	VPMADDWD Y9, Y7, Y7
	VPADDD Y6, Y7, Y14
	VMOVDQU 80(R10), Y6
	VPSRLW $4, Y6, Y7
	VPAND Y15, Y6, Y6
	VPAND Y15, Y7, Y7
	VPSRLW $2, Y12, Y10
	VPSRLW $3, Y12, Y11
	VPAND Y13, Y10, Y10
	VPAND Y13, Y11, Y11
	VPSLLW $4, Y10, Y10
	VPSLLW $4, Y11, Y11
	VPOR Y10, Y6, Y6
	VPOR Y11, Y7, Y7
	VPMADDUBSW 68(R11), Y6, Y6
	VPMADDUBSW 100(R11), Y7, Y7
	VPSHUFB k4shuf<>+64(SB), Y3, Y8
	VPSHUFB k4shuf<>+96(SB), Y3, Y9
	VPMADDWD Y8, Y6, Y6
	VPMADDWD Y9, Y7, Y7
	VPADDD Y6, Y14, Y14
	VPADDD Y7, Y14, Y14
	VMOVDQU 112(R10), Y6
	VPSRLW $4, Y6, Y7
	VPAND Y15, Y6, Y6
	VPAND Y15, Y7, Y7
	VPSRLW $4, Y12, Y10
	VPSRLW $5, Y12, Y11
	VPAND Y13, Y10, Y10
	VPAND Y13, Y11, Y11
	VPSLLW $4, Y10, Y10
	VPSLLW $4, Y11, Y11
	VPOR Y10, Y6, Y6
	VPOR Y11, Y7, Y7
	VPMADDUBSW 132(R11), Y6, Y6
	VPMADDUBSW 164(R11), Y7, Y7
	VPSHUFB k4shuf<>+128(SB), Y3, Y8
	VPSHUFB k4shuf<>+160(SB), Y3, Y9
	VPMADDWD Y8, Y6, Y6
	VPMADDWD Y9, Y7, Y7
	VPADDD Y6, Y14, Y14
	VPADDD Y7, Y14, Y14
	VMOVDQU 144(R10), Y6
	VPSRLW $4, Y6, Y7
	VPAND Y15, Y6, Y6
	VPAND Y15, Y7, Y7
	VPSRLW $6, Y12, Y10
	VPSRLW $7, Y12, Y11
	VPAND Y13, Y10, Y10
	VPAND Y13, Y11, Y11
	VPSLLW $4, Y10, Y10
	VPSLLW $4, Y11, Y11
	VPOR Y10, Y6, Y6
	VPOR Y11, Y7, Y7
	VPMADDUBSW 196(R11), Y6, Y6
	VPMADDUBSW 228(R11), Y7, Y7
	VPSHUFB k4shuf<>+192(SB), Y3, Y8
	VPSHUFB k4shuf<>+224(SB), Y3, Y9
	VPMADDWD Y8, Y6, Y6
	VPMADDWD Y9, Y7, Y7
	VPADDD Y6, Y14, Y14
	VPADDD Y7, Y14, Y14
	K4_FINISH
	ADDQ $176, R10
	ADDQ $292, R11
	DECQ R12
	JNZ q5kblock
	ROW_END(X0, q5krow)

// func dotF32AVX2(a, b *float32, n int) float32
// n is a multiple of 16.
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	TESTQ CX, CX
	JZ dfdone
dfloop:
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	VFMADD231PS (DI), Y2, Y0
	VFMADD231PS 32(DI), Y3, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ dfloop
dfdone:
	VADDPS Y1, Y0, Y0
	HSUM8(Y0, X0, X1)
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func axpyF32AVX2(y *float32, alpha float32, x *float32, n int)
// n is a multiple of 16.
TEXT ·axpyF32AVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	VBROADCASTSS alpha+8(FP), Y4
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JZ axdone
axloop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y4, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ axloop
axdone:
	VZEROUPPER
	RET

DATA x80<>+0(SB)/8, $0x8080808080808080
GLOBL x80<>(SB), RODATA|NOPTR, $8

// func vecQ8_0AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Q8_0 rows against actQ8_0P activations (act.go: per pair of blocks, 64
// quants, 16 int32 corrections, 16 float scales), a block at a time: the
// weights are made unsigned by flipping their sign bits (w+128), VPDPBUSD
// adds their products with the activations, and the block's integer sum
// (plus the correction -128*sum(x)) goes into the row's sum as
// sum + (d_w*d_x)*isum, block by block: the order of the interleaved loop
// (vecQ8_0X16AVX512), so that the rows of a matrix give the same bits in
// either layout. Within float rounding of the portable kernel, which sums
// in lanes as llama.cpp's AVX2 code does.
#define Q85BLOCK(ao) \
	PFLINES1(R14); \
	VMOVDQU 2(R10), Y2; \
	VPXORD Y28, Y2, Y2; \
	VPXORD Y5, Y5, Y5; \
	VPDPBUSD ao(R11), Y2, Y5; \
	VEXTRACTI128 $1, Y5, X6; \
	VPADDD X6, X5, X5; \
	VPSHUFD $0x4e, X5, X6; \
	VPADDD X6, X5, X5; \
	VPSHUFD $0xb1, X5, X6; \
	VPADDD X6, X5, X5; \
	VPADDD ao+64(R11), X5, X5; \
	VCVTDQ2PS X5, X5; \
	MOVWLZX (R10), AX; \
	VMOVD AX, X6; \
	VCVTPH2PS X6, X6; \
	VMULSS ao+128(R11), X6, X6; \
	VMULSS X5, X6, X6; \
	VADDSS X6, X15, X15; \
	ADDQ $34, R10

TEXT ·vecQ8_0AVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), R14
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VPBROADCASTB x80<>(SB), Y28
q85row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VXORPS X15, X15, X15
	CMPQ R12, $2
	JB q85tail
q85pair:
	Q85BLOCK(0)
	Q85BLOCK(32)
	ADDQ $192, R11
	SUBQ $2, R12
	CMPQ R12, $2
	JAE q85pair
q85tail:
	TESTQ R12, R12
	JZ q85done
	Q85BLOCK(0)
q85done:
	ROW_END(X15, q85row)

// Constants of vecQ4_KAVX512. k4sA/k4sB/k4sM/k4sH/three pick apart the
// 12 packed scale bytes p[0..11] into [s0..s7, m0..m7] (see the loop);
// k4w0..k4w3 are VPERMW indices that spread the scales of the two
// sub-blocks in a ZMM register of products over its two halves.
DATA k4sA<>+0(SB)/8, $0x0b0a090803020100
DATA k4sA<>+8(SB)/8, $0x0b0a090807060504
GLOBL k4sA<>(SB), RODATA|NOPTR, $16
DATA k4sB<>+0(SB)/8, $0x0302010080808080
DATA k4sB<>+8(SB)/8, $0x0706050480808080
GLOBL k4sB<>(SB), RODATA|NOPTR, $16
DATA k4sM<>+0(SB)/8, $0x0f0f0f0f3f3f3f3f
DATA k4sM<>+8(SB)/8, $0x000000003f3f3f3f
GLOBL k4sM<>(SB), RODATA|NOPTR, $16
DATA k4sH<>+0(SB)/8, $0x0000000000000000
DATA k4sH<>+8(SB)/8, $0x0f0f0f0f00000000
GLOBL k4sH<>(SB), RODATA|NOPTR, $16
DATA three<>+0(SB)/8, $0x0303030303030303
DATA three<>+8(SB)/8, $0x0303030303030303
GLOBL three<>(SB), RODATA|NOPTR, $16
DATA k4w0<>+0(SB)/8, $0x0000000000000000
DATA k4w0<>+8(SB)/8, $0x0000000000000000
DATA k4w0<>+16(SB)/8, $0x0000000000000000
DATA k4w0<>+24(SB)/8, $0x0000000000000000
DATA k4w0<>+32(SB)/8, $0x0002000200020002
DATA k4w0<>+40(SB)/8, $0x0002000200020002
DATA k4w0<>+48(SB)/8, $0x0002000200020002
DATA k4w0<>+56(SB)/8, $0x0002000200020002
GLOBL k4w0<>(SB), RODATA|NOPTR, $64
DATA k4w1<>+0(SB)/8, $0x0001000100010001
DATA k4w1<>+8(SB)/8, $0x0001000100010001
DATA k4w1<>+16(SB)/8, $0x0001000100010001
DATA k4w1<>+24(SB)/8, $0x0001000100010001
DATA k4w1<>+32(SB)/8, $0x0003000300030003
DATA k4w1<>+40(SB)/8, $0x0003000300030003
DATA k4w1<>+48(SB)/8, $0x0003000300030003
DATA k4w1<>+56(SB)/8, $0x0003000300030003
GLOBL k4w1<>(SB), RODATA|NOPTR, $64
DATA k4w2<>+0(SB)/8, $0x0004000400040004
DATA k4w2<>+8(SB)/8, $0x0004000400040004
DATA k4w2<>+16(SB)/8, $0x0004000400040004
DATA k4w2<>+24(SB)/8, $0x0004000400040004
DATA k4w2<>+32(SB)/8, $0x0006000600060006
DATA k4w2<>+40(SB)/8, $0x0006000600060006
DATA k4w2<>+48(SB)/8, $0x0006000600060006
DATA k4w2<>+56(SB)/8, $0x0006000600060006
GLOBL k4w2<>(SB), RODATA|NOPTR, $64
DATA k4w3<>+0(SB)/8, $0x0005000500050005
DATA k4w3<>+8(SB)/8, $0x0005000500050005
DATA k4w3<>+16(SB)/8, $0x0005000500050005
DATA k4w3<>+24(SB)/8, $0x0005000500050005
DATA k4w3<>+32(SB)/8, $0x0007000700070007
DATA k4w3<>+40(SB)/8, $0x0007000700070007
DATA k4w3<>+48(SB)/8, $0x0007000700070007
DATA k4w3<>+56(SB)/8, $0x0007000700070007
GLOBL k4w3<>(SB), RODATA|NOPTR, $64

// func vecQ4_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Q4_K rows against actQ8_KP activations (act.go: 320-byte blocks, the
// sub-blocks of each 256 values stored in the order 0 2 1 3 4 6 5 7, the
// eight sub-block sums at byte 256, d at 272). A ZMM register holds 64 bytes of nibbles, so
// its low nibbles are two sub-blocks whose activations are now adjacent.
// Per block: the scales and mins are unpacked with byte shuffles, each 64
// nibbles times activations goes VPMADDUBSW (16-bit pairs) then VPDPWSSD
// with the scales (32-bit); the block's integer sums are then added up
// and scaled as the portable kernel does, so the results are its bit for
// bit (and the interleaved loop's, which keeps the same order).
TEXT ·vecQ4_KAVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), R14
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VMOVDQU k4sA<>(SB), X10
	VMOVDQU k4sB<>(SB), X11
	VMOVDQU k4sM<>(SB), X12
	VMOVDQU k4sH<>(SB), X13
	VPBROADCASTB x30<>(SB), X14
	VPBROADCASTB nib<>(SB), Z28
	VMOVDQU64 k4w0<>(SB), Z24
	VMOVDQU64 k4w1<>(SB), Z25
	VMOVDQU64 k4w2<>(SB), Z26
	VMOVDQU64 k4w3<>(SB), Z27
q4k5row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VXORPS X15, X15, X15
q4k5block:
	PFLINES3(R14)
	// T = [s0..s7, m0..m7]: s0-3 = p0-3&63, s4-7 = p8-11&15 | (p0-3>>6)<<4,
	// m0-3 = p4-7&63, m4-7 = p8-11>>4 | (p4-7>>6)<<4. X2 = A (p0-3, p8-11,
	// p4-7, p8-11), X3 = B (0, p0-3, 0, p4-7): T = (A & M) | (A>>4 & H) |
	// (B>>2 & 0x30).
	VMOVDQU 4(R10), X1
	VPSHUFB X10, X1, X2
	VPSHUFB X11, X1, X3
	VPSRLW $4, X2, X5
	VPAND X13, X5, X5
	VPTERNLOGD $0xf8, X12, X2, X5
	VPSRLW $2, X3, X3
	VPAND X14, X3, X3
	VPOR X3, X5, X5
	VPMOVZXBW X5, Y6
	// Mins times sub-block sums: four 32-bit pairs.
	VEXTRACTI128 $1, Y6, X7
	VPMADDWD 256(R11), X7, X7
	VMOVDQU64 16(R10), Y17
	VINSERTI64X4 $1, 48(R10), Z17, Z17
	VPSRLW $4, Z17, Z18
	VPANDD Z28, Z17, Z17
	VPANDD Z28, Z18, Z18
	VPMADDUBSW 0(R11), Z17, Z17
	VPMADDUBSW 64(R11), Z18, Z18
	VPERMW Z6, Z24, Z19
	VPERMW Z6, Z25, Z20
	VPXORD Z16, Z16, Z16
	VPXORD Z21, Z21, Z21
	VPDPWSSD Z19, Z17, Z16
	VPDPWSSD Z20, Z18, Z21
	VMOVDQU64 80(R10), Y17
	VINSERTI64X4 $1, 112(R10), Z17, Z17
	VPSRLW $4, Z17, Z18
	VPANDD Z28, Z17, Z17
	VPANDD Z28, Z18, Z18
	VPMADDUBSW 128(R11), Z17, Z17
	VPMADDUBSW 192(R11), Z18, Z18
	VPERMW Z6, Z26, Z19
	VPERMW Z6, Z27, Z20
	VPDPWSSD Z19, Z17, Z16
	VPDPWSSD Z20, Z18, Z21
	VPADDD Z21, Z16, Z16
	// The block's integer sums, isum and summs, then as the portable
	// kernel: sum += (d*dx)*isum - (dmin*dx)*summs.
	VEXTRACTI64X4 $1, Z16, Y4
	VPADDD Y16, Y4, Y4
	VEXTRACTI128 $1, Y4, X0
	VPADDD X0, X4, X4
	VPHADDD X7, X4, X4
	VPHADDD X4, X4, X4
	VCVTDQ2PS X4, X4
	VCVTPH2PS (R10), X8
	VMULPS.BCST 272(R11), X8, X8
	VMULPS X4, X8, X8
	VMOVSHDUP X8, X9
	VSUBSS X9, X8, X8
	VADDSS X8, X15, X15
	ADDQ $144, R10
	ADDQ $320, R11
	DECQ R12
	JNZ q4k5block
	ROW_END(X15, q4k5row)

// func dotsF16AVX2(dst *float32, a *float32, b *uint16, n, count, stride int)
// dst[j] = the dot product of a with the n halves at b + j*stride, for
// j < count: one query against count keys stride halves apart (count 1:
// DotF16). Per key: two accumulators, Y0 for the even groups of 8 values
// and Y1 for the odd ones, added and reduced by HSUM8 at the end. n is a
// positive multiple of 16; count is positive.
TEXT ·dotsF16AVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), R8
	MOVQ a+8(FP), R9
	MOVQ b+16(FP), R10
	MOVQ n+24(FP), R11
	MOVQ count+32(FP), R12
	MOVQ stride+40(FP), R13
	SHLQ $1, R13
dsrow:
	MOVQ R9, SI
	MOVQ R10, DI
	MOVQ R11, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
dsloop:
	VCVTPH2PS (DI), Y2
	VCVTPH2PS 16(DI), Y3
	VFMADD231PS (SI), Y2, Y0
	VFMADD231PS 32(SI), Y3, Y1
	ADDQ $64, SI
	ADDQ $32, DI
	SUBQ $16, CX
	JNZ dsloop
	VADDPS Y1, Y0, Y0
	HSUM8(Y0, X0, X1)
	VMOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ R13, R10
	DECQ R12
	JNZ dsrow
	VZEROUPPER
	RET

// func axpysF16AVX2(y *float32, alpha *float32, x *uint16, n, count, stride int)
// For j < count in order: y += alpha[j] * (x + j*stride), n halves each,
// one fused multiply-add per value (count 1: AxpyF16). n is a positive
// multiple of 16; count is positive.
TEXT ·axpysF16AVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), R8
	MOVQ alpha+8(FP), R9
	MOVQ x+16(FP), R10
	MOVQ n+24(FP), R11
	MOVQ count+32(FP), R12
	MOVQ stride+40(FP), R13
	SHLQ $1, R13
asrow:
	VBROADCASTSS (R9), Y4
	MOVQ R8, DI
	MOVQ R10, SI
	MOVQ R11, CX
asloop:
	VCVTPH2PS (SI), Y2
	VCVTPH2PS 16(SI), Y3
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VFMADD231PS Y2, Y4, Y0
	VFMADD231PS Y3, Y4, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ asloop
	ADDQ $4, R9
	ADDQ R13, R10
	DECQ R12
	JNZ asrow
	VZEROUPPER
	RET

// Constants of vecQ6_KAVX512: VPERMW indices giving the 64 products of
// register j (values 64j..64j+63 of a block, four groups of 16) the
// scales 4j..4j+3, eight words each; and byte masks.
DATA k6w0<>+0(SB)/8, $0x0000000000000000
DATA k6w0<>+8(SB)/8, $0x0000000000000000
DATA k6w0<>+16(SB)/8, $0x0001000100010001
DATA k6w0<>+24(SB)/8, $0x0001000100010001
DATA k6w0<>+32(SB)/8, $0x0002000200020002
DATA k6w0<>+40(SB)/8, $0x0002000200020002
DATA k6w0<>+48(SB)/8, $0x0003000300030003
DATA k6w0<>+56(SB)/8, $0x0003000300030003
GLOBL k6w0<>(SB), RODATA|NOPTR, $64
DATA k6w1<>+0(SB)/8, $0x0004000400040004
DATA k6w1<>+8(SB)/8, $0x0004000400040004
DATA k6w1<>+16(SB)/8, $0x0005000500050005
DATA k6w1<>+24(SB)/8, $0x0005000500050005
DATA k6w1<>+32(SB)/8, $0x0006000600060006
DATA k6w1<>+40(SB)/8, $0x0006000600060006
DATA k6w1<>+48(SB)/8, $0x0007000700070007
DATA k6w1<>+56(SB)/8, $0x0007000700070007
GLOBL k6w1<>(SB), RODATA|NOPTR, $64
DATA k6w2<>+0(SB)/8, $0x0008000800080008
DATA k6w2<>+8(SB)/8, $0x0008000800080008
DATA k6w2<>+16(SB)/8, $0x0009000900090009
DATA k6w2<>+24(SB)/8, $0x0009000900090009
DATA k6w2<>+32(SB)/8, $0x000a000a000a000a
DATA k6w2<>+40(SB)/8, $0x000a000a000a000a
DATA k6w2<>+48(SB)/8, $0x000b000b000b000b
DATA k6w2<>+56(SB)/8, $0x000b000b000b000b
GLOBL k6w2<>(SB), RODATA|NOPTR, $64
DATA k6w3<>+0(SB)/8, $0x000c000c000c000c
DATA k6w3<>+8(SB)/8, $0x000c000c000c000c
DATA k6w3<>+16(SB)/8, $0x000d000d000d000d
DATA k6w3<>+24(SB)/8, $0x000d000d000d000d
DATA k6w3<>+32(SB)/8, $0x000e000e000e000e
DATA k6w3<>+40(SB)/8, $0x000e000e000e000e
DATA k6w3<>+48(SB)/8, $0x000f000f000f000f
DATA k6w3<>+56(SB)/8, $0x000f000f000f000f
GLOBL k6w3<>(SB), RODATA|NOPTR, $64
DATA x30<>+0(SB)/8, $0x3030303030303030
GLOBL x30<>(SB), RODATA|NOPTR, $8

// Q6K512HALF does one half block (128 values) of vecQ6_KAVX512: ql at
// off(R10), qh at qhoff(R10), activations at aoff(R11), scale indices
// ia/ib. Low nibbles are values 0-63 of the half, high nibbles 64-127;
// their two high bits come from qh, shifted by 0/2 and 4/6.
#define Q6K512HALF(off, qhoff, aoff, ia, ib) \
	VMOVDQU64 off(R10), Z17; \
	VMOVDQU64 qhoff(R10), Y18; \
	VPSRLW $2, Y18, Y19; \
	VINSERTI64X4 $1, Y19, Z18, Z18; \
	VPSLLW $4, Z18, Z19; \
	VPANDD Z29, Z19, Z19; \
	VPTERNLOGD $0xf8, Z28, Z17, Z19; \
	VPANDD Z29, Z18, Z18; \
	VPSRLW $4, Z17, Z17; \
	VPTERNLOGD $0xf8, Z28, Z17, Z18; \
	VPMADDUBSW aoff(R11), Z19, Z19; \
	VPMADDUBSW aoff+64(R11), Z18, Z18; \
	VPERMW Z6, ia, Z20; \
	VPERMW Z6, ib, Z21; \
	VPDPWSSD Z20, Z19, Z16; \
	VPDPWSSD Z21, Z18, Z22

// func vecQ6_KAVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Q6_K rows against actQ8_K activations. Per block: the 6-bit quants are
// rebuilt 64 at a time (nibbles | high bits<<4, in [0, 64)) and taken
// unsigned through VPMADDUBSW, then VPDPWSSD with the 16 scales; 32 times
// the scaled activation sums (bsums) corrects for the missing -32. The
// block's integer sum is exact, and the float steps after it are the
// portable kernel's, so the result is bit-identical (as llama.cpp's, whose
// Q6_K logits the fixtures match to 1e-7).
TEXT ·vecQ6_KAVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), R14
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VPBROADCASTB nib<>(SB), Z28
	VPBROADCASTB x30<>(SB), Z29
	VMOVDQU64 k6w0<>(SB), Z24
	VMOVDQU64 k6w1<>(SB), Z25
	VMOVDQU64 k6w2<>(SB), Z26
	VMOVDQU64 k6w3<>(SB), Z27
q6k5row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VXORPS X0, X0, X0
q6k5block:
	PFLINES4(R14)
	// Scales as words; Z22 starts at -32*sum(sc*bsum) (low 8 lanes).
	VPMOVSXBW 192(R10), Y6
	VPMADDWD 260(R11), Y6, Y7
	VPSLLD $5, Y7, Y7
	VPXORD Z22, Z22, Z22
	VPSUBD Z7, Z22, Z22
	VPXORD Z16, Z16, Z16
	Q6K512HALF(0, 128, 4, Z24, Z25)
	Q6K512HALF(64, 160, 132, Z26, Z27)
	// The block's integer sum (exact in any order), then the portable
	// kernel's float steps: sum += (d*d_x)*isum.
	VPADDD Z22, Z16, Z16
	VEXTRACTI64X4 $1, Z16, Y7
	VPADDD Y16, Y7, Y7
	VEXTRACTI128 $1, Y7, X8
	VPADDD X8, X7, X7
	VPSHUFD $0x4e, X7, X8
	VPADDD X8, X7, X7
	VPSHUFD $0xb1, X7, X8
	VPADDD X8, X7, X7
	VCVTDQ2PS X7, X7
	MOVWLZX 208(R10), AX
	VMOVD AX, X8
	VCVTPH2PS X8, X8
	VMULSS (R11), X8, X8
	VMULSS X7, X8, X8
	VADDSS X8, X0, X0
	ADDQ $210, R10
	ADDQ $292, R11
	DECQ R12
	JNZ q6k5block
	ROW_END(X0, q6k5row)

// func vecF16AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb, pf, xh int)
// vecF16AVX2 with ZMM registers: 64 halves per step into four float
// accumulators (nb is the values per row; a tail below 16 goes one value
// at a time); xq holds the activations as float32 (actF16), or as halves
// (actF16H) when xh is not 0. Float sums in another order than the
// portable kernel.
// pf is the distance, in bytes, at which the loop prefetches weights
// (its lowest bit for non-temporal: see rowLoopPF).
TEXT ·vecF16AVX512(SB), NOSPLIT, $0-64
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), DX
	MOVQ xh+56(FP), R15
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
f165row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	CMPQ R12, $64
	JB f165by16
f165by64:
	PFLINES2(DX)
	VCVTPH2PS (R10), Z20
	VCVTPH2PS 32(R10), Z21
	VCVTPH2PS 64(R10), Z22
	VCVTPH2PS 96(R10), Z23
	ADDQ $128, R10
	TESTQ R15, R15
	JNZ f165by64h
	VFMADD231PS (R11), Z20, Z16
	VFMADD231PS 64(R11), Z21, Z17
	VFMADD231PS 128(R11), Z22, Z18
	VFMADD231PS 192(R11), Z23, Z19
	ADDQ $256, R11
	JMP f165by64next
f165by64h:
	VCVTPH2PS (R11), Z24
	VCVTPH2PS 32(R11), Z25
	VCVTPH2PS 64(R11), Z26
	VCVTPH2PS 96(R11), Z27
	VFMADD231PS Z24, Z20, Z16
	VFMADD231PS Z25, Z21, Z17
	VFMADD231PS Z26, Z22, Z18
	VFMADD231PS Z27, Z23, Z19
	ADDQ $128, R11
f165by64next:
	SUBQ $64, R12
	CMPQ R12, $64
	JAE f165by64
f165by16:
	CMPQ R12, $16
	JB f165sum
	VCVTPH2PS (R10), Z20
	ADDQ $32, R10
	TESTQ R15, R15
	JNZ f165by16h
	VFMADD231PS (R11), Z20, Z16
	ADDQ $64, R11
	SUBQ $16, R12
	JMP f165by16
f165by16h:
	VCVTPH2PS (R11), Z24
	VFMADD231PS Z24, Z20, Z16
	ADDQ $32, R11
	SUBQ $16, R12
	JMP f165by16
f165sum:
	VADDPS Z17, Z16, Z16
	VADDPS Z19, Z18, Z18
	VADDPS Z18, Z16, Z16
	VEXTRACTF64X4 $1, Z16, Y1
	VADDPS Y16, Y1, Y0
	HSUM8(Y0, X0, X1)
	TESTQ R12, R12
	JZ f165done
f165one:
	MOVWLZX (R10), AX
	VMOVD AX, X4
	VCVTPH2PS X4, X4
	ADDQ $2, R10
	TESTQ R15, R15
	JNZ f165oneh
	VFMADD231SS (R11), X4, X0
	ADDQ $4, R11
	DECQ R12
	JNZ f165one
	JMP f165done
f165oneh:
	MOVWLZX (R11), AX
	VMOVD AX, X5
	VCVTPH2PS X5, X5
	VFMADD231SS X5, X4, X0
	ADDQ $2, R11
	DECQ R12
	JNZ f165one
f165done:
	ROW_END(X0, f165row)

// func roundF16AVX2(dst, src *float32, n int)
// dst[i] = float32(half(src[i])), rounding to nearest even (F16C), for n a
// positive multiple of 16.
TEXT ·roundF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
rhloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VCVTPS2PH $0, Y0, X0
	VCVTPS2PH $0, Y1, X1
	VCVTPH2PS X0, Y0
	VCVTPH2PS X1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ rhloop
	VZEROUPPER
	RET

// func vecF32AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// F32 rows against float activations: 32 values per step into four
// accumulators, then eight at a time into the first, then one at a time
// (nb values per row), prefetching as pf says (prefetch_amd64.h).
TEXT ·vecF32AVX2(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	MOVQ pf+48(FP), R14
f322row:
	FROW_START
	CMPQ R12, $32
	JB f322by8
f322by32:
	PFLINES2(R14)
	VMOVUPS (R10), Y4
	VMOVUPS 32(R10), Y5
	VMOVUPS 64(R10), Y6
	VMOVUPS 96(R10), Y7
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y5, Y1
	VFMADD231PS 64(R11), Y6, Y2
	VFMADD231PS 96(R11), Y7, Y3
	ADDQ $128, R10
	ADDQ $128, R11
	SUBQ $32, R12
	CMPQ R12, $32
	JAE f322by32
f322by8:
	CMPQ R12, $8
	JB f322sum
	VMOVUPS (R10), Y4
	VFMADD231PS (R11), Y4, Y0
	ADDQ $32, R10
	ADDQ $32, R11
	SUBQ $8, R12
	JMP f322by8
f322sum:
	FROW_SUM
	TESTQ R12, R12
	JZ f322done
f322one:
	VMOVSS (R10), X4
	VFMADD231SS (R11), X4, X0
	ADDQ $4, R10
	ADDQ $4, R11
	DECQ R12
	JNZ f322one
f322done:
	ROW_END(X0, f322row)

// func vecF32AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
// F32 rows against float activations: 64 values per step into four
// accumulators, then 16 at a time, then one at a time (nb values per row).
TEXT ·vecF32AVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
f325row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	CMPQ R12, $64
	JB f325by16
f325by64:
	PREFETCHT0 8192(R10)
	PREFETCHT0 8256(R10)
	PREFETCHT0 8320(R10)
	PREFETCHT0 8384(R10)
	VMOVUPS (R10), Z20
	VMOVUPS 64(R10), Z21
	VMOVUPS 128(R10), Z22
	VMOVUPS 192(R10), Z23
	VFMADD231PS (R11), Z20, Z16
	VFMADD231PS 64(R11), Z21, Z17
	VFMADD231PS 128(R11), Z22, Z18
	VFMADD231PS 192(R11), Z23, Z19
	ADDQ $256, R10
	ADDQ $256, R11
	SUBQ $64, R12
	CMPQ R12, $64
	JAE f325by64
f325by16:
	CMPQ R12, $16
	JB f325sum
	VMOVUPS (R10), Z20
	VFMADD231PS (R11), Z20, Z16
	ADDQ $64, R10
	ADDQ $64, R11
	SUBQ $16, R12
	JMP f325by16
f325sum:
	VADDPS Z17, Z16, Z16
	VADDPS Z19, Z18, Z18
	VADDPS Z18, Z16, Z16
	VEXTRACTF64X4 $1, Z16, Y1
	VADDPS Y16, Y1, Y0
	HSUM8(Y0, X0, X1)
	TESTQ R12, R12
	JZ f325done
f325one:
	VMOVSS (R10), X4
	VFMADD231SS (R11), X4, X0
	ADDQ $4, R10
	ADDQ $4, R11
	DECQ R12
	JNZ f325one
f325done:
	ROW_END(X0, f325row)

// Constants of swigluAVX512: log2(e), ln2 split in two (Cody-Waite), and
// the Taylor coefficients 1/k! of exp for k = 2..7.
DATA swc<>+0(SB)/4, $0x3fb8aa3b
DATA swc<>+4(SB)/4, $0x3f318000
DATA swc<>+8(SB)/4, $0xb95e8083
DATA swc<>+12(SB)/4, $0x3f000000
DATA swc<>+16(SB)/4, $0x3e2aaaab
DATA swc<>+20(SB)/4, $0x3d2aaaab
DATA swc<>+24(SB)/4, $0x3c088889
DATA swc<>+28(SB)/4, $0x3ab60b61
DATA swc<>+32(SB)/4, $0x39500d01
DATA swc<>+36(SB)/4, $0x3f800000
GLOBL swc<>(SB), RODATA|NOPTR, $40

// EXPCONSTS loads the constants of EXPZ into Z20-Z29.
#define EXPCONSTS \
	VBROADCASTSS swc<>+0(SB), Z20; \
	VBROADCASTSS swc<>+4(SB), Z21; \
	VBROADCASTSS swc<>+8(SB), Z22; \
	VBROADCASTSS swc<>+12(SB), Z23; \
	VBROADCASTSS swc<>+16(SB), Z24; \
	VBROADCASTSS swc<>+20(SB), Z25; \
	VBROADCASTSS swc<>+24(SB), Z26; \
	VBROADCASTSS swc<>+28(SB), Z27; \
	VBROADCASTSS swc<>+32(SB), Z28; \
	VBROADCASTSS swc<>+36(SB), Z29

// EXPZ sets Z4 = e^Z1 (within 4 ulp): Z1 = n ln2 + r, a polynomial
// in r, scaled by 2^n. Constants in Z20-Z29 (EXPCONSTS); Z2 and
// Z3 are scratch.
#define EXPZ \
	VMULPS Z20, Z1, Z2; \
	VRNDSCALEPS $0, Z2, Z2; \
	VMOVAPS Z1, Z3; \
	VFNMADD231PS Z21, Z2, Z3; \
	VFNMADD231PS Z22, Z2, Z3; \
	VMOVAPS Z28, Z4; \
	VFMADD213PS Z27, Z3, Z4; \
	VFMADD213PS Z26, Z3, Z4; \
	VFMADD213PS Z25, Z3, Z4; \
	VFMADD213PS Z24, Z3, Z4; \
	VFMADD213PS Z23, Z3, Z4; \
	VFMADD213PS Z29, Z3, Z4; \
	VFMADD213PS Z29, Z3, Z4; \
	VSCALEFPS Z2, Z4, Z4

// func swigluAVX512(gate, up *float32, n int)
// gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i] for n a positive
// multiple of 16. exp(t) = 2^k * e^r with k = round(t*log2 e) and
// r = t - k*ln2 (|r| <= ln2/2), e^r by its Taylor series to degree 7
// (relative error below 1e-8), 2^k applied by VSCALEFPS, which saturates
// to infinity or zero at the ends (silu's limits then come out exactly).
TEXT ·swigluAVX512(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	EXPCONSTS
swloop:
	VMOVUPS (DI), Z0
	VXORPS Z1, Z1, Z1
	VSUBPS Z0, Z1, Z1
	EXPZ
	VADDPS Z29, Z4, Z4
	VDIVPS Z4, Z0, Z0
	VMULPS (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ swloop
	VZEROUPPER
	RET

// func expShiftAVX512(x *float32, n int, shift float32) float32
// x[i] = exp(x[i] - shift) for n a positive multiple of 16, with
// swigluAVX512's exp; returns the sum of the results (float lanes, added
// across at the end).
TEXT ·expShiftAVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS shift+16(FP), Z30
	EXPCONSTS
	VPXORD Z31, Z31, Z31
exloop:
	VMOVUPS (DI), Z1
	VSUBPS Z30, Z1, Z1
	EXPZ
	VMOVUPS Z4, (DI)
	VADDPS Z4, Z31, Z31
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ exloop
	VEXTRACTF64X4 $1, Z31, Y1
	VADDPS Y31, Y1, Y1
	HSUM8(Y1, X1, X2)
	VMOVSS X1, ret+24(FP)
	VZEROUPPER
	RET

// func axpysF16x64AVX512(y *float32, alpha *float32, x *uint16, count, stride, n int)
// axpysF16AVX2 for n = 64 or 128 values: y stays in four or eight ZMM
// registers across the count positions (the same fused multiply-adds per
// element, so the same results), loaded once and stored once.
TEXT ·axpysF16x64AVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ alpha+8(FP), R9
	MOVQ x+16(FP), R10
	MOVQ count+24(FP), R12
	MOVQ stride+32(FP), R13
	SHLQ $1, R13
	MOVQ n+40(FP), AX
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	CMPQ AX, $128
	JEQ ax128
ax64:
	VBROADCASTSS (R9), Z8
	VCVTPH2PS (R10), Z4
	VCVTPH2PS 32(R10), Z5
	VCVTPH2PS 64(R10), Z6
	VCVTPH2PS 96(R10), Z7
	VFMADD231PS Z4, Z8, Z0
	VFMADD231PS Z5, Z8, Z1
	VFMADD231PS Z6, Z8, Z2
	VFMADD231PS Z7, Z8, Z3
	ADDQ $4, R9
	ADDQ R13, R10
	DECQ R12
	JNZ ax64
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VZEROUPPER
	RET
ax128:
	VMOVUPS 256(DI), Z16
	VMOVUPS 320(DI), Z17
	VMOVUPS 384(DI), Z18
	VMOVUPS 448(DI), Z19
ax128loop:
	VBROADCASTSS (R9), Z8
	VCVTPH2PS (R10), Z4
	VCVTPH2PS 32(R10), Z5
	VCVTPH2PS 64(R10), Z6
	VCVTPH2PS 96(R10), Z7
	VFMADD231PS Z4, Z8, Z0
	VFMADD231PS Z5, Z8, Z1
	VFMADD231PS Z6, Z8, Z2
	VFMADD231PS Z7, Z8, Z3
	VCVTPH2PS 128(R10), Z4
	VCVTPH2PS 160(R10), Z5
	VCVTPH2PS 192(R10), Z6
	VCVTPH2PS 224(R10), Z7
	VFMADD231PS Z4, Z8, Z16
	VFMADD231PS Z5, Z8, Z17
	VFMADD231PS Z6, Z8, Z18
	VFMADD231PS Z7, Z8, Z19
	ADDQ $4, R9
	ADDQ R13, R10
	DECQ R12
	JNZ ax128loop
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z16, 256(DI)
	VMOVUPS Z17, 320(DI)
	VMOVUPS Z18, 384(DI)
	VMOVUPS Z19, 448(DI)
	VZEROUPPER
	RET

// DOTS64KEY scores one key of 64 halves at R10 against the query in Z0-Z3
// into X(acc): lanes 0-7 of a ZMM accumulator take the even groups of 8
// values and lanes 8-15 the odd ones, as Y0 and Y1 do in dotsF16AVX2, and
// the final reduction is the same, so the score is the same bit for bit.
#define DOTS64KEY(off, acc, t0, t1) \
	VCVTPH2PS off(R10), t0; \
	VMULPS Z0, t0, acc; \
	VCVTPH2PS off+32(R10), t1; \
	VFMADD231PS Z1, t1, acc; \
	VCVTPH2PS off+64(R10), t0; \
	VFMADD231PS Z2, t0, acc; \
	VCVTPH2PS off+96(R10), t1; \
	VFMADD231PS Z3, t1, acc

// func dotsF16x64AVX512(dst *float32, a *float32, b *uint16, count, stride int)
// dotsF16AVX2 for n = 64: the query stays in Z0-Z3, two keys at a time.
TEXT ·dotsF16x64AVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), R8
	MOVQ a+8(FP), R9
	MOVQ b+16(FP), R10
	MOVQ count+24(FP), R12
	MOVQ stride+32(FP), R13
	SHLQ $1, R13
	VMOVUPS (R9), Z0
	VMOVUPS 64(R9), Z1
	VMOVUPS 128(R9), Z2
	VMOVUPS 192(R9), Z3
dkloop:
	DOTS64KEY(0, Z16, Z20, Z21)
	VEXTRACTF64X4 $1, Z16, Y17
	VADDPS Y17, Y16, Y16
	VEXTRACTF32X4 $1, Y16, X17
	VADDPS X17, X16, X16
	HSUM4(X16, X17)
	VMOVSS X16, (R8)
	ADDQ $4, R8
	ADDQ R13, R10
	DECQ R12
	JNZ dkloop
	VZEROUPPER
	RET

// func softmaxF16RowsAVX512(x *float32, rows, n int, scale float32)
// Each of the rows of n values at x (n > 0, one row after another) becomes
// softmax(scale*row) rounded to half precision: scaled in place while its
// maximum is found (a NaN is passed over), e^(v-max) and their sum as in
// expShiftAVX512, then times float32(1/float64(sum)) and rounded through
// VCVTPS2PH. The last n%16 values of a row go under a mask, so that a
// row's tail takes the vector path too.
TEXT ·softmaxF16RowsAVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ rows+8(FP), R8
	MOVQ n+16(FP), R9
	VBROADCASTSS scale+24(FP), Z30
	EXPCONSTS
	MOVL $0xff800000, AX
	VPBROADCASTD AX, Z19
	MOVQ $0x3ff0000000000000, AX
	VMOVQ AX, X18
	MOVQ R9, R11
	ANDQ $15, R11
	MOVQ R11, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K2
	MOVQ R9, R10
	ANDQ $-16, R10
smrow:
	// Scale, and the maximum.
	MOVQ DI, SI
	MOVQ R10, CX
	VMOVAPS Z19, Z0
	TESTQ CX, CX
	JZ smmaxtail
smmaxloop:
	VMULPS (SI), Z30, Z1
	VMOVUPS Z1, (SI)
	VMAXPS Z0, Z1, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ smmaxloop
smmaxtail:
	TESTQ R11, R11
	JZ smmaxdone
	VMOVUPS.Z (SI), K2, Z1
	VMULPS Z30, Z1, Z1
	VMOVUPS Z1, K2, (SI)
	VMAXPS Z0, Z1, K2, Z0
smmaxdone:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y0, Y1, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X0, X1, X0
	VMOVHLPS X0, X0, X1
	VMAXPS X0, X1, X0
	VMOVSHDUP X0, X1
	VMAXSS X0, X1, X0
	VBROADCASTSS X0, Z31
	// e^(v-max) and their sum.
	MOVQ DI, SI
	MOVQ R10, CX
	VPXORD Z0, Z0, Z0
	TESTQ CX, CX
	JZ smexptail
smexploop:
	VMOVUPS (SI), Z1
	VSUBPS Z31, Z1, Z1
	EXPZ
	VMOVUPS Z4, (SI)
	VADDPS Z4, Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ smexploop
smexptail:
	TESTQ R11, R11
	JZ smexpdone
	VMOVUPS.Z (SI), K2, Z1
	VSUBPS Z31, Z1, Z1
	EXPZ
	VMOVUPS Z4, K2, (SI)
	VADDPS Z4, Z0, K2, Z0
smexpdone:
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y0, Y1, Y1
	HSUM8(Y1, X1, X2)
	VCVTSS2SD X1, X1, X1
	VDIVSD X1, X18, X1
	VCVTSD2SS X1, X1, X1
	VBROADCASTSS X1, Z1
	// Normalize and round to half precision.
	MOVQ DI, SI
	MOVQ R10, CX
	TESTQ CX, CX
	JZ smrtail
smrloop:
	VMULPS (SI), Z1, Z2
	VCVTPS2PH $0, Z2, Y2
	VCVTPH2PS Y2, Z2
	VMOVUPS Z2, (SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ smrloop
smrtail:
	TESTQ R11, R11
	JZ smrdone
	VMOVUPS.Z (SI), K2, Z2
	VMULPS Z1, Z2, Z2
	VCVTPS2PH $0, Z2, Y2
	VCVTPH2PS Y2, Z2
	VMOVUPS Z2, K2, (SI)
smrdone:
	LEAQ (DI)(R9*4), DI
	DECQ R8
	JNZ smrow
	VZEROUPPER
	RET

// QKRSUB quantizes one 32-value sub-block: the floats at in(SI) and
// in+64(SI) times the scale in Z6, rounded, capped at 127 (Z12) and
// narrowed to bytes at out(DI); their sum goes to sum(R8) as an int16.
#define QKRSUB(in, in2, out, out2, sum) \
	VMULPS in(SI), Z6, Z0; \
	VMULPS in2(SI), Z6, Z1; \
	VCVTPS2DQ Z0, Z0; \
	VCVTPS2DQ Z1, Z1; \
	VPMINSD Z12, Z0, Z0; \
	VPMINSD Z12, Z1, Z1; \
	VPMOVSDB Z0, out(DI); \
	VPMOVSDB Z1, out2(DI); \
	VPADDD Z1, Z0, Z0; \
	VEXTRACTI64X4 $1, Z0, Y1; \
	VPADDD Y1, Y0, Y0; \
	VEXTRACTI128 $1, Y0, X1; \
	VPADDD X1, X0, X0; \
	VPSHUFD $0x4e, X0, X1; \
	VPADDD X1, X0, X0; \
	VPSHUFD $0xb1, X0, X1; \
	VPADDD X1, X0, X0; \
	VMOVD X0, AX; \
	MOVW AX, sum(R8)

// func quantQ8_KRAVX512(qs, sums, d *byte, nd int, x *float32)
// quantizeQ8_KR: the 256 floats at x as one actQ8_K block (scale -127 over
// the first value of largest magnitude, quants rounded to nearest and
// capped at 127, as quantQ8_KAVX2), the quants written with their 32-value
// sub-blocks in the order 0 2 1 3 4 6 5 7, the eight sub-block sums as
// int16 in natural order, and d stored nd times (nd positive).
TEXT ·quantQ8_KRAVX512(SB), NOSPLIT, $0-40
	MOVQ qs+0(FP), DI
	MOVQ sums+8(FP), R8
	MOVQ d+16(FP), R9
	MOVQ nd+24(FP), R10
	MOVQ x+32(FP), SI
	MOVL $0x7fffffff, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Z15
	VANDPS (SI), Z15, Z0
	VANDPS 64(SI), Z15, Z1
	VANDPS 128(SI), Z15, Z2
	VANDPS 192(SI), Z15, Z3
	VANDPS 256(SI), Z15, Z4
	VMAXPS Z4, Z0, Z0
	VANDPS 320(SI), Z15, Z4
	VMAXPS Z4, Z1, Z1
	VANDPS 384(SI), Z15, Z4
	VMAXPS Z4, Z2, Z2
	VANDPS 448(SI), Z15, Z4
	VMAXPS Z4, Z3, Z3
	VANDPS 512(SI), Z15, Z4
	VMAXPS Z4, Z0, Z0
	VANDPS 576(SI), Z15, Z4
	VMAXPS Z4, Z1, Z1
	VANDPS 640(SI), Z15, Z4
	VMAXPS Z4, Z2, Z2
	VANDPS 704(SI), Z15, Z4
	VMAXPS Z4, Z3, Z3
	VANDPS 768(SI), Z15, Z4
	VMAXPS Z4, Z0, Z0
	VANDPS 832(SI), Z15, Z4
	VMAXPS Z4, Z1, Z1
	VANDPS 896(SI), Z15, Z4
	VMAXPS Z4, Z2, Z2
	VANDPS 960(SI), Z15, Z4
	VMAXPS Z4, Z3, Z3
	VMAXPS Z1, Z0, Z0
	VMAXPS Z3, Z2, Z2
	VMAXPS Z2, Z0, Z0
	VEXTRACTF32X8 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VMAXPS X1, X0, X0
	VMOVSHDUP X0, X1
	VMAXSS X1, X0, X0
	VXORPS X6, X6, X6
	VUCOMISS X6, X0
	JNE qkrnonzero
	// All zero: a zero block.
	VPXORD Z0, Z0, Z0
	VMOVDQU32 Z0, 0(DI)
	VMOVDQU32 Z0, 64(DI)
	VMOVDQU32 Z0, 128(DI)
	VMOVDQU32 Z0, 192(DI)
	MOVQ $0, 0(R8)
	MOVQ $0, 8(R8)
qkrzd:
	MOVL $0, (R9)
	ADDQ $4, R9
	DECQ R10
	JNZ qkrzd
	VZEROUPPER
	RET
qkrnonzero:
	// mx: the first value with |x| == amax; iscale = -127/mx, d = 1/iscale.
	VBROADCASTSS X0, Z4
	MOVQ SI, R11
qkrfind:
	VANDPS (R11), Z15, Z5
	VCMPPS $0, Z4, Z5, K1
	KMOVW K1, AX
	TESTL AX, AX
	JNZ qkrfound
	ADDQ $64, R11
	JMP qkrfind
qkrfound:
	BSFL AX, AX
	VMOVSS (R11)(AX*4), X5
	MOVL $0xc2fe0000, AX
	VMOVD AX, X6
	VDIVSS X5, X6, X6
	MOVL $0x3f800000, AX
	VMOVD AX, X7
	VDIVSS X6, X7, X7
qkrd:
	VMOVSS X7, (R9)
	ADDQ $4, R9
	DECQ R10
	JNZ qkrd
	VBROADCASTSS X6, Z6
	MOVL $127, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Z12
	QKRSUB(0, 64, 0, 16, 0)
	QKRSUB(128, 192, 64, 80, 2)
	QKRSUB(256, 320, 32, 48, 4)
	QKRSUB(384, 448, 96, 112, 6)
	QKRSUB(512, 576, 128, 144, 8)
	QKRSUB(640, 704, 192, 208, 10)
	QKRSUB(768, 832, 160, 176, 12)
	QKRSUB(896, 960, 224, 240, 14)
	VZEROUPPER
	RET

// Q80PBLK quantizes the 32 floats at in(SI) as one Q8_0 block (Q80QUANT) into the
// half of an actQ8_0P pair at DI: the quants at q(DI), -128 times their
// sum in the first int32 of s(DI) (the other seven zero), and d, rounded
// to half precision, eight times at d(DI). Y15 is the magnitude mask, X14
// 127, Y12 zero.
#define Q80PBLK(in, q, s, d) \
	Q80QUANT(in); \
	VBROADCASTSS X7, Y7; \
	VMOVUPS Y7, d(DI); \
	VPSLLD $7, X8, X8; \
	VPSUBD X8, X12, X8; \
	VPBLENDD $1, Y8, Y12, Y8; \
	VMOVDQU Y8, s(DI); \
	Q80PACK; \
	VMOVDQU Y0, q(DI)

// func quantQ8_0PAVX2(dst *byte, x *float32, nb int)
// quantizeQ8_0P: nb blocks of 32 floats into 192-byte pairs, as
// quantQ8_0AVX2 quantizes them; a last odd block's pair is padded with
// zeros. nb is positive.
TEXT ·quantQ8_0PAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nb+16(FP), CX
	MOVL $0x7fffffff, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x42fe0000, AX
	VMOVD AX, X14
	VMOVDQU permq8<>(SB), Y13
	VPXOR Y12, Y12, Y12
q80ppair:
	CMPQ CX, $2
	JB q80plast
	Q80PBLK(0, 0, 64, 128)
	Q80PBLK(128, 32, 96, 160)
	ADDQ $256, SI
	ADDQ $192, DI
	SUBQ $2, CX
	JNZ q80ppair
	VZEROUPPER
	RET
q80plast:
	Q80PBLK(0, 0, 64, 128)
	VMOVDQU Y12, 32(DI)
	VMOVDQU Y12, 96(DI)
	VMOVDQU Y12, 160(DI)
	VZEROUPPER
	RET
