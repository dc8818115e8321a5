#include "textflag.h"
#include "prefetch_amd64.h"
#include "x8_amd64.h"

// The AVX2 loops of the legacy types' layouts interleaved by eight rows
// (interleave_legacy.go), as those of x8_amd64.s: eight rows at a time, each
// 32-bit lane one row, each block's sums added as the portable kernel
// adds them.

// X5_QUANTS forms step t of the eight rows' 5-bit quants (X5Q) from its
// 32 bytes at woff(R10) and the plane of top bits in Y8: Y10 the quants
// 4t..4t+3, Y9 the quants 16+4t..16+4t+3. Y15 holds 0x1f in every byte,
// Y13 0x07, Y12 0x18; Y11 is scratch.
#define X5_QUANTS(woff, shop, cnt) X5Q(woff, Y8, Y15, Y13, Y12, shop, cnt)

// X5_MUL0 and X5_MUL multiply step t's quants (X5_QUANTS) by the
// activations' quants 4t..4t+3, broadcast to every row, in A and
// 16+4t..16+4t+3 in B (registers, or memory in the actQ8_0B form), each
// row's two words of products in Y7: the first step of a pair sets them,
// the second adds (two steps of four products a word, 8*31*128 < 2^15).
#define X5_MUL0(woff, A, B, shop, cnt) \
	X5_QUANTS(woff, shop, cnt); \
	VPMADDUBSW A, Y10, Y10; \
	VPMADDUBSW B, Y9, Y9; \
	VPADDW Y10, Y9, Y7

#define X5_MUL(woff, A, B, shop, cnt) \
	X5_QUANTS(woff, shop, cnt); \
	VPMADDUBSW A, Y10, Y10; \
	VPMADDUBSW B, Y9, Y9; \
	VPADDW Y10, Y7, Y7; \
	VPADDW Y9, Y7, Y7

// X_BCAST broadcasts the activations' quants 4t..4t+3 at xoff(R11) into
// Y1 and 16+4t..16+4t+3 at xoff+16 into Y2 (the actQ8_0 forms).
#define X_BCAST(xoff) \
	VPBROADCASTD xoff(R11), Y1; \
	VPBROADCASTD xoff+16(R11), Y2

// X5_ISUM leaves in Y7 each row's integer sum of the products of its
// block's quants (0-31, steps at wo(R10), top bits at wo+128(R10)) with
// the activations' quants (actQ8_0's at xo(R11)): two pairs of steps,
// each pair's words added in pairs by VPMADDWD (Y14 words of 1). Y6 is
// scratch. X5_ISUMB is X5_ISUM against the actQ8_0B block at R11.
#define X5_ISUM(wo, xo) \
	VMOVDQU wo+128(R10), Y8; \
	X_BCAST(xo); \
	X5_MUL0(wo, Y1, Y2, VPSLLW, 3); \
	X_BCAST(xo+4); \
	X5_MUL(wo+32, Y1, Y2, VPSLLW, 1); \
	VPMADDWD Y14, Y7, Y6; \
	X_BCAST(xo+8); \
	X5_MUL0(wo+64, Y1, Y2, VPSRLW, 1); \
	X_BCAST(xo+12); \
	X5_MUL(wo+96, Y1, Y2, VPSRLW, 3); \
	VPMADDWD Y14, Y7, Y7; \
	VPADDD Y6, Y7, Y7

#define X5_ISUMB(wo) \
	VMOVDQU wo+128(R10), Y8; \
	X5_MUL0(wo, 0(R11), 32(R11), VPSLLW, 3); \
	X5_MUL(wo+32, 64(R11), 96(R11), VPSLLW, 1); \
	VPMADDWD Y14, Y7, Y6; \
	X5_MUL0(wo+64, 128(R11), 160(R11), VPSRLW, 1); \
	X5_MUL(wo+96, 192(R11), 224(R11), VPSRLW, 3); \
	VPMADDWD Y14, Y7, Y7; \
	VPADDD Y6, Y7, Y7

