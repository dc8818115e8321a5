#include "textflag.h"
#include "prefetch_amd64.h"
#include "x8_amd64.h"

// The AVX2 loops of the layouts interleaved by eight rows, q4KX8 (and
// q4KX8B), q8X8, q6KX8 and q5KX8 (interleave.go): eight rows at a time,
// each 32-bit lane one row.

// X8_FLOATS ends a block of the Q4_K and Q5_K loops as the portable
// kernel does, each lane one row: Y0 += d*dx*isum - dmin*dx*summs, the
// rows' d and dmin (fp16) at dq and dm, dx at dx, isum in Y6, summs in Y5.
#define X8_FLOATS(dq, dm, dx) \
	VCVTDQ2PS Y6, Y6; \
	VCVTDQ2PS Y5, Y5; \
	VCVTPH2PS dq, Y9; \
	VCVTPH2PS dm, Y10; \
	VBROADCASTSS dx, Y11; \
	VMULPS Y11, Y9, Y9; \
	VMULPS Y6, Y9, Y9; \
	VMULPS Y11, Y10, Y10; \
	VMULPS Y5, Y10, Y10; \
	VSUBPS Y10, Y9, Y9; \
	VADDPS Y9, Y0, Y0

// Masks of the scale unpacking, in every byte.
DATA x8m3f<>+0(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA x8m3f<>+8(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA x8m3f<>+16(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA x8m3f<>+24(SB)/8, $0x3f3f3f3f3f3f3f3f
GLOBL x8m3f<>(SB), RODATA|NOPTR, $32
DATA x8m30<>+0(SB)/8, $0x3030303030303030
DATA x8m30<>+8(SB)/8, $0x3030303030303030
DATA x8m30<>+16(SB)/8, $0x3030303030303030
DATA x8m30<>+24(SB)/8, $0x3030303030303030
GLOBL x8m30<>(SB), RODATA|NOPTR, $32
DATA x8nib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA x8nib<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA x8nib<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA x8nib<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL x8nib<>(SB), RODATA|NOPTR, $32

// VPSHUFB indices that spread field j (byte 4r+j, r the row within the
// 128-bit lane) of four fields a row into words 2r and 2r+1, zero-extended:
// the scales of one sub-block in the lanes VPMADDUBSW leaves a row's sums.
// 32 bytes per j (the same 16 in both lanes).
DATA x8sc<>+0(SB)/8, $0x8004800480008000
DATA x8sc<>+8(SB)/8, $0x800c800c80088008
DATA x8sc<>+16(SB)/8, $0x8004800480008000
DATA x8sc<>+24(SB)/8, $0x800c800c80088008
DATA x8sc<>+32(SB)/8, $0x8005800580018001
DATA x8sc<>+40(SB)/8, $0x800d800d80098009
DATA x8sc<>+48(SB)/8, $0x8005800580018001
DATA x8sc<>+56(SB)/8, $0x800d800d80098009
DATA x8sc<>+64(SB)/8, $0x8006800680028002
DATA x8sc<>+72(SB)/8, $0x800e800e800a800a
DATA x8sc<>+80(SB)/8, $0x8006800680028002
DATA x8sc<>+88(SB)/8, $0x800e800e800a800a
DATA x8sc<>+96(SB)/8, $0x8007800780038003
DATA x8sc<>+104(SB)/8, $0x800f800f800b800b
DATA x8sc<>+112(SB)/8, $0x8007800780038003
DATA x8sc<>+120(SB)/8, $0x800f800f800b800b
GLOBL x8sc<>(SB), RODATA|NOPTR, $128

// X8_SCALES unpacks the 6-bit scales and mins of the eight rows' block at
// R10 (bytes 0-3, 4-7 and 8-11 of each row's twelve at 32, 64 and 96): Y1
// the scales of sub-blocks 0-3 (row r's at 4r), Y2 those of 4-7, Y3 and
// Y4 the mins likewise. For j < 4, s_j = p[j]&63 and m_j = p[j+4]&63; for
// j >= 4, the low four bits are the low (s) and high (m) nibbles of
// p[j+4], the high two bits the top bits of p[j-4] (s) and p[j] (m).
// (Word shifts move bits across bytes; the masks drop them.)
#define X8_SCALES \
	VMOVDQU 32(R10), Y9; \
	VMOVDQU 64(R10), Y10; \
	VMOVDQU 96(R10), Y11; \
	VPAND x8m3f<>(SB), Y9, Y1; \
	VPAND x8m3f<>(SB), Y10, Y3; \
	VPAND Y15, Y11, Y2; \
	VPSRLW $2, Y9, Y12; \
	VPAND x8m30<>(SB), Y12, Y12; \
	VPOR Y12, Y2, Y2; \
	VPSRLW $4, Y11, Y4; \
	VPAND Y15, Y4, Y4; \
	VPSRLW $2, Y10, Y12; \
	VPAND x8m30<>(SB), Y12, Y12; \
	VPOR Y12, Y4, Y4

// X8_MINS leaves in Y5 each row's mins times the activations' sums of the
// sub-blocks (the eight words at so(R11)): the mins widened
// to words, two rows a lane at a time, multiplied and added in pairs by
// VPMADDWD, and the pairs of each row added by VPHADDD, which leaves the
// rows in order. Y14 is zero.
#define X8_MINS(so) \
	VPBROADCASTQ so(R11), Y12; \
	VPBROADCASTQ so+8(R11), Y13; \
	VPUNPCKLBW Y14, Y3, Y9; \
	VPMADDWD Y12, Y9, Y9; \
	VPUNPCKLBW Y14, Y4, Y10; \
	VPMADDWD Y13, Y10, Y10; \
	VPADDD Y10, Y9, Y9; \
	VPUNPCKHBW Y14, Y3, Y10; \
	VPMADDWD Y12, Y10, Y10; \
	VPUNPCKHBW Y14, Y4, Y11; \
	VPMADDWD Y13, Y11, Y11; \
	VPADDD Y11, Y10, Y10; \
	VPHADDD Y10, Y9, Y5

// X8_STEP0 and X8_STEP take step t of a chunk (the 32 bytes at woff(R10))
// against the activations' four bytes of each of its sub-blocks at loff
// and hoff (R11): the first step sets the words of the two sub-blocks
// (Y7, Y8), the others add to them.
#define X8_STEP0(woff, loff, hoff) \
	VMOVDQU woff(R10), Y7; \
	VPSRLW $4, Y7, Y8; \
	VPAND Y15, Y7, Y7; \
	VPAND Y15, Y8, Y8; \
	VPBROADCASTD loff(R11), Y11; \
	VPBROADCASTD hoff(R11), Y12; \
	VPMADDUBSW Y11, Y7, Y7; \
	VPMADDUBSW Y12, Y8, Y8

#define X8_STEP(woff, loff, hoff) \
	VMOVDQU woff(R10), Y9; \
	VPSRLW $4, Y9, Y10; \
	VPAND Y15, Y9, Y9; \
	VPAND Y15, Y10, Y10; \
	VPBROADCASTD loff(R11), Y11; \
	VPBROADCASTD hoff(R11), Y12; \
	VPMADDUBSW Y11, Y9, Y9; \
	VPMADDUBSW Y12, Y10, Y10; \
	VPADDW Y9, Y7, Y7; \
	VPADDW Y10, Y8, Y8

// X8_CHUNK takes the 64-value chunk of the block at R10 (8 steps of 32
// bytes; R10 is advanced past it), whose sub-blocks' activations are at
// lo and hi (R11), and scales the two sub-blocks' sums by their scales,
// fields j and j+1 (byte offsets jo and jo+32 of x8sc) of S, into Y7.
#define X8_CHUNK(lo, hi, S, jo) \
	PFLINES4(R14); \
	X8_STEP0(0, lo, hi); \
	X8_STEP(32, lo+4, hi+4); \
	X8_STEP(64, lo+8, hi+8); \
	X8_STEP(96, lo+12, hi+12); \
	X8_STEP(128, lo+16, hi+16); \
	X8_STEP(160, lo+20, hi+20); \
	X8_STEP(192, lo+24, hi+24); \
	X8_STEP(224, lo+28, hi+28); \
	VPSHUFB x8sc<>+jo(SB), S, Y13; \
	VPMADDWD Y13, Y7, Y7; \
	VPSHUFB x8sc<>+jo+32(SB), S, Y13; \
	VPMADDWD Y13, Y8, Y8; \
	VPADDD Y8, Y7, Y7; \
	ADDQ $256, R10

// Masks of the Q3_K loop, in every byte.
DATA x3m04<>+0(SB)/8, $0x0404040404040404
DATA x3m04<>+8(SB)/8, $0x0404040404040404
DATA x3m04<>+16(SB)/8, $0x0404040404040404
DATA x3m04<>+24(SB)/8, $0x0404040404040404
GLOBL x3m04<>(SB), RODATA|NOPTR, $32
DATA x3m01<>+0(SB)/8, $0x0101010101010101
DATA x3m01<>+8(SB)/8, $0x0101010101010101
DATA x3m01<>+16(SB)/8, $0x0101010101010101
DATA x3m01<>+24(SB)/8, $0x0101010101010101
GLOBL x3m01<>(SB), RODATA|NOPTR, $32
DATA x3m06<>+0(SB)/8, $0x0606060606060606
DATA x3m06<>+8(SB)/8, $0x0606060606060606
DATA x3m06<>+16(SB)/8, $0x0606060606060606
DATA x3m06<>+24(SB)/8, $0x0606060606060606
GLOBL x3m06<>(SB), RODATA|NOPTR, $32
DATA x3m0c<>+0(SB)/8, $0x0c0c0c0c0c0c0c0c
DATA x3m0c<>+8(SB)/8, $0x0c0c0c0c0c0c0c0c
DATA x3m0c<>+16(SB)/8, $0x0c0c0c0c0c0c0c0c
DATA x3m0c<>+24(SB)/8, $0x0c0c0c0c0c0c0c0c
GLOBL x3m0c<>(SB), RODATA|NOPTR, $32
DATA x3m20<>+0(SB)/8, $0x2020202020202020
DATA x3m20<>+8(SB)/8, $0x2020202020202020
DATA x3m20<>+16(SB)/8, $0x2020202020202020
DATA x3m20<>+24(SB)/8, $0x2020202020202020
GLOBL x3m20<>(SB), RODATA|NOPTR, $32

// X3_SCALES decodes the eight rows' scales of the Q3_K block at BX (its
// three planes at 16, 48 and 80) into the frame: R0-R3 (see q3KX8), less
// 32, as signed bytes at 0, 32, 64 and 96(SP).
#define X3_SCALES \
	VMOVDQU 16(BX), Y7; \
	VMOVDQU 48(BX), Y8; \
	VMOVDQU 80(BX), Y9; \
	VPAND x8m3f<>(SB), Y7, Y10; \
	VPSUBB x3m20<>(SB), Y10, Y10; \
	VMOVDQU Y10, 0(SP); \
	VPAND x8m3f<>(SB), Y8, Y10; \
	VPSUBB x3m20<>(SB), Y10, Y10; \
	VMOVDQU Y10, 32(SP); \
	VPAND x8m3f<>(SB), Y9, Y10; \
	VPSUBB x3m20<>(SB), Y10, Y10; \
	VMOVDQU Y10, 64(SP); \
	VPSRLW $6, Y7, Y7; \
	VPAND x2m03<>(SB), Y7, Y7; \
	VPSRLW $4, Y8, Y8; \
	VPAND x3m0c<>(SB), Y8, Y8; \
	VPSRLW $2, Y9, Y9; \
	VPAND x8m30<>(SB), Y9, Y9; \
	VPOR Y8, Y7, Y7; \
	VPOR Y9, Y7, Y7; \
	VPSUBB x3m20<>(SB), Y7, Y7; \
	VMOVDQU Y7, 96(SP)

// K_MUL4 takes the four steps of a sub-block of the Q2_K and Q3_K loops,
// quants (unsigned) in q0-q3, against its activations (actQ8_K, from
// xoff(R11), four a step, broadcast through t): the steps' words added
// (4*2*7*128 < 2^15), scaled by S (each row's scale in both words of its
// lane) into Y6.
#define K_MUL4(q0, q1, q2, q3, xoff, S, t) \
	VPBROADCASTD xoff(R11), t; \
	VPMADDUBSW t, q0, q0; \
	VPBROADCASTD xoff+4(R11), t; \
	VPMADDUBSW t, q1, q1; \
	VPBROADCASTD xoff+8(R11), t; \
	VPMADDUBSW t, q2, q2; \
	VPBROADCASTD xoff+12(R11), t; \
	VPMADDUBSW t, q3, q3; \
	VPADDW q1, q0, q0; \
	VPADDW q3, q2, q2; \
	VPADDW q2, q0, q0; \
	VPMADDWD S, q0, q0; \
	VPADDD q0, Y6, Y6

// K_MUL4B is K_MUL4 over actQ8_KB activations: the four steps at xo,
// xo+64, xo+128 and xo+192, already broadcast, taken as the multiplies'
// operands (t unused).
#define K_MUL4B(q0, q1, q2, q3, xo, S, t) \
	VPMADDUBSW xo(R11), q0, q0; \
	VPMADDUBSW xo+64(R11), q1, q1; \
	VPMADDUBSW xo+128(R11), q2, q2; \
	VPMADDUBSW xo+192(R11), q3, q3; \
	VPADDW q1, q0, q0; \
	VPADDW q3, q2, q2; \
	VPADDW q2, q0, q0; \
	VPMADDWD S, q0, q0; \
	VPADDD q0, Y6, Y6

// X3_PAIR takes sub-blocks 2p and 2p+1: their scales widened (each lane
// one row's pair) times the activations' sums of the two into Y5 (the
// offset of 4, taken off at the end), duplicated for each sub-block; the
// pair's three words unpacked into eight steps of whole quants (Y13 0x07).
#define X3_PAIR(p, MUL, so, xa, xb) \
	VPMOVSXBW (16*(p))(SP), Y1; \
	VPBROADCASTD (so+4*(p))(R11), Y2; \
	VPMADDWD Y1, Y2, Y2; \
	VPADDD Y2, Y5, Y5; \
	VPSHUFB x2dupe<>(SB), Y1, Y2; \
	VPSHUFB x2dupo<>(SB), Y1, Y3; \
	VMOVDQU (112+96*(p))(BX), Y7; \
	VMOVDQU (144+96*(p))(BX), Y8; \
	VMOVDQU (176+96*(p))(BX), Y9; \
	VPAND Y13, Y7, Y10; \
	VPSRLW $3, Y7, Y11; \
	VPAND Y13, Y11, Y11; \
	VPSRLW $6, Y7, Y12; \
	VPAND x2m03<>(SB), Y12, Y12; \
	VPSRLW $4, Y8, Y1; \
	VPAND x3m04<>(SB), Y1, Y1; \
	VPOR Y1, Y12, Y12; \
	VPAND Y13, Y8, Y4; \
	MUL(Y10, Y11, Y12, Y4, xa, Y2, Y15); \
	VPSRLW $3, Y8, Y10; \
	VPAND Y13, Y10, Y10; \
	VPSRLW $7, Y8, Y11; \
	VPAND x3m01<>(SB), Y11, Y11; \
	VPSRLW $5, Y9, Y1; \
	VPAND x3m06<>(SB), Y1, Y1; \
	VPOR Y1, Y11, Y11; \
	VPAND Y13, Y9, Y12; \
	VPSRLW $3, Y9, Y4; \
	VPAND Y13, Y4, Y4; \
	MUL(Y10, Y11, Y12, Y4, xb, Y3, Y15)

// func vecQ4_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q4KX8 units against actQ8_KP activations (sub-blocks in the order 0 2 1
// 3 4 6 5 7, the eight sub-block sums at 256, d at 272), a group of eight
// rows at a time. Each block's integer sums are exact and its float steps
// are the portable kernel's, in its order, each lane one row:
// sum += d*dx*isum - dmin*dx*summs.
TEXT ·vecQ4_KX8AVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	VMOVDQU x8nib<>(SB), Y15
	VPXOR Y14, Y14, Y14
x8group:
	X8_GROUP
x8block:
	PFLINES2(R14)
	X8_SCALES
	X8_MINS(256)
	ADDQ $128, R10
	X8_CHUNK(0, 64, Y1, 0)
	VMOVDQA Y7, Y6
	X8_CHUNK(32, 96, Y1, 64)
	VPADDD Y7, Y6, Y6
	X8_CHUNK(128, 192, Y2, 0)
	VPADDD Y7, Y6, Y6
	X8_CHUNK(160, 224, Y2, 64)
	VPADDD Y7, Y6, Y6
	X8_FLOATS(-1152(R10), -1136(R10), 272(R11))
	X8_NEXT(320, x8block, x8group)

// X8B_P and X8B_CHUNK are X8_STEP and X8_CHUNK over actQ8_KB
// activations: step t of chunk c's two sub-blocks at 512c+64t and 32
// bytes on, already broadcast, taken as the multiplies' operands. X8B_P
// forms two steps, t and t+1 (woff and woff+32, xoff and xoff+64), each
// operation of the two beside the other's (on a Zen 1 core 4-5% faster
// than a step at a time): their words in a and b (the low nibbles'
// sub-block, steps t and t+1) and c and d (the high nibbles'). X8B_A adds
// them to the sub-blocks' words, Y7 and Y8.
//
// X8B_CHUNK adds each pair of steps' words only after it has formed the
// next pair, in the other set of registers: the multiplies of a pair then
// come before the additions of the last in the program. On a Zen 1 core,
// whose one multiplying pipe also takes additions and ANDs, the
// multiplies are then presumably the older operations when both are
// ready, and keep that pipe more of the time. From L2 the loop went from 16.2-16.6
// to 17.5-17.7 GB/s a core (BenchmarkLoopCache, alternating the
// binaries), and TinyLlama Q4_K_M's decode from 87.8-91.0% of the bound
// to 89.9-93.3% (four rounds each).
#define X8B_P(woff, xoff, a, b, c, d) \
	X8_NIB2(woff(R10), woff+32(R10), xoff(R11), xoff+64(R11), xoff+32(R11), xoff+96(R11), a, b, c, d)

#define X8B_A(a, b, c, d) \
	VPADDW a, Y7, Y7; \
	VPADDW c, Y8, Y8; \
	VPADDW b, Y7, Y7; \
	VPADDW d, Y8, Y8

// X8B_CHUNK's second set of registers is Y3, Y4 (the mins, which X8_MINS
// has used by then), Y13 and Y14 (zero again at each block's start).
#define X8B_CHUNK(xc, S, jo) \
	PFLINES4(R14); \
	X8B_P(0, xc, Y9, Y10, Y11, Y12); \
	X8B_P(64, xc+128, Y3, Y4, Y13, Y14); \
	VPADDW Y10, Y9, Y7; \
	VPADDW Y12, Y11, Y8; \
	X8B_P(128, xc+256, Y9, Y10, Y11, Y12); \
	X8B_A(Y3, Y4, Y13, Y14); \
	X8B_P(192, xc+384, Y3, Y4, Y13, Y14); \
	X8B_A(Y9, Y10, Y11, Y12); \
	X8B_A(Y3, Y4, Y13, Y14); \
	VPSHUFB x8sc<>+jo(SB), S, Y13; \
	VPMADDWD Y13, Y7, Y7; \
	VPSHUFB x8sc<>+jo+32(SB), S, Y13; \
	VPMADDWD Y13, Y8, Y8; \
	VPADDD Y8, Y7, Y7; \
	ADDQ $256, R10

// func vecQ4_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// vecQ4_KX8AVX2 against actQ8_KB activations (the quants broadcast, the
// sub-block sums at 2048, d at 2064): the same sums, with no broadcasts.
// Adds to y (X8_GROUPADD).
TEXT ·vecQ4_KX8BAVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	VMOVDQU x8nib<>(SB), Y15
	VPXOR Y14, Y14, Y14
x8bgroup:
	X8_GROUPADD
x8bblock:
	PFLINES2(R14)
	VPXOR Y14, Y14, Y14 // X8B_CHUNK uses it
	X8_SCALES
	X8_MINS(2048)
	ADDQ $128, R10
	X8B_CHUNK(0, Y1, 0)
	VMOVDQA Y7, Y6
	X8B_CHUNK(512, Y1, 64)
	VPADDD Y7, Y6, Y6
	X8B_CHUNK(1024, Y2, 0)
	VPADDD Y7, Y6, Y6
	X8B_CHUNK(1536, Y2, 64)
	VPADDD Y7, Y6, Y6
	X8_FLOATS(-1152(R10), -1136(R10), 2064(R11))
	X8_NEXT(2112, x8bblock, x8bgroup)

// KB_STEP broadcasts step t of a chunk: the activations' quants 4t..4t+3
// of its two sub-blocks, at lo and hi in the frame, to the 32 bytes at
// out and out+32 (DI).
#define KB_STEP(lo, hi, out) \
	VPBROADCASTD lo(SP), Y0; \
	VPBROADCASTD hi(SP), Y1; \
	VMOVDQU Y0, out(DI); \
	VMOVDQU Y1, out+32(DI)

// KB_CHUNK spreads chunk c's eight steps (sub-blocks 2c and 2c+1, at lo
// and lo+32 in the frame's actQ8_K block) to o = 512c.
#define KB_CHUNK(lo, o) \
	KB_STEP(lo, lo+32, o); \
	KB_STEP(lo+4, lo+36, o+64); \
	KB_STEP(lo+8, lo+40, o+128); \
	KB_STEP(lo+12, lo+44, o+192); \
	KB_STEP(lo+16, lo+48, o+256); \
	KB_STEP(lo+20, lo+52, o+320); \
	KB_STEP(lo+24, lo+56, o+384); \
	KB_STEP(lo+28, lo+60, o+448)

// func spreadQ8_KBAVX2(dst, src *byte, nb int)
// spreadQ8_KBGo in assembly: each actQ8_K block at src (292 bytes: d,
// the quants at 4, the sums of each 16 at 260) is copied to the frame,
// which the spread then reads while it writes the actQ8_KB block at dst
// (which may overlap the source block, never a later one).
TEXT ·spreadQ8_KBAVX2(SB), NOSPLIT, $320-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
kbblock:
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VMOVDQU 128(SI), Y4
	VMOVDQU 160(SI), Y5
	VMOVDQU 192(SI), Y6
	VMOVDQU 224(SI), Y7
	VMOVDQU 256(SI), Y8
	MOVL 288(SI), AX
	VMOVDQU Y0, 0(SP)
	VMOVDQU Y1, 32(SP)
	VMOVDQU Y2, 64(SP)
	VMOVDQU Y3, 96(SP)
	VMOVDQU Y4, 128(SP)
	VMOVDQU Y5, 160(SP)
	VMOVDQU Y6, 192(SP)
	VMOVDQU Y7, 224(SP)
	VMOVDQU Y8, 256(SP)
	MOVL AX, 288(SP)
	KB_CHUNK(4, 0)
	KB_CHUNK(68, 512)
	KB_CHUNK(132, 1024)
	KB_CHUNK(196, 1536)
	// The sub-block sums (pairs of the sums of 16 added), d, twelve bytes
	// of zeros, then the sums of 16.
	VMOVDQU 260(SP), X0
	VMOVDQU 276(SP), X1
	VPHADDW X1, X0, X0
	VMOVDQU X0, 2048(DI)
	MOVL 0(SP), AX
	MOVL AX, 2064(DI)
	MOVL $0, 2068(DI)
	MOVQ $0, 2072(DI)
	VMOVDQU 260(SP), Y0
	VMOVDQU Y0, 2080(DI)
	ADDQ $292, SI
	ADDQ $2112, DI
	DECQ CX
	JNZ kbblock
	VZEROUPPER
	RET

// func moveQ8_KRAVX2(b, qs, sums *byte)
// moveQ8_KR in assembly, but for d: the quants of the actQ8_K block b
// (at 4) to qs with their sub-blocks in kpOrder, and the sums of each
// pair of its sums of 16 (at 260) to sums (int16[8]).
TEXT ·moveQ8_KRAVX2(SB), NOSPLIT, $0-24
	MOVQ b+0(FP), SI
	MOVQ qs+8(FP), DI
	MOVQ sums+16(FP), DX
	VMOVDQU 4(SI), Y0
	VMOVDQU 36(SI), Y1
	VMOVDQU 68(SI), Y2
	VMOVDQU 100(SI), Y3
	VMOVDQU 132(SI), Y4
	VMOVDQU 164(SI), Y5
	VMOVDQU 196(SI), Y6
	VMOVDQU 228(SI), Y7
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y1, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VMOVDQU Y6, 160(DI)
	VMOVDQU Y5, 192(DI)
	VMOVDQU Y7, 224(DI)
	VMOVDQU 260(SI), X0
	VMOVDQU 276(SI), X1
	VPHADDW X1, X0, X0
	VMOVDQU X0, (DX)
	VZEROUPPER
	RET

DATA x8ones<>+0(SB)/8, $0x0001000100010001
DATA x8ones<>+8(SB)/8, $0x0001000100010001
DATA x8ones<>+16(SB)/8, $0x0001000100010001
DATA x8ones<>+24(SB)/8, $0x0001000100010001
GLOBL x8ones<>(SB), RODATA|NOPTR, $32

// X8Q8_STEP adds to Y6 step t of the eight rows' block at R10 (their
// quants 4t..4t+3, at woff) against the activations' quants 4t..4t+3 (at
// xoff(R11)): the weights' absolute values times the activations with
// the weights' signs (as the row loop does: a weight of -128 stays
// right), words added in pairs into each row's lane.
#define X8Q8_STEP(woff, xoff) \
	VMOVDQU woff(R10), Y2; \
	VPBROADCASTD xoff(R11), Y1; \
	VPABSB Y2, Y3; \
	VPSIGNB Y2, Y1, Y1; \
	VPMADDUBSW Y1, Y3, Y1; \
	VPMADDWD Y15, Y1, Y1; \
	VPADDD Y1, Y6, Y6

// func vecQ8_0X8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q8X8 units against actQ8_0 activations (40-byte blocks: d @0, the quants
// @8), a group of eight rows at a time. Each block's integer sums are
// exact, and each row's sum += (d_w*d_x)*isum as the portable kernel
// does, block after block.
TEXT ·vecQ8_0X8AVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	VMOVDQU x8ones<>(SB), Y15
x8q8group:
	X8_GROUP
x8q8block:
	PFLINES5(R14)
	VPXOR Y6, Y6, Y6
	X8Q8_STEP(16, 8)
	X8Q8_STEP(48, 12)
	X8Q8_STEP(80, 16)
	X8Q8_STEP(112, 20)
	X8Q8_STEP(144, 24)
	X8Q8_STEP(176, 28)
	X8Q8_STEP(208, 32)
	X8Q8_STEP(240, 36)
	VCVTDQ2PS Y6, Y6
	VCVTPH2PS 0(R10), Y4
	VBROADCASTSS 0(R11), Y5
	VMULPS Y5, Y4, Y4
	VMULPS Y6, Y4, Y4
	VADDPS Y4, Y0, Y0
	ADDQ $272, R10
	X8_NEXT(40, x8q8block, x8q8group)

// VPSHUFB indices of the Q6_K loop over the scales of a pair of
// sub-blocks widened to words (rows 0-3's scales of sub-block 2p, then of
// 2p+1, in each 128-bit lane, rows 4-7 in the upper one): x6sa and x6sb
// spread the scale of row r of sub-block 2p (2p+1) into words 2r and 2r+1,
// where VPMADDUBSW leaves the row's sums; x6sc puts each row's two scales
// side by side, for the sums of the activations.
DATA x6sa<>+0(SB)/8, $0x0302030201000100
DATA x6sa<>+8(SB)/8, $0x0706070605040504
DATA x6sa<>+16(SB)/8, $0x0302030201000100
DATA x6sa<>+24(SB)/8, $0x0706070605040504
GLOBL x6sa<>(SB), RODATA|NOPTR, $32
DATA x6sb<>+0(SB)/8, $0x0b0a0b0a09080908
DATA x6sb<>+8(SB)/8, $0x0f0e0f0e0d0c0d0c
DATA x6sb<>+16(SB)/8, $0x0b0a0b0a09080908
DATA x6sb<>+24(SB)/8, $0x0f0e0f0e0d0c0d0c
GLOBL x6sb<>(SB), RODATA|NOPTR, $32
DATA x6sc<>+0(SB)/8, $0x0b0a030209080100
DATA x6sc<>+8(SB)/8, $0x0f0e07060d0c0504
DATA x6sc<>+16(SB)/8, $0x0b0a030209080100
DATA x6sc<>+24(SB)/8, $0x0f0e07060d0c0504
GLOBL x6sc<>(SB), RODATA|NOPTR, $32
DATA x6hi<>+0(SB)/8, $0xc0c0c0c0c0c0c0c0
DATA x6hi<>+8(SB)/8, $0xc0c0c0c0c0c0c0c0
DATA x6hi<>+16(SB)/8, $0xc0c0c0c0c0c0c0c0
DATA x6hi<>+24(SB)/8, $0xc0c0c0c0c0c0c0c0
GLOBL x6hi<>(SB), RODATA|NOPTR, $32

// X8_OFFSET_FLOATS ends a block of the Q6_K and Q3_K loops, whose quants
// are taken unsigned: their offset (2^sh) times the scales by the
// activations' sums (Y5) taken off the integer sums (Y6), then each row's
// sum += (d_w*d_x)*isum, d_w at dq (eight halves), d_x at dx; the rows
// size bytes on (R10).
#define X8_OFFSET_FLOATS(sh, dq, dx, size) \
	VPSLLD $sh, Y5, Y5; \
	VPSUBD Y5, Y6, Y6; \
	VCVTDQ2PS Y6, Y6; \
	VCVTPH2PS dq, Y7; \
	VBROADCASTSS dx, Y8; \
	VMULPS Y8, Y7, Y7; \
	VMULPS Y6, Y7, Y7; \
	VADDPS Y7, Y0, Y0; \
	ADDQ $size, R10

// X6_SUB adds to Y6 the sums of sub-block j of the eight rows' block at
// R10, scaled by SC (words 2r and 2r+1 row r's scale): the planes' low six
// bits are q_0..q_2 (Y7-Y9), their top bits, shifted together, q_3 (Y10),
// each taken by VPMADDUBSW against its four activations (MUL2, two steps
// at a time: X6_MUL2 broadcasts actQ8_K's at x0, x0+st, x0+2st and
// x0+3st, X6B_MUL2 takes actQ8_KB's, already broadcast, as operands);
// two steps' words are added before VPMADDWD applies the scales
// (2*2*63*128 stays inside 16 bits). The first two steps' multiplies come
// before q_3's shifts and ORs in the program, so that on a Zen 1 core
// they presumably win its one multiplying pipe, which also takes ORs (as
// X8B_CHUNK's additions; from L2, 16.3-16.7 GB/s a core before, 17.1-17.3
// so; BenchmarkLoopCache).
#define X6_SUB(j, SC, MUL2, x0, st) \
	VMOVDQU (144+96*(j))(R10), Y7; \
	VMOVDQU (176+96*(j))(R10), Y8; \
	VMOVDQU (208+96*(j))(R10), Y9; \
	VPAND Y14, Y7, Y10; \
	VPAND Y14, Y8, Y11; \
	VPAND Y14, Y9, Y12; \
	VPAND Y15, Y7, Y7; \
	VPAND Y15, Y8, Y8; \
	VPAND Y15, Y9, Y9; \
	MUL2(Y7, Y8, x0, x0+st); \
	VPSRLW $2, Y10, Y10; \
	VPOR Y11, Y10, Y10; \
	VPSRLW $2, Y10, Y10; \
	VPOR Y12, Y10, Y10; \
	VPSRLW $2, Y10, Y10; \
	VPADDW Y8, Y7, Y7; \
	MUL2(Y9, Y10, x0+2*st, x0+3*st); \
	VPADDW Y10, Y9, Y9; \
	VPMADDWD SC, Y7, Y7; \
	VPMADDWD SC, Y9, Y9; \
	VPADDD Y7, Y6, Y6; \
	VPADDD Y9, Y6, Y6

#define X6_MUL2(qa, qb, xa, xb) \
	VPBROADCASTD xa(R11), Y11; \
	VPMADDUBSW Y11, qa, qa; \
	VPBROADCASTD xb(R11), Y12; \
	VPMADDUBSW Y12, qb, qb

#define X6B_MUL2(qa, qb, xa, xb) \
	VPMADDUBSW xa(R11), qa, qa; \
	VPMADDUBSW xb(R11), qb, qb

// X6_PAIR takes sub-blocks 2p and 2p+1: their scales widened (Y1) and
// spread (Y2, Y3), each row's scales times the activations' sums of the
// two sub-blocks (actQ8_K's or actQ8_KB's sums of 16, at so) added to Y5;
// the sub-blocks' steps at xa and xb, st apart (see X6_SUB).
#define X6_PAIR(p, MUL2, so, xa, xb, st) \
	PFLINES3AT(0, BX, R14); \
	ADDQ $192, BX; \
	VPMOVSXBW (16+16*(p))(R10), Y1; \
	VPSHUFB x6sa<>(SB), Y1, Y2; \
	VPSHUFB x6sb<>(SB), Y1, Y3; \
	VPSHUFB x6sc<>(SB), Y1, Y4; \
	VPBROADCASTD (so+4*(p))(R11), Y13; \
	VPMADDWD Y13, Y4, Y4; \
	VPADDD Y4, Y5, Y5; \
	X6_SUB(2*p, Y2, MUL2, xa, st); \
	X6_SUB(2*p+1, Y3, MUL2, xb, st)

// func vecQ6_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q6KX8 units against actQ8_K activations (d @0, the quants @4, the sums
// of each 16 @260), a group of eight rows at a time. The quants are taken
// unsigned (q in [0, 64)) and 32 times the scales by the activations' sums
// is taken off each block's integer sum, which is then exact; each row's
// sum += (d*dx)*isum as the portable kernel does, block after block.
TEXT ·vecQ6_KX8AVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	VMOVDQU x8m3f<>(SB), Y15
	VMOVDQU x6hi<>(SB), Y14
x6group:
	X8_GROUP
x6block:
	MOVQ R10, BX
	VPXOR Y6, Y6, Y6
	VPXOR Y5, Y5, Y5
	X6_PAIR(0, X6_MUL2, 260, 4, 20, 4)
	X6_PAIR(1, X6_MUL2, 260, 36, 52, 4)
	X6_PAIR(2, X6_MUL2, 260, 68, 84, 4)
	X6_PAIR(3, X6_MUL2, 260, 100, 116, 4)
	X6_PAIR(4, X6_MUL2, 260, 132, 148, 4)
	X6_PAIR(5, X6_MUL2, 260, 164, 180, 4)
	X6_PAIR(6, X6_MUL2, 260, 196, 212, 4)
	X6_PAIR(7, X6_MUL2, 260, 228, 244, 4)
	PFLINES3AT(0, BX, R14)
	X8_OFFSET_FLOATS(5, 0(R10), 0(R11), 1680)
	X8_NEXT(292, x6block, x6group)

// func vecQ6_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// vecQ6_KX8AVX2 against actQ8_KB activations (the quants broadcast, the
// sums of 16 at 2080, d at 2064): the same sums, with no broadcasts of
// the quants.
// Adds to y (X8_GROUPADD).
TEXT ·vecQ6_KX8BAVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	VMOVDQU x8m3f<>(SB), Y15
	VMOVDQU x6hi<>(SB), Y14
x6bgroup:
	X8_GROUPADD
x6bblock:
	MOVQ R10, BX
	VPXOR Y6, Y6, Y6
	VPXOR Y5, Y5, Y5
	X6_PAIR(0, X6B_MUL2, 2080, 0, 256, 64)
	X6_PAIR(1, X6B_MUL2, 2080, 32, 288, 64)
	X6_PAIR(2, X6B_MUL2, 2080, 512, 768, 64)
	X6_PAIR(3, X6B_MUL2, 2080, 544, 800, 64)
	X6_PAIR(4, X6B_MUL2, 2080, 1024, 1280, 64)
	X6_PAIR(5, X6B_MUL2, 2080, 1056, 1312, 64)
	X6_PAIR(6, X6B_MUL2, 2080, 1536, 1792, 64)
	X6_PAIR(7, X6B_MUL2, 2080, 1568, 1824, 64)
	PFLINES3AT(0, BX, R14)
	X8_OFFSET_FLOATS(5, 0(R10), 2064(R11), 1680)
	X8_NEXT(2112, x6bblock, x6bgroup)

DATA x5m1f<>+0(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA x5m1f<>+8(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA x5m1f<>+16(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA x5m1f<>+24(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL x5m1f<>(SB), RODATA|NOPTR, $32
DATA x5m07<>+0(SB)/8, $0x0707070707070707
DATA x5m07<>+8(SB)/8, $0x0707070707070707
DATA x5m07<>+16(SB)/8, $0x0707070707070707
DATA x5m07<>+24(SB)/8, $0x0707070707070707
GLOBL x5m07<>(SB), RODATA|NOPTR, $32
DATA x5m18<>+0(SB)/8, $0x1818181818181818
DATA x5m18<>+8(SB)/8, $0x1818181818181818
DATA x5m18<>+16(SB)/8, $0x1818181818181818
DATA x5m18<>+24(SB)/8, $0x1818181818181818
GLOBL x5m18<>(SB), RODATA|NOPTR, $32

// X5_MUL0 and X5_MUL take step t of a chunk of q5KX8 (its 32 bytes at
// woff(R10), the plane of its quants' top bits in Y13, shifted by shop
// $cnt: X5Q, the masks from memory, since Y15 holds the scales' 0x0f)
// against the activations' four bytes of the chunk's two sub-blocks,
// broadcast to every row, in A and B (registers, or memory in the
// actQ8_KB form): the first step of four sets the two sub-blocks' words
// (Y7, Y8), the others add to them.
#define X5_MUL0(woff, A, B, shop, cnt) \
	X5Q(woff, Y13, x5m1f<>(SB), x5m07<>(SB), x5m18<>(SB), shop, cnt); \
	VPMADDUBSW A, Y10, Y7; \
	VPMADDUBSW B, Y9, Y8

#define X5_MUL(woff, A, B, shop, cnt) \
	X5Q(woff, Y13, x5m1f<>(SB), x5m07<>(SB), x5m18<>(SB), shop, cnt); \
	VPMADDUBSW A, Y10, Y10; \
	VPMADDUBSW B, Y9, Y9; \
	VPADDW Y10, Y7, Y7; \
	VPADDW Y9, Y8, Y8

// X5_APPLY scales four steps' words of the two sub-blocks (Y3, Y4: their
// scales spread to each row's words) and adds them to the block's sums.
#define X5_APPLY \
	VPMADDWD Y3, Y7, Y7; \
	VPMADDWD Y4, Y8, Y8; \
	VPADDD Y7, Y6, Y6; \
	VPADDD Y8, Y6, Y6

// X5_BC broadcasts the activations' four bytes of the two sub-blocks at
// lo and hi (R11, actQ8_KP) into Y12 and Y14.
#define X5_BC(lo, hi) \
	VPBROADCASTD lo(R11), Y12; \
	VPBROADCASTD hi(R11), Y14

// X5_HALF takes four steps of a chunk (from woff(R10), their plane at
// pl(R10)) against the actQ8_KP activations at lo and hi (R11), and X5_HALFB
// against the actQ8_KB ones at xb (R11), then scales them (X5_APPLY).
#define X5_HALF(woff, pl, lo, hi) \
	VMOVDQU pl(R10), Y13; \
	X5_BC(lo, hi); \
	X5_MUL0(woff, Y12, Y14, VPSLLW, 3); \
	X5_BC(lo+4, hi+4); \
	X5_MUL(woff+32, Y12, Y14, VPSLLW, 1); \
	X5_BC(lo+8, hi+8); \
	X5_MUL(woff+64, Y12, Y14, VPSRLW, 1); \
	X5_BC(lo+12, hi+12); \
	X5_MUL(woff+96, Y12, Y14, VPSRLW, 3); \
	X5_APPLY

#define X5_HALFB(woff, pl, xb) \
	VMOVDQU pl(R10), Y13; \
	X5_MUL0(woff, xb(R11), xb+32(R11), VPSLLW, 3); \
	X5_MUL(woff+32, xb+64(R11), xb+96(R11), VPSLLW, 1); \
	X5_MUL(woff+64, xb+128(R11), xb+160(R11), VPSRLW, 1); \
	X5_MUL(woff+96, xb+192(R11), xb+224(R11), VPSRLW, 3); \
	X5_APPLY

// X5_CHUNK takes chunk c of the block (its 320 bytes at R10, which is
// advanced past them): sub-blocks 2c and 2c+1, whose activations are at lo
// and hi (R11), scaled by fields j and j+1 (x8sc offsets jo, jo+32) of S.
// X5_CHUNKB is X5_CHUNK against the actQ8_KB activations of the chunk at
// xc (R11).
#define X5_CHUNK(lo, hi, S, jo) \
	PFLINES5(R14); \
	VPSHUFB x8sc<>+jo(SB), S, Y3; \
	VPSHUFB x8sc<>+jo+32(SB), S, Y4; \
	X5_HALF(0, 256, lo, hi); \
	X5_HALF(128, 288, lo+16, hi+16); \
	ADDQ $320, R10

#define X5_CHUNKB(xc, S, jo) \
	PFLINES5(R14); \
	VPSHUFB x8sc<>+jo(SB), S, Y3; \
	VPSHUFB x8sc<>+jo+32(SB), S, Y4; \
	X5_HALFB(0, 256, xc); \
	X5_HALFB(128, 288, xc+256); \
	ADDQ $320, R10

// X5_HEAD starts a block of the Q5_K loops: the header (R10, kept in BX
// for the float steps) prefetched, the scales and mins unpacked, the mins
// term against the activations' sums at so(R11), the sums zero, R10 at the
// first chunk.
#define X5_HEAD(so) \
	MOVQ R10, BX; \
	PFLINES2(R14); \
	X8_SCALES; \
	VPXOR Y14, Y14, Y14; \
	X8_MINS(so); \
	VPXOR Y6, Y6, Y6; \
	ADDQ $128, R10

// func vecQ5_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q5KX8 units against actQ8_KP activations, a group of eight rows at a
// time: vecQ4_KX8AVX2 with the quants whole, whose sums are the portable
// kernel's in its order.
TEXT ·vecQ5_KX8AVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	VMOVDQU x8nib<>(SB), Y15
x5group:
	X8_GROUP
x5block:
	X5_HEAD(256)
	X5_CHUNK(0, 64, Y1, 0)
	X5_CHUNK(32, 96, Y1, 64)
	X5_CHUNK(128, 192, Y2, 0)
	X5_CHUNK(160, 224, Y2, 64)
	X8_FLOATS(0(BX), 16(BX), 272(R11))
	X8_NEXT(320, x5block, x5group)

// func vecQ5_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// vecQ5_KX8AVX2 against actQ8_KB activations (the quants broadcast, the
// sub-block sums at 2048, d at 2064), taken as the multiplies' operands.
// Adds to y (X8_GROUPADD).
TEXT ·vecQ5_KX8BAVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	VMOVDQU x8nib<>(SB), Y15
x5bgroup:
	X8_GROUPADD
x5bblock:
	X5_HEAD(2048)
	X5_CHUNKB(0, Y1, 0)
	X5_CHUNKB(512, Y1, 64)
	X5_CHUNKB(1024, Y2, 0)
	X5_CHUNKB(1536, Y2, 64)
	X8_FLOATS(0(BX), 16(BX), 2064(R11))
	X8_NEXT(2112, x5bblock, x5bgroup)

// Masks and VPSHUFB indices of the Q2_K loop: 0x03 in every byte, 0x000f
// in every word, and each dword's first (x2dupe) or second (x2dupo) word
// in both its words.
DATA x2m03<>+0(SB)/8, $0x0303030303030303
DATA x2m03<>+8(SB)/8, $0x0303030303030303
DATA x2m03<>+16(SB)/8, $0x0303030303030303
DATA x2m03<>+24(SB)/8, $0x0303030303030303
GLOBL x2m03<>(SB), RODATA|NOPTR, $32
DATA x2m0f<>+0(SB)/8, $0x000f000f000f000f
DATA x2m0f<>+8(SB)/8, $0x000f000f000f000f
DATA x2m0f<>+16(SB)/8, $0x000f000f000f000f
DATA x2m0f<>+24(SB)/8, $0x000f000f000f000f
GLOBL x2m0f<>(SB), RODATA|NOPTR, $32
DATA x2dupe<>+0(SB)/8, $0x0504050401000100
DATA x2dupe<>+8(SB)/8, $0x0d0c0d0c09080908
DATA x2dupe<>+16(SB)/8, $0x0504050401000100
DATA x2dupe<>+24(SB)/8, $0x0d0c0d0c09080908
GLOBL x2dupe<>(SB), RODATA|NOPTR, $32
DATA x2dupo<>+0(SB)/8, $0x0706070603020302
DATA x2dupo<>+8(SB)/8, $0x0f0e0f0e0b0a0b0a
DATA x2dupo<>+16(SB)/8, $0x0706070603020302
DATA x2dupo<>+24(SB)/8, $0x0f0e0f0e0b0a0b0a
GLOBL x2dupo<>(SB), RODATA|NOPTR, $32

// X2_SUB adds to Y6 sub-block j of the eight rows' Q2_K block at BX,
// scaled by S (each row's scale in both words of its lane): its 32 bytes
// of quants give its four steps (shifted by 0, 2, 4, 6 and masked), taken
// by K_MUL4.
#define X2_SUB(j, S, MUL, xo) \
	VMOVDQU (160+32*(j))(BX), Y7; \
	VPAND Y14, Y7, Y8; \
	VPSRLW $2, Y7, Y9; \
	VPAND Y14, Y9, Y9; \
	VPSRLW $4, Y7, Y10; \
	VPAND Y14, Y10, Y10; \
	VPSRLW $6, Y7, Y11; \
	VPAND Y14, Y11, Y11; \
	MUL(Y8, Y9, Y10, Y11, xo, S, Y12)

// X2_PAIR takes sub-blocks 2p and 2p+1: their scale bytes widened to words
// (each lane one row's pair), the mins (high nibbles) times the
// activations' sums of the two sub-blocks added to Y5, the scales (low
// nibbles) duplicated in each lane for the two sub-blocks' sums.
#define X2_PAIR(p, MUL, so, xa, xb) \
	VPMOVZXBW (32+16*(p))(BX), Y1; \
	VPSRLW $4, Y1, Y2; \
	VPBROADCASTD (so+4*(p))(R11), Y3; \
	VPMADDWD Y3, Y2, Y2; \
	VPADDD Y2, Y5, Y5; \
	VPAND Y15, Y1, Y1; \
	VPSHUFB x2dupe<>(SB), Y1, Y2; \
	VPSHUFB x2dupo<>(SB), Y1, Y3; \
	X2_SUB(2*(p), Y2, MUL, xa); \
	X2_SUB(2*(p)+1, Y3, MUL, xb)

// X2_HEAD starts a block of the Q2_K loops: the block (R10) in BX, its
// lines prefetched, the sums (Y6) and the mins' terms (Y5) zero.
#define X2_HEAD \
	MOVQ R10, BX; \
	PFLINES4AT(0, BX, R14); \
	PFLINES4AT(256, BX, R14); \
	PFLINES3AT(512, BX, R14); \
	VPXOR Y6, Y6, Y6; \
	VPXOR Y5, Y5, Y5

// func vecQ2_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q2KX8 units against actQ8_K activations (d @0, the quants @4, the sums
// of each 16 @260), a group of eight rows at a time. Each block's integer
// sums (isum, and summs of the mins) are exact, and each row's sum +=
// d*dx*isum - dmin*dx*summs as the portable kernel does, block after
// block.
TEXT ·vecQ2_KX8AVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	VMOVDQU x2m0f<>(SB), Y15
	VMOVDQU x2m03<>(SB), Y14
x2group:
	X8_GROUP
x2block:
	X2_HEAD
	X2_PAIR(0, K_MUL4, 260, 4, 20)
	X2_PAIR(1, K_MUL4, 260, 36, 52)
	X2_PAIR(2, K_MUL4, 260, 68, 84)
	X2_PAIR(3, K_MUL4, 260, 100, 116)
	X2_PAIR(4, K_MUL4, 260, 132, 148)
	X2_PAIR(5, K_MUL4, 260, 164, 180)
	X2_PAIR(6, K_MUL4, 260, 196, 212)
	X2_PAIR(7, K_MUL4, 260, 228, 244)
	X8_FLOATS(0(BX), 16(BX), 0(R11))
	ADDQ $672, R10
	X8_NEXT(292, x2block, x2group)

// func vecQ2_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// vecQ2_KX8AVX2 against actQ8_KB activations (the quants broadcast, d at
// 2064, the sums of 16 at 2080): the same sums, with no broadcasts of the
// quants.
// Adds to y (X8_GROUPADD).
TEXT ·vecQ2_KX8BAVX2(SB), NOSPLIT, $0-56
	X8_ARGS
	VMOVDQU x2m0f<>(SB), Y15
	VMOVDQU x2m03<>(SB), Y14
x2bgroup:
	X8_GROUPADD
x2bblock:
	X2_HEAD
	X2_PAIR(0, K_MUL4B, 2080, 0, 256)
	X2_PAIR(1, K_MUL4B, 2080, 32, 288)
	X2_PAIR(2, K_MUL4B, 2080, 512, 768)
	X2_PAIR(3, K_MUL4B, 2080, 544, 800)
	X2_PAIR(4, K_MUL4B, 2080, 1024, 1280)
	X2_PAIR(5, K_MUL4B, 2080, 1056, 1312)
	X2_PAIR(6, K_MUL4B, 2080, 1536, 1792)
	X2_PAIR(7, K_MUL4B, 2080, 1568, 1824)
	X8_FLOATS(0(BX), 16(BX), 2064(R11))
	ADDQ $672, R10
	X8_NEXT(2112, x2bblock, x2bgroup)

// X3_HEAD starts a block of the Q3_K loops: the block (R10) in BX, its
// lines prefetched, its scales decoded into the frame (X3_SCALES), the
// sums (Y6) and the offset's terms (Y5) zero.
#define X3_HEAD \
	MOVQ R10, BX; \
	PFLINES4AT(0, BX, R14); \
	PFLINES4AT(256, BX, R14); \
	PFLINES4AT(512, BX, R14); \
	PFLINES2AT(768, BX, R14); \
	X3_SCALES; \
	VPXOR Y6, Y6, Y6; \
	VPXOR Y5, Y5, Y5

// func vecQ3_KX8AVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// q3KX8 units against actQ8_K activations (d @0, the quants @4, the sums
// of each 16 @260), a group of eight rows at a time. Each block's integer
// sum is exact (the whole quants' products, less 4 times the scales by the
// activations' sums), and each row's sum += (d_w*d_x)*isum as the
// portable kernel does, block after block.
TEXT ·vecQ3_KX8AVX2(SB), NOSPLIT, $128-56
	X8_ARGS
	VMOVDQU x5m07<>(SB), Y13
x3group:
	X8_GROUP
x3block:
	X3_HEAD
	X3_PAIR(0, K_MUL4, 260, 4, 20)
	X3_PAIR(1, K_MUL4, 260, 36, 52)
	X3_PAIR(2, K_MUL4, 260, 68, 84)
	X3_PAIR(3, K_MUL4, 260, 100, 116)
	X3_PAIR(4, K_MUL4, 260, 132, 148)
	X3_PAIR(5, K_MUL4, 260, 164, 180)
	X3_PAIR(6, K_MUL4, 260, 196, 212)
	X3_PAIR(7, K_MUL4, 260, 228, 244)
	X8_OFFSET_FLOATS(2, 0(BX), 0(R11), 880)
	X8_NEXT(292, x3block, x3group)

// func vecQ3_KX8BAVX2(y *float32, w *byte, rb, units int, xq *byte, nb, pf int)
// vecQ3_KX8AVX2 against actQ8_KB activations (the quants broadcast, d at
// 2064, the sums of 16 at 2080): the same sums, with no broadcasts of the
// quants.
// Adds to y (X8_GROUPADD).
TEXT ·vecQ3_KX8BAVX2(SB), NOSPLIT, $128-56
	X8_ARGS
	VMOVDQU x5m07<>(SB), Y13
x3bgroup:
	X8_GROUPADD
x3bblock:
	X3_HEAD
	X3_PAIR(0, K_MUL4B, 2080, 0, 256)
	X3_PAIR(1, K_MUL4B, 2080, 32, 288)
	X3_PAIR(2, K_MUL4B, 2080, 512, 768)
	X3_PAIR(3, K_MUL4B, 2080, 544, 800)
	X3_PAIR(4, K_MUL4B, 2080, 1024, 1280)
	X3_PAIR(5, K_MUL4B, 2080, 1056, 1312)
	X3_PAIR(6, K_MUL4B, 2080, 1536, 1792)
	X3_PAIR(7, K_MUL4B, 2080, 1568, 1824)
	X8_OFFSET_FLOATS(2, 0(BX), 2064(R11), 880)
	X8_NEXT(2112, x3bblock, x3bgroup)
