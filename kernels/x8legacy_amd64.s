#include "textflag.h"
#include "prefetch_amd64.h"

// The AVX2 loops of the legacy types' layouts interleaved by eight rows
// (interleave_legacy.go), as those of x8_amd64.s: eight rows at a time, each
// 32-bit lane one row, each block's sums added as the portable kernel
// adds them.

// X5_ARGS loads the arguments every loop here takes, (y *float32, w
// *byte, rb, units int, xq *byte, nb, pf int): y in DI, w in R10, the
// groups of eight rows (two a unit) in R9, xq in R13, pf in R14.
#define X5_ARGS \
	MOVQ y+0(FP), DI; \
	MOVQ w+8(FP), R10; \
	MOVQ units+24(FP), R9; \
	SHLQ $1, R9; \
	MOVQ xq+32(FP), R13; \
	MOVQ pf+48(FP), R14

// X5_GROUP starts a group: the activations from the start (R11), nb
// blocks to go (R12), the eight rows' sums (Y0) zero.
#define X5_GROUP \
	MOVQ R13, R11; \
	MOVQ nb+40(FP), R12; \
	VXORPS Y0, Y0, Y0

// X5_BYTES sets ymm (whose low half is xmm) to the dword b in every dword.
#define X5_BYTES(b, xmm, ymm) \
	MOVL $b, AX; \
	VMOVD AX, xmm; \
	VPBROADCASTD xmm, ymm

// X5_QUANTS forms step t of the eight rows' 5-bit quants from its 32
// bytes at woff(R10) and the plane of top bits in Y8 (shifted by the
// instruction shop $cnt so that step t's bits are bits 3 and 4): Y10 the
// quants 4t..4t+3 (bits 0-4), Y9 the quants 16+4t..16+4t+3 (bits 5-7 of
// the step's bytes, then the plane's two bits). Y15 holds 0x1f in every
// byte, Y13 0x07, Y12 0x18; Y11 is scratch.
#define X5_QUANTS(woff, shop, cnt) \
	VMOVDQU woff(R10), Y9; \
	VPAND Y15, Y9, Y10; \
	VPSRLW $5, Y9, Y9; \
	VPAND Y13, Y9, Y9; \
	shop $cnt, Y8, Y11; \
	VPAND Y12, Y11, Y11; \
	VPOR Y11, Y9, Y9

// X5_STEP0 and X5_STEP multiply step t's quants (X5_QUANTS) by the
// activations' quants 4t..4t+3 at xoff(R11) and 16+4t..16+4t+3 at
// xoff+16, each row's two words of products in Y7: the first step of a
// pair sets them, the second adds (two steps of four products a word,
// 8*31*128 < 2^15).
#define X5_STEP0(woff, xoff, shop, cnt) \
	X5_QUANTS(woff, shop, cnt); \
	VPBROADCASTD xoff(R11), Y1; \
	VPBROADCASTD xoff+16(R11), Y2; \
	VPMADDUBSW Y1, Y10, Y10; \
	VPMADDUBSW Y2, Y9, Y9; \
	VPADDW Y10, Y9, Y7

#define X5_STEP(woff, xoff, shop, cnt) \
	X5_QUANTS(woff, shop, cnt); \
	VPBROADCASTD xoff(R11), Y1; \
	VPBROADCASTD xoff+16(R11), Y2; \
	VPMADDUBSW Y1, Y10, Y10; \
	VPMADDUBSW Y2, Y9, Y9; \
	VPADDW Y10, Y7, Y7; \
	VPADDW Y9, Y7, Y7

// X5_ISUM leaves in Y7 each row's integer sum of the products of its
// block's quants (0-31, steps at wo(R10), top bits at wo+128(R10)) with
// the activations' quants (at xo(R11)): two pairs of steps, each pair's
// words added in pairs by VPMADDWD (Y14 words of 1). Y6 is scratch.
#define X5_ISUM(wo, xo) \
	VMOVDQU wo+128(R10), Y8; \
	X5_STEP0(wo, xo, VPSLLW, 3); \
	X5_STEP(wo+32, xo+4, VPSLLW, 1); \
	VPMADDWD Y14, Y7, Y6; \
	X5_STEP0(wo+64, xo+8, VPSRLW, 1); \
	X5_STEP(wo+96, xo+12, VPSRLW, 3); \
	VPMADDWD Y14, Y7, Y7; \
	VPADDD Y6, Y7, Y7