// X4_MUL0 and X4_MUL take step t of the eight rows' 4-bit quants (the 32
// bytes at woff(R10): quants 4t..4t+3 in the low nibbles, 16+4t..16+4t+3
// in the high) against the activations' quants 4t..4t+3, broadcast to
// every row, in A and 16+4t..16+4t+3 in B (registers, or memory in the
// actQ8_0B form): the first step sets each row's two words in Y7, the
// others add to them (four steps of four products a word, 16*15*128 <
// 2^15). Y15 holds 0x0f in every byte. X4_ISUM and X4_ISUMB leave in Y7
// each row's integer sum of the products of a block's quants at wo(R10)
// with the actQ8_0 quants at xo(R11), or the actQ8_0B block at R11 (Y14
// words of 1).
#define X4_MUL0(woff, A, B) \
	VMOVDQU woff(R10), Y9; \
	VPSRLW $4, Y9, Y10; \
	VPAND Y15, Y9, Y9; \
	VPAND Y15, Y10, Y10; \
	VPMADDUBSW A, Y9, Y9; \
	VPMADDUBSW B, Y10, Y10; \
	VPADDW Y10, Y9, Y7

#define X4_MUL(woff, A, B) \
	VMOVDQU woff(R10), Y9; \
	VPSRLW $4, Y9, Y10; \
	VPAND Y15, Y9, Y9; \
	VPAND Y15, Y10, Y10; \
	VPMADDUBSW A, Y9, Y9; \
	VPMADDUBSW B, Y10, Y10; \
	VPADDW Y9, Y7, Y7; \
	VPADDW Y10, Y7, Y7

#define X4_ISUM(wo, xo) \
	X_BCAST(xo); \
	X4_MUL0(wo, Y1, Y2); \
	X_BCAST(xo+4); \
	X4_MUL(wo+32, Y1, Y2); \
	X_BCAST(xo+8); \
	X4_MUL(wo+64, Y1, Y2); \
	X_BCAST(xo+12); \
	X4_MUL(wo+96, Y1, Y2); \
	VPMADDWD Y14, Y7, Y7

// X4_ISUMB2 is X4_ISUMB for two blocks side by side, each step of one
// beside the other's: the first's quants at wo(R10) and activations at
// R11 (its sum into Y7), the second's bs and as bytes on (into Y8).
// X4_STEPB2 forms both blocks' step t: Y9 and Y10 the first's products
// of low and high nibbles, Y11 and Y12 the second's.
#define X4_STEPB2(wo, bs, as, t) \
	X8_NIB2((wo+32*(t))(R10), (wo+bs+32*(t))(R10), (64*(t))(R11), (as+64*(t))(R11), (32+64*(t))(R11), (as+32+64*(t))(R11), Y9, Y11, Y10, Y12)

#define X4_ADDB2 \
	VPADDW Y9, Y7, Y7; \
	VPADDW Y11, Y8, Y8; \
	VPADDW Y10, Y7, Y7; \
	VPADDW Y12, Y8, Y8

#define X4_ISUMB2(wo, bs, as) \
	X4_STEPB2(wo, bs, as, 0); \
	VPADDW Y10, Y9, Y7; \
	VPADDW Y12, Y11, Y8; \
	X4_STEPB2(wo, bs, as, 1); \
	X4_ADDB2; \
	X4_STEPB2(wo, bs, as, 2); \
	X4_ADDB2; \
	X4_STEPB2(wo, bs, as, 3); \
	X4_ADDB2; \
	VPMADDWD Y14, Y7, Y7; \
	VPMADDWD Y14, Y8, Y8

#define X4_ISUMB(wo) \
	X4_MUL0(wo, 0(R11), 32(R11)); \
	X4_MUL(wo+32, 64(R11), 96(R11)); \
	X4_MUL(wo+64, 128(R11), 160(R11)); \
	X4_MUL(wo+96, 192(R11), 224(R11)); \
	VPMADDWD Y14, Y7, Y7

// XS_FLOATS ends a block of the Q4_0 and Q5_0 loops as the portable
// kernel does, each lane one row: isum (Y7) += the activations' -128 times
// their sum at corr, shifted right by sh (-8 or -16 times the sum), then
// Y0 += (d_w*d_x)*isum, the rows' d_w (fp16) at 0(R10), d_x at dx.
#define XS_FLOATS(corr, sh, dx) XS_FLOATSR(corr, sh, dx, 0(R10), Y7, Y4, Y5)

// XS_FLOATSR is XS_FLOATS for the block whose isum is in isum and whose
// rows' d_w are at dq; a and b are scratch.
#define XS_FLOATSR(corr, sh, dx, dq, isum, a, b) \
	VPBROADCASTD corr, b; \
	VPSRAD $sh, b, b; \
	VPADDD b, isum, isum; \
	VCVTDQ2PS isum, isum; \
	VCVTPH2PS dq, a; \
	VBROADCASTSS dx, b; \
	VMULPS b, a, a; \
	VMULPS isum, a, a; \
	VADDPS a, Y0, Y0

// XM_FLOATS ends a block of the Q4_1 and Q5_1 loops as the portable
// kernel does, each lane one row: Y0 += (d_w*d_x)*isum + m_w*s_x, the
// rows' d_w and m_w (fp16) at 0(R10) and 16(R10), the activations' d_x
// and s_x at dx and sx, isum in Y7.
#define XM_FLOATS(dx, sx) XM_FLOATSR(dx, sx, 0(R10), 16(R10), Y7, Y4, Y5, Y6)

// XM_FLOATSR is XM_FLOATS for the block whose isum is in isum and whose
// rows' d_w and m_w are at dq and dm; a, b and c are scratch.
#define XM_FLOATSR(dx, sx, dq, dm, isum, a, b, c) \
	VCVTDQ2PS isum, isum; \
	VCVTPH2PS dq, a; \
	VBROADCASTSS dx, b; \
	VMULPS b, a, a; \
	VMULPS isum, a, a; \
	VCVTPH2PS dm, c; \
	VBROADCASTSS sx, b; \
	VMULPS b, c, c; \
	VADDPS c, a, a; \
	VADDPS a, Y0, Y0

// X5_CONSTS loads the constants of X5_QUANTS and X5_ISUM.
#define X5_CONSTS \
	X8_BYTES(0x1f1f1f1f, X15, Y15); \
	X8_BYTES(0x07070707, X13, Y13); \
	X8_BYTES(0x18181818, X12, Y12); \
	X8_BYTES(0x00010001, X14, Y14)

// func vecQ4_0X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q40X8 units against actQ8_0X activations (40-byte blocks: the quants @0,
// -128 times their sum @32, d @36), a group of eight rows at a time. Each
// row's products of the quants (0..15) are exact words, added in pairs
// into its lane, and its block sum is that less 8 times the activations'
// sum (the -128 times, shifted right by 4); then each row's sum +=
// (d_w*d_x)*isum as the portable kernel does, block after block.
TEXT ·vecQ4_0X8AVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	X8_BYTES(0x0f0f0f0f, X15, Y15)
	X8_BYTES(0x00010001, X14, Y14)
x4q40group:
	X8_GROUP
x4q40block:
	PFLINES3(R14)
	X4_ISUM(16, 0)
	XS_FLOATS(32(R11), 4, 36(R11))
	ADDQ $144, R10
	X8_NEXT(40, x4q40block, x4q40group)

// func vecQ4_0X8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// vecQ4_0X8AVX2 against actQ8_0B activations (272-byte blocks: the
// quants broadcast @0, -128 times their sum @256, d @260), taken as the
// multiplies' operands. It takes two blocks at a time (X4_ISUMB2), their
// float steps one after the other as before, and an odd last block alone:
// a block of 32 values ends in a chain of float steps, and with two
// blocks' steps side by side a Zen 1 core had more to do while it waits
// (from L2 3-5% faster, BenchmarkLoopCache, alternating the binaries).
// Adds to y (X8_GROUPADD).
TEXT ·vecQ4_0X8BAVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	X8_BYTES(0x0f0f0f0f, X15, Y15)
	X8_BYTES(0x00010001, X14, Y14)