// X4_STEP0 and X4_STEP take step t of the eight rows' 4-bit quants (the
// 32 bytes at woff(R10): quants 4t..4t+3 in the low nibbles,
// 16+4t..16+4t+3 in the high) against the activations' quants 4t..4t+3
// at xoff(R11) and 16+4t..16+4t+3 at xoff+16: the first step sets each
// row's two words in Y7, the others add to them (four steps of four
// products a word, 16*15*128 < 2^15). Y15 holds 0x0f in every byte.
#define X4_STEP0(woff, xoff) \
	VMOVDQU woff(R10), Y9; \
	VPSRLW $4, Y9, Y10; \
	VPAND Y15, Y9, Y9; \
	VPAND Y15, Y10, Y10; \
	VPBROADCASTD xoff(R11), Y1; \
	VPBROADCASTD xoff+16(R11), Y2; \
	VPMADDUBSW Y1, Y9, Y9; \
	VPMADDUBSW Y2, Y10, Y10; \
	VPADDW Y10, Y9, Y7

#define X4_STEP(woff, xoff) \
	VMOVDQU woff(R10), Y9; \
	VPSRLW $4, Y9, Y10; \
	VPAND Y15, Y9, Y9; \
	VPAND Y15, Y10, Y10; \
	VPBROADCASTD xoff(R11), Y1; \
	VPBROADCASTD xoff+16(R11), Y2; \
	VPMADDUBSW Y1, Y9, Y9; \
	VPMADDUBSW Y2, Y10, Y10; \
	VPADDW Y9, Y7, Y7; \
	VPADDW Y10, Y7, Y7

// XM_FLOATS ends a block of the Q4_1 and Q5_1 loops as the portable
// kernel does, each lane one row: Y0 += (d_w*d_x)*isum + m_w*s_x, the
// rows' d_w and m_w (fp16) at 0(R10) and 16(R10), the activations' d_x
// and s_x (actQ8_0) at 0(R11) and 4(R11), isum in Y7.
#define XM_FLOATS \
	VCVTDQ2PS Y7, Y7; \
	VCVTPH2PS 0(R10), Y4; \
	VBROADCASTSS 0(R11), Y5; \
	VMULPS Y5, Y4, Y4; \
	VMULPS Y7, Y4, Y4; \
	VCVTPH2PS 16(R10), Y6; \
	VBROADCASTSS 4(R11), Y5; \
	VMULPS Y5, Y6, Y6; \
	VADDPS Y6, Y4, Y4; \
	VADDPS Y4, Y0, Y0

// X5_CONSTS loads the constants of X5_QUANTS and X5_ISUM.
#define X5_CONSTS \
	X5_BYTES(0x1f1f1f1f, X15, Y15); \
	X5_BYTES(0x07070707, X13, Y13); \
	X5_BYTES(0x18181818, X12, Y12); \
	X5_BYTES(0x00010001, X14, Y14)

// func vecQ4_0X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q40X8 units against actQ8_0X activations (40-byte blocks: the quants @0,
// -128 times their sum @32, d @36), a group of eight rows at a time. Each
// row's products of the quants (0..15) are exact words, added in pairs
// into its lane, and its block sum is that less 8 times the activations'
// sum (the -128 times, shifted right by 4); then each row's sum +=
// (d_w*d_x)*isum as the portable kernel does, block after block.
TEXT ·vecQ4_0X8AVX2(SB), NOSPLIT, $0-56
	X5_ARGS
	X5_BYTES(0x0f0f0f0f, X15, Y15)
	X5_BYTES(0x00010001, X14, Y14)
x8q4group:
	X5_GROUP