x4q40bgroup:
	X8_GROUPADD
x4q40bblock:
	CMPQ R12, $2
	JB x4q40bone
	PFLINES5(R14)
	X4_ISUMB2(16, 144, 272)
	XS_FLOATS(256(R11), 4, 260(R11))
	XS_FLOATSR(528(R11), 4, 532(R11), 144(R10), Y8, Y12, Y13)
	ADDQ $288, R10
	ADDQ $544, R11
	SUBQ $2, R12
	JNZ x4q40bblock
	JMP x4q40bend
x4q40bone:
	PFLINES3(R14)
	X4_ISUMB(16)
	XS_FLOATS(256(R11), 4, 260(R11))
	ADDQ $144, R10
	ADDQ $272, R11
x4q40bend:
	X8_GROUPEND(x4q40bgroup)

// func vecQ5_0X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q50X8 units against actQ8_0X activations (40-byte blocks: the quants @0,
// -128 times their sum @32, d @36), a group of eight rows at a time. Each
// row's products of the quants q (0..31) are exact words, added in pairs
// into its lane, and its block sum is that less 16 times the activations'
// sum (the -128 times, shifted right by 3): the sum of (q-16) times the
// activations. Then each row's sum += (d_w*d_x)*isum as the portable
// kernel does, block after block.
TEXT ·vecQ5_0X8AVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	X5_CONSTS
x5q50group:
	X8_GROUP
x5q50block:
	PFLINES3(R14)
	X5_ISUM(16, 0)
	XS_FLOATS(32(R11), 3, 36(R11))
	ADDQ $176, R10
	X8_NEXT(40, x5q50block, x5q50group)

// func vecQ5_0X8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// vecQ5_0X8AVX2 against actQ8_0B activations (272-byte blocks: the
// quants broadcast @0, -128 times their sum @256, d @260), taken as the
// multiplies' operands.
// Adds to y (X8_GROUPADD).
TEXT ·vecQ5_0X8BAVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	X5_CONSTS
x5q50bgroup:
	X8_GROUPADD
x5q50bblock:
	PFLINES3(R14)
	X5_ISUMB(16)
	XS_FLOATS(256(R11), 3, 260(R11))
	ADDQ $176, R10
	X8_NEXT(272, x5q50bblock, x5q50bgroup)

// func vecQ4_1X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q41X8 units against actQ8_0 activations (40-byte blocks: d @0, s @4, the
// quants @8), a group of eight rows at a time: q40X8's steps, with the
// quants (0..15) unsigned, then each row's sum += (d_w*d_x)*isum +
// m_w*s_x as the portable kernel does, block after block.
TEXT ·vecQ4_1X8AVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	X8_BYTES(0x0f0f0f0f, X15, Y15)
	X8_BYTES(0x00010001, X14, Y14)
x4q41group:
	X8_GROUP
x4q41block:
	PFLINES3(R14)
	X4_ISUM(32, 8)
	XM_FLOATS(0(R11), 4(R11))
	ADDQ $160, R10
	X8_NEXT(40, x4q41block, x4q41group)

// func vecQ4_1X8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// vecQ4_1X8AVX2 against actQ8_0B activations (272-byte blocks: the
// quants broadcast @0, d @260, s @264), taken as the multiplies'
// operands, two blocks at a time as vecQ4_0X8BAVX2 (from L2 2-6% faster).
// Adds to y (X8_GROUPADD).
TEXT ·vecQ4_1X8BAVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	X8_BYTES(0x0f0f0f0f, X15, Y15)
	X8_BYTES(0x00010001, X14, Y14)
x4q41bgroup:
	X8_GROUPADD
x4q41bblock:
	CMPQ R12, $2
	JB x4q41bone
	PFLINES5(R14)
	X4_ISUMB2(32, 160, 272)
	XM_FLOATS(260(R11), 264(R11))
	XM_FLOATSR(532(R11), 536(R11), 160(R10), 176(R10), Y8, Y11, Y12, Y13)
	ADDQ $320, R10
	ADDQ $544, R11
	SUBQ $2, R12
	JNZ x4q41bblock
	JMP x4q41bend
x4q41bone:
	PFLINES3(R14)
	X4_ISUMB(32)
	XM_FLOATS(260(R11), 264(R11))
	ADDQ $160, R10
	ADDQ $272, R11
x4q41bend:
	X8_GROUPEND(x4q41bgroup)

// func vecQ5_1X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q51X8 units against actQ8_0 activations (d @0, s @4, the quants @8), a
// group of eight rows at a time: the Q5_0 loop's steps, with the quants
// (0..31) unsigned, then each row's sum += (d_w*d_x)*isum + m_w*s_x as the
// portable kernel does, block after block.
TEXT ·vecQ5_1X8AVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	X5_CONSTS
x5q51group:
	X8_GROUP
x5q51block:
	PFLINES3(R14)
	X5_ISUM(32, 8)
	XM_FLOATS(0(R11), 4(R11))
	ADDQ $192, R10
	X8_NEXT(40, x5q51block, x5q51group)

// func vecQ5_1X8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// vecQ5_1X8AVX2 against actQ8_0B activations (272-byte blocks: the
// quants broadcast @0, d @260, s @264), taken as the multiplies'
// operands.
// Adds to y (X8_GROUPADD).
TEXT ·vecQ5_1X8BAVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	X5_CONSTS
x5q51bgroup:
	X8_GROUPADD
x5q51bblock:
	PFLINES3(R14)
	X5_ISUMB(32)
	XM_FLOATS(260(R11), 264(R11))
	ADDQ $192, R10
	X8_NEXT(272, x5q51bblock, x5q51bgroup)

// func spreadQ8_0BAVX2(dst, src *byte, nb int)
// spreadQ8_0BGo in assembly: the nb actQ8_0 blocks at src (40 bytes each)
// into actQ8_0B blocks at dst (272 bytes each). Each block is read before
// its output is written (the frame holds its quants), so the last
// block's source may lie in its output's place.
TEXT ·spreadQ8_0BAVX2(SB), NOSPLIT, $32-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	X8_BYTES(0x01010101, X14, Y14)
	X8_BYTES(0x00010001, X13, Y13)
x0bblock:
	VMOVDQU 8(SI), Y0
	MOVQ 0(SI), R8
	VMOVDQU Y0, 0(SP)
	// -128 times the sum of the quants.
	VPMADDUBSW Y0, Y14, Y1
	VPMADDWD Y13, Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPADDD X2, X1, X1
	VPSHUFD $0x4e, X1, X2
	VPADDD X2, X1, X1
	VPSHUFD $0xb1, X1, X2
	VPADDD X2, X1, X1
	VMOVD X1, AX
	SHLL $7, AX
	NEGL AX
	VPBROADCASTD 0(SP), Y1
	VPBROADCASTD 16(SP), Y2
	VMOVDQU Y1, 0(DI)
	VMOVDQU Y2, 32(DI)
	VPBROADCASTD 4(SP), Y1
	VPBROADCASTD 20(SP), Y2
	VMOVDQU Y1, 64(DI)
	VMOVDQU Y2, 96(DI)
	VPBROADCASTD 8(SP), Y1
	VPBROADCASTD 24(SP), Y2
	VMOVDQU Y1, 128(DI)
	VMOVDQU Y2, 160(DI)
	VPBROADCASTD 12(SP), Y1
	VPBROADCASTD 28(SP), Y2
	VMOVDQU Y1, 192(DI)
	VMOVDQU Y2, 224(DI)
	MOVL AX, 256(DI)
	MOVQ R8, 260(DI)
	MOVL $0, 268(DI)
	ADDQ $272, DI
	ADDQ $40, SI
	DECQ CX
	JNZ x0bblock
	VZEROUPPER
	RET