x8q4block:
	PFLINES3(R14)
	X4_STEP0(16, 0)
	X4_STEP(48, 4)
	X4_STEP(80, 8)
	X4_STEP(112, 12)
	VPMADDWD Y14, Y7, Y7
	VPBROADCASTD 32(R11), Y8
	VPSRAD $4, Y8, Y8
	VPADDD Y8, Y7, Y7
	VCVTDQ2PS Y7, Y7
	VCVTPH2PS 0(R10), Y4
	VBROADCASTSS 36(R11), Y5
	VMULPS Y5, Y4, Y4
	VMULPS Y7, Y4, Y4
	VADDPS Y4, Y0, Y0
	ADDQ $144, R10
	ADDQ $40, R11
	DECQ R12
	JNZ x8q4block
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ R9
	JNZ x8q4group
	VZEROUPPER
	RET

// func vecQ5_0X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q50X8 units against actQ8_0X activations (40-byte blocks: the quants @0,
// -128 times their sum @32, d @36), a group of eight rows at a time. Each
// row's products of the quants q (0..31) are exact words, added in pairs
// into its lane, and its block sum is that less 16 times the activations'
// sum (the -128 times, shifted right by 3): the sum of (q-16) times the
// activations. Then each row's sum += (d_w*d_x)*isum as the portable
// kernel does, block after block.
TEXT ·vecQ5_0X8AVX2(SB), NOSPLIT, $0-56
	X5_ARGS
	X5_CONSTS
x5q50group:
	X5_GROUP
x5q50block:
	PFLINES3(R14)
	X5_ISUM(16, 0)
	VPBROADCASTD 32(R11), Y5
	VPSRAD $3, Y5, Y5
	VPADDD Y5, Y7, Y7
	VCVTDQ2PS Y7, Y7
	VCVTPH2PS 0(R10), Y4
	VBROADCASTSS 36(R11), Y5
	VMULPS Y5, Y4, Y4
	VMULPS Y7, Y4, Y4
	VADDPS Y4, Y0, Y0
	ADDQ $176, R10
	ADDQ $40, R11
	DECQ R12
	JNZ x5q50block
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ R9
	JNZ x5q50group
	VZEROUPPER
	RET

// func vecQ4_1X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q41X8 units against actQ8_0 activations (40-byte blocks: d @0, s @4, the
// quants @8), a group of eight rows at a time: q40X8's steps, with the
// quants (0..15) unsigned, then each row's sum += (d_w*d_x)*isum +
// m_w*s_x as the portable kernel does, block after block.
TEXT ·vecQ4_1X8AVX2(SB), NOSPLIT, $0-56
	X5_ARGS
	X5_BYTES(0x0f0f0f0f, X15, Y15)
	X5_BYTES(0x00010001, X14, Y14)
x5q41group:
	X5_GROUP
x5q41block:
	PFLINES3(R14)
	X4_STEP0(32, 8)
	X4_STEP(64, 12)
	X4_STEP(96, 16)
	X4_STEP(128, 20)
	VPMADDWD Y14, Y7, Y7
	XM_FLOATS
	ADDQ $160, R10
	ADDQ $40, R11
	DECQ R12
	JNZ x5q41block
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ R9
	JNZ x5q41group
	VZEROUPPER
	RET

// func vecQ5_1X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q51X8 units against actQ8_0 activations (d @0, s @4, the quants @8), a
// group of eight rows at a time: the Q5_0 loop's steps, with the quants
// (0..31) unsigned, then each row's sum += (d_w*d_x)*isum + m_w*s_x as the
// portable kernel does, block after block.
TEXT ·vecQ5_1X8AVX2(SB), NOSPLIT, $0-56
	X5_ARGS
	X5_CONSTS
x5q51group:
	X5_GROUP
x5q51block:
	PFLINES3(R14)
	X5_ISUM(32, 8)
	XM_FLOATS
	ADDQ $192, R10
	ADDQ $40, R11
	DECQ R12
	JNZ x5q51block
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ R9
	JNZ x5q51group
	VZEROUPPER
	RET
