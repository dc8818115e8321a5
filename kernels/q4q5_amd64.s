#include "textflag.h"
#include "hsum_amd64.h"
#include "prefetch_amd64.h"
#include "rowpair_amd64.h"

// Assembly row loops for Q4_1, Q5_0 and Q5_1 weights against actQ8_0
// activations (installed by q4q5_amd64.go). As the loops of
// kernels_amd64.s, each computes y[i], i < rows, the dot product of the
// row at w + i*rb (nb blocks) with the activations at xq. The AVX2 loops
// sum as the portable kernels do (each block's exact integer sum, then
// sum += (d_w*d_x)*isum (+ m_w*s_x), block after block); the AVX-512 ones
// keep float accumulators across blocks (a fused multiply-add of each
// block's lanes by its scale), so their sums equal the portable kernels'
// only within float rounding.
//
// A block's 32 quants q are taken unsigned: the nibble (Q4_1), or the
// nibble plus 16 times its high bit (Q5_0, Q5_1). The integer products of
// q with the activations' int8 quants are summed in lanes of four; Q5_0's
// values being q-16, 16 times the activations are taken off in the
// AVX-512 loop, while the AVX2 one takes the values q-16 as signed bytes.
// Q4_1 and Q5_1 add m_w*s_x per block.

// q4srl: VPSRLVQ counts [0 0 4 4] per 256 bits. A block's 16 bytes of
// nibbles broadcast to both 128-bit halves, shifted by these and masked
// with 0x0f, give its quants in value order: low nibbles (values 0-15),
// then high nibbles (values 16-31).
DATA q4srl<>+0(SB)/8, $0
DATA q4srl<>+8(SB)/8, $0
DATA q4srl<>+16(SB)/8, $4
DATA q4srl<>+24(SB)/8, $4
DATA q4srl<>+32(SB)/8, $0
DATA q4srl<>+40(SB)/8, $0
DATA q4srl<>+48(SB)/8, $4
DATA q4srl<>+56(SB)/8, $4
GLOBL q4srl<>(SB), RODATA|NOPTR, $64

// AVX-512 loops: two blocks per ZMM register (quants [lo0 hi0 lo1 hi1]
// against the two blocks' activations), VPDPBUSD (unsigned quants times
// signed activations) giving 16 lanes of four products, two float
// accumulators (Z26, Z25). The high bits of two blocks are a 64-bit mask
// in K1 that adds 16 to their quants. Blocks go by fours, whose scales
// are formed at once: d_w, m_w, d_x and s_x gathered by permutes make one
// vector of [d_w*d_x, m_w*s_x] per block, whose m_w*s_x are summed in the
// odd lanes of Y15 and whose d_w*d_x VPERMPS spreads over their blocks'
// lanes. Then come a last pair and a last odd block.
//
// Constants: Z31 0x0f bytes, Z30 q4srl, Z24 0x10 bytes, K2 the upper
// 256 bits; permute indices for pairs Y29 (weight scales) and Z28
// (activation scales), for fours Z23 and Z22; Z27 (pairs and fours) and
// Z21 (fours) spread the products of the scales over the lanes.

// q41wd: VPERMD indices picking the (d, m) fp16 pairs of two Q4_1 blocks
// (dwords 0 and 5 of the pair's first 32 bytes).
DATA q41wd<>+0(SB)/8, $0x0000000500000000
DATA q41wd<>+8(SB)/8, $0
DATA q41wd<>+16(SB)/8, $0
DATA q41wd<>+24(SB)/8, $0
GLOBL q41wd<>(SB), RODATA|NOPTR, $32

// q51wd: as q41wd for Q5_1 (dwords 0 and 6).
DATA q51wd<>+0(SB)/8, $0x0000000600000000
DATA q51wd<>+8(SB)/8, $0
DATA q51wd<>+16(SB)/8, $0
DATA q51wd<>+24(SB)/8, $0
GLOBL q51wd<>(SB), RODATA|NOPTR, $32

// q50wd: VPERMW indices spreading the fp16 d of two Q5_0 blocks (words 0
// and 11 of the pair) over words 0-7 and 8-15.
DATA q50wd<>+0(SB)/8, $0
DATA q50wd<>+8(SB)/8, $0
DATA q50wd<>+16(SB)/8, $0x000b000b000b000b
DATA q50wd<>+24(SB)/8, $0x000b000b000b000b
GLOBL q50wd<>(SB), RODATA|NOPTR, $32

// q8ds: VPERMD indices picking (d, s) of two actQ8_0 blocks (dwords 0, 1,
// 10 and 11 of their 80 bytes).
DATA q8ds<>+0(SB)/8, $0x0000000100000000
DATA q8ds<>+8(SB)/8, $0x0000000b0000000a
DATA q8ds<>+16(SB)/8, $0
DATA q8ds<>+24(SB)/8, $0
DATA q8ds<>+32(SB)/8, $0
DATA q8ds<>+40(SB)/8, $0
DATA q8ds<>+48(SB)/8, $0
DATA q8ds<>+56(SB)/8, $0
GLOBL q8ds<>(SB), RODATA|NOPTR, $64

// q8d2: VPERMD indices spreading d of two actQ8_0 blocks (dwords 0 and
// 10) over lanes 0-7 and 8-15.
DATA q8d2<>+0(SB)/8, $0
DATA q8d2<>+8(SB)/8, $0
DATA q8d2<>+16(SB)/8, $0
DATA q8d2<>+24(SB)/8, $0
DATA q8d2<>+32(SB)/8, $0x0000000a0000000a
DATA q8d2<>+40(SB)/8, $0x0000000a0000000a
DATA q8d2<>+48(SB)/8, $0x0000000a0000000a
DATA q8d2<>+56(SB)/8, $0x0000000a0000000a
GLOBL q8d2<>(SB), RODATA|NOPTR, $64

// q41wq: VPERMD indices picking the (d, m) pairs of four Q4_1 blocks
// (dwords 0, 5, 10 and 15 of their first 64 bytes).
DATA q41wq<>+0(SB)/8, $0x0000000500000000
DATA q41wq<>+8(SB)/8, $0x0000000f0000000a
DATA q41wq<>+16(SB)/8, $0
DATA q41wq<>+24(SB)/8, $0
DATA q41wq<>+32(SB)/8, $0
DATA q41wq<>+40(SB)/8, $0
DATA q41wq<>+48(SB)/8, $0
DATA q41wq<>+56(SB)/8, $0
GLOBL q41wq<>(SB), RODATA|NOPTR, $64

// q51wq: VPERMT2D indices picking the (d, m) pairs of four Q5_1 blocks
// from bytes 0-63 and 32-95 (dwords 0, 6, 12 and 18 = 8+10).
DATA q51wq<>+0(SB)/8, $0x0000000600000000
DATA q51wq<>+8(SB)/8, $0x0000001a0000000c
DATA q51wq<>+16(SB)/8, $0
DATA q51wq<>+24(SB)/8, $0
DATA q51wq<>+32(SB)/8, $0
DATA q51wq<>+40(SB)/8, $0
DATA q51wq<>+48(SB)/8, $0
DATA q51wq<>+56(SB)/8, $0
GLOBL q51wq<>(SB), RODATA|NOPTR, $64

// q50wq: VPERMT2W indices picking the d of four Q5_0 blocks from bytes
// 0-63 and 24-87 (words 0, 11, 22 and 33 = 12+21).
DATA q50wq<>+0(SB)/8, $0x00350016000b0000
DATA q50wq<>+8(SB)/8, $0
DATA q50wq<>+16(SB)/8, $0
DATA q50wq<>+24(SB)/8, $0
DATA q50wq<>+32(SB)/8, $0
DATA q50wq<>+40(SB)/8, $0
DATA q50wq<>+48(SB)/8, $0
DATA q50wq<>+56(SB)/8, $0
GLOBL q50wq<>(SB), RODATA|NOPTR, $64

// q8dsq: VPERMT2D indices picking (d, s) of four actQ8_0 blocks from
// their first 128 bytes (dwords 0, 1, 10, 11, 20, 21, 30, 31).
DATA q8dsq<>+0(SB)/8, $0x0000000100000000
DATA q8dsq<>+8(SB)/8, $0x0000000b0000000a
DATA q8dsq<>+16(SB)/8, $0x0000001500000014
DATA q8dsq<>+24(SB)/8, $0x0000001f0000001e
DATA q8dsq<>+32(SB)/8, $0
DATA q8dsq<>+40(SB)/8, $0
DATA q8dsq<>+48(SB)/8, $0
DATA q8dsq<>+56(SB)/8, $0
GLOBL q8dsq<>(SB), RODATA|NOPTR, $64

// q8dq: VPERMT2D indices picking d of four actQ8_0 blocks (dwords 0, 10,
// 20, 30).
DATA q8dq<>+0(SB)/8, $0x0000000a00000000
DATA q8dq<>+8(SB)/8, $0x0000001e00000014
DATA q8dq<>+16(SB)/8, $0
DATA q8dq<>+24(SB)/8, $0
DATA q8dq<>+32(SB)/8, $0
DATA q8dq<>+40(SB)/8, $0
DATA q8dq<>+48(SB)/8, $0
DATA q8dq<>+56(SB)/8, $0
GLOBL q8dq<>(SB), RODATA|NOPTR, $64

// spreads: VPERMPS indices spreading float a over lanes 0-7 and float b
// over lanes 8-15, for (a, b) = (0, 2), (4, 6), (0, 1), (2, 3).
#define SPREAD(name, a, b) \
	DATA name<>+0(SB)/8, $(a<<32|a); \
	DATA name<>+8(SB)/8, $(a<<32|a); \
	DATA name<>+16(SB)/8, $(a<<32|a); \
	DATA name<>+24(SB)/8, $(a<<32|a); \
	DATA name<>+32(SB)/8, $(b<<32|b); \
	DATA name<>+40(SB)/8, $(b<<32|b); \
	DATA name<>+48(SB)/8, $(b<<32|b); \
	DATA name<>+56(SB)/8, $(b<<32|b); \
	GLOBL name<>(SB), RODATA|NOPTR, $64

SPREAD(bc02, 0, 2)
SPREAD(bc46, 4, 6)
SPREAD(bc01, 0, 1)
SPREAD(bc23, 2, 3)

// NIBS sets Z2 to the quants (nibbles) of the two blocks whose nibbles
// are at off(R10) and off+bb(R10), [lo0 hi0 lo1 hi1]: each block's 16
// bytes broadcast to two 128-bit lanes (the second block's by a load
// merged under K2), shifted by q4srl, masked.
#define NIBS(off, bb) \
	VBROADCASTI32X4 off(R10), Z2; \
	VBROADCASTI32X4 off+bb(R10), K2, Z2; \
	VPSRLVQ Z30, Z2, Z2; \
	VPANDD Z31, Z2, Z2

// HIGH adds 16 to the quants in Z2 whose high bit is set, the high bits
// of the two blocks being at off(R10) and off+bb(R10).
#define HIGH(off, bb) \
	MOVL off(R10), AX; \
	MOVL off+bb(R10), BX; \
	SHLQ $32, BX; \
	ORQ AX, BX; \
	KMOVQ BX, K1; \
	VPADDB Z24, Z2, K1, Z2

// DOT sets dst to the 16 lanes of products of the quants in Z2 with the
// activations of the two blocks at aoff(R11), as floats.
#define DOT(aoff, dst) \
	VMOVDQU aoff+8(R11), Y4; \
	VINSERTI64X4 $1, aoff+48(R11), Z4, Z4; \
	VPXORD dst, dst, dst; \
	VPDPBUSD Z4, Z2, dst; \
	VCVTDQ2PS dst, dst

// DOT50 is DOT for Q5_0: 16 times each lane's sum of activations is
// subtracted.
#define DOT50(aoff, dst) \
	VMOVDQU aoff+8(R11), Y4; \
	VINSERTI64X4 $1, aoff+48(R11), Z4, Z4; \
	VPXORD dst, dst, dst; \
	VPXORD Z8, Z8, Z8; \
	VPDPBUSD Z4, Z2, dst; \
	VPDPBUSD Z4, Z24, Z8; \
	VPSUBD Z8, dst, dst; \
	VCVTDQ2PS dst, dst

// SCALEM4 finishes four Q4_1 or Q5_1 blocks whose lanes are in Z5 (blocks
// 0, 1) and Z10 (blocks 2, 3), given their (d, m) fp16 pairs in X6: Y6 =
// [d_w*d_x, m_w*s_x] by block, the m_w*s_x go to Y15, the d_w*d_x scale
// the lanes into Z26 and Z25.
#define SCALEM4 \
	VCVTPH2PS X6, Y6; \
	VMOVDQU64 (R11), Z7; \
	VPERMT2D 64(R11), Z22, Z7; \
	VMULPS Y7, Y6, Y6; \
	VADDPS Y6, Y15, Y15; \
	VPERMPS Z6, Z27, Z8; \
	VPERMPS Z6, Z21, Z9; \
	VFMADD231PS Z8, Z5, Z26; \
	VFMADD231PS Z9, Z10, Z25

// SCALEM2 finishes a pair of Q4_1 or Q5_1 blocks (lanes in Z5) into acc.
#define SCALEM2(acc) \
	VPERMD (R10), Y29, Y6; \
	VCVTPH2PS X6, X6; \
	VPERMD (R11), Z28, Z7; \
	VMULPS X7, X6, X6; \
	VADDPS Y6, Y15, Y15; \
	VPERMPS Z6, Z27, Z6; \
	VFMADD231PS Z6, Z5, acc

// Q41QUAD, Q41PAIR: four (a pair of) Q4_1 blocks (w at R10, activations
// at R11), advancing R10 and R11.
#define Q41QUAD \
	PREFETCHT0 8192(R10); \
	PREFETCHT0 8256(R10); \
	NIBS(4, 20); \
	DOT(0, Z5); \
	NIBS(44, 20); \
	DOT(80, Z10); \
	VPERMD (R10), Z23, Z6; \
	SCALEM4; \
	ADDQ $80, R10; \
	ADDQ $160, R11

#define Q41PAIR \
	NIBS(4, 20); \
	DOT(0, Z5); \
	SCALEM2(Z26); \
	ADDQ $40, R10; \
	ADDQ $80, R11

// Q51QUAD, Q51PAIR: as Q41QUAD and Q41PAIR for Q5_1. The (d, m) pairs
// of four blocks span 96 bytes: VPERMT2D picks them from two overlapping
// 64-byte loads.
#define Q51QUAD \
	PREFETCHT0 8192(R10); \
	PREFETCHT0 8256(R10); \
	NIBS(8, 24); \
	HIGH(4, 24); \
	DOT(0, Z5); \
	NIBS(56, 24); \
	HIGH(52, 24); \
	DOT(80, Z10); \
	VMOVDQU64 (R10), Z6; \
	VPERMT2D 32(R10), Z23, Z6; \
	SCALEM4; \
	ADDQ $96, R10; \
	ADDQ $160, R11

#define Q51PAIR \
	NIBS(8, 24); \
	HIGH(4, 24); \
	DOT(0, Z5); \
	SCALEM2(Z26); \
	ADDQ $48, R10; \
	ADDQ $80, R11

// Q50QUAD, Q50PAIR: as Q41QUAD and Q41PAIR for Q5_0, without m. For
// fours, X6 = d_w*d_x by block (the d_w picked by VPERMT2W from two
// overlapping loads), spread by Z27 and Z21.
#define Q50QUAD \
	PREFETCHT0 8192(R10); \
	PREFETCHT0 8256(R10); \
	NIBS(6, 22); \
	HIGH(2, 22); \
	DOT50(0, Z5); \
	NIBS(50, 22); \
	HIGH(46, 22); \
	DOT50(80, Z10); \
	VMOVDQU64 (R10), Z6; \
	VPERMT2W 24(R10), Z23, Z6; \
	VCVTPH2PS X6, X6; \
	VMOVDQU64 (R11), Z7; \
	VPERMT2D 64(R11), Z22, Z7; \
	VMULPS X7, X6, X6; \
	VPERMPS Z6, Z27, Z8; \
	VPERMPS Z6, Z21, Z9; \
	VFMADD231PS Z8, Z5, Z26; \
	VFMADD231PS Z9, Z10, Z25; \
	ADDQ $88, R10; \
	ADDQ $160, R11

// For a pair, the d_w are spread over 16 words by Y29 and converted, the
// d_x over 16 lanes by Z28.
#define Q50PAIR \
	NIBS(6, 22); \
	HIGH(2, 22); \
	DOT50(0, Z5); \
	VPERMW (R10), Y29, Y6; \
	VCVTPH2PS Y6, Z6; \
	VPERMD (R11), Z28, Z7; \
	VMULPS Z7, Z6, Z6; \
	VFMADD231PS Z6, Z5, Z26; \
	ADDQ $44, R10; \
	ADDQ $80, R11

// A last, odd block, in the low 256 bits (the upper ones zero, and so
// adding nothing to Z25): TAILNIBS sets Y2 to its quants (nibbles at
// off(R10)); TAILM finishes a Q4_1 or Q5_1 block into Z25 and lane 1 of
// Y15.
#define TAILNIBS(off) \
	VBROADCASTI128 off(R10), Y2; \
	VPSRLVQ Y30, Y2, Y2; \
	VPANDD Y31, Y2, Y2

#define TAILM \
	VPXORD Y5, Y5, Y5; \
	VPDPBUSD 8(R11), Y2, Y5; \
	VCVTDQ2PS Y5, Y5; \
	VMOVD 0(R10), X6; \
	VCVTPH2PS X6, X6; \
	VMOVQ 0(R11), X7; \
	VMULPS X7, X6, X6; \
	VADDPS Y6, Y15, Y15; \
	VBROADCASTSS X6, Y6; \
	VFMADD231PS Z6, Z5, Z25

// Q41TAIL, Q51TAIL, Q50TAIL: the last odd block of each type (Q5_0's
// scale as a broadcast d_w times a broadcast d_x).
#define Q41TAIL \
	TAILNIBS(4); \
	TAILM

#define Q51TAIL \
	TAILNIBS(8); \
	KMOVD 4(R10), K1; \
	VPADDB Y24, Y2, K1, Y2; \
	TAILM

#define Q50TAIL \
	TAILNIBS(6); \
	KMOVD 2(R10), K1; \
	VPADDB Y24, Y2, K1, Y2; \
	VPXORD Y5, Y5, Y5; \
	VPXORD Y8, Y8, Y8; \
	VPDPBUSD 8(R11), Y2, Y5; \
	VPDPBUSD 8(R11), Y24, Y8; \
	VPSUBD Y8, Y5, Y5; \
	VCVTDQ2PS Y5, Y5; \
	VPBROADCASTW 0(R10), X6; \
	VCVTPH2PS X6, Y6; \
	VBROADCASTSS 0(R11), Y7; \
	VMULPS Y7, Y6, Y6; \
	VFMADD231PS Z6, Z5, Z25

// ARGS loads the arguments: DI y, SI w, R9 rows, R13 xq.
#define ARGS \
	MOVQ y+0(FP), DI; \
	MOVQ w+8(FP), SI; \
	MOVQ rows+24(FP), R9; \
	MOVQ xq+32(FP), R13

// CONSTS512 loads the constants shared by the AVX-512 loops.
#define CONSTS512 \
	MOVL $0x0f0f0f0f, AX; \
	VPBROADCASTD AX, Z31; \
	MOVL $0x10101010, AX; \
	VPBROADCASTD AX, Z24; \
	VMOVDQU64 q4srl<>(SB), Z30; \
	MOVL $0xff00, AX; \
	KMOVW AX, K2

// ROWS512 is the row loop of the AVX-512 loops (R10, R11: the row's
// blocks and activations; R12: blocks left), ending with the sum of the
// 32 lanes of Z26 and Z25 (and, by withm, the m_w*s_x of Y15), stored at
// DI.
#define ROWS512(QUAD, PAIR, TAIL, row, quad, two, tail, done, withm) \
row: \
	MOVQ SI, R10; \
	MOVQ R13, R11; \
	MOVQ nb+40(FP), R12; \
	VPXORD Z26, Z26, Z26; \
	VPXORD Z25, Z25, Z25; \
	VXORPS Y15, Y15, Y15; \
	CMPQ R12, $4; \
	JB two; \
quad: \
	QUAD; \
	SUBQ $4, R12; \
	CMPQ R12, $4; \
	JAE quad; \
two: \
	CMPQ R12, $2; \
	JB tail; \
	PREFETCHT0 8192(R10); \
	PAIR; \
	SUBQ $2, R12; \
tail: \
	TESTQ R12, R12; \
	JZ done; \
	TAIL; \
done: \
	VADDPS Z25, Z26, Z26; \
	VEXTRACTF64X4 $1, Z26, Y1; \
	VADDPS Y26, Y1, Y1; \
	VEXTRACTF128 $1, Y1, X2; \
	VADDPS X2, X1, X1; \
	withm; \
	HSUM4(X1, X2); \
	ROW_END(X1, row)

// ADDM adds the odd lanes of Y15 (the sums of m_w*s_x; the even ones
// hold scales) to X1.
#define ADDM \
	VXORPS X3, X3, X3; \
	VBLENDPS $0x55, Y3, Y15, Y15; \
	VEXTRACTF128 $1, Y15, X3; \
	VADDPS X3, X15, X15; \
	VADDPS X15, X1, X1

#define NOM

// func vecQ4_1AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
TEXT ·vecQ4_1AVX512(SB), NOSPLIT, $0-48
	ARGS
	CONSTS512
	VMOVDQU32 q41wd<>(SB), Y29
	VMOVDQU64 q8ds<>(SB), Z28
	VMOVDQU64 bc02<>(SB), Z27
	VMOVDQU64 q41wq<>(SB), Z23
	VMOVDQU64 q8dsq<>(SB), Z22
	VMOVDQU64 bc46<>(SB), Z21
	ROWS512(Q41QUAD, Q41PAIR, Q41TAIL, q41row, q41quad, q41two, q41tail, q41done, ADDM)

// func vecQ5_1AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
TEXT ·vecQ5_1AVX512(SB), NOSPLIT, $0-48
	ARGS
	CONSTS512
	VMOVDQU32 q51wd<>(SB), Y29
	VMOVDQU64 q8ds<>(SB), Z28
	VMOVDQU64 bc02<>(SB), Z27
	VMOVDQU64 q51wq<>(SB), Z23
	VMOVDQU64 q8dsq<>(SB), Z22
	VMOVDQU64 bc46<>(SB), Z21
	ROWS512(Q51QUAD, Q51PAIR, Q51TAIL, q51row, q51quad, q51two, q51tail, q51done, ADDM)

// func vecQ5_0AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
TEXT ·vecQ5_0AVX512(SB), NOSPLIT, $0-48
	ARGS
	CONSTS512
	VMOVDQU32 q50wd<>(SB), Y29
	VMOVDQU64 q8d2<>(SB), Z28
	VMOVDQU64 bc01<>(SB), Z27
	VMOVDQU64 q50wq<>(SB), Z23
	VMOVDQU64 q8dq<>(SB), Z22
	VMOVDQU64 bc23<>(SB), Z21
	ROWS512(Q50QUAD, Q50PAIR, Q50TAIL, q50row, q50quad, q50two, q50tail, q50done, NOM)

// AVX2 loops: one block per YMM register, its 32 quants in value order
// (QNIB2); VPMADDUBSW and VPMADDWD give eight lanes of four products each,
// and the lanes of a pair of blocks are added up together (VPHADDD), as
// the Q4_0 loop does: each block's exact integer sum is then added to the
// row's sum in the portable kernel's order.
//
// Constants: Y15 q4srl, Y13 0x0f bytes, Y12 int16 ones, Y11 q5shuf, Y10
// q5bit, Y9 all ones, Y8 0x10 bytes (0xf0 in the Q5_0 loop).

// q5shuf: VPSHUFB indices spreading the four bytes of qh (broadcast to
// every dword) so that byte j holds qh byte j/8.
DATA q5shuf<>+0(SB)/8, $0x0000000000000000
DATA q5shuf<>+8(SB)/8, $0x0101010101010101
DATA q5shuf<>+16(SB)/8, $0x0202020202020202
DATA q5shuf<>+24(SB)/8, $0x0303030303030303
GLOBL q5shuf<>(SB), RODATA|NOPTR, $32

// q5bit: byte j is ^(1 << j%8): ORed into the spread qh, a byte becomes
// all ones just when bit j of qh is set.
DATA q5bit<>+0(SB)/8, $0x7fbfdfeff7fbfdfe
DATA q5bit<>+8(SB)/8, $0x7fbfdfeff7fbfdfe
DATA q5bit<>+16(SB)/8, $0x7fbfdfeff7fbfdfe
DATA q5bit<>+24(SB)/8, $0x7fbfdfeff7fbfdfe
GLOBL q5bit<>(SB), RODATA|NOPTR, $32

DATA q2ones16<>+0(SB)/8, $0x0001000100010001
DATA q2ones16<>+8(SB)/8, $0x0001000100010001
DATA q2ones16<>+16(SB)/8, $0x0001000100010001
DATA q2ones16<>+24(SB)/8, $0x0001000100010001
GLOBL q2ones16<>(SB), RODATA|NOPTR, $32

// QNIB2 sets Y2 to the quants (nibbles) of the block whose nibbles are at
// off(R10): broadcast to both 128-bit halves, shifted by q4srl, masked.
#define QNIB2(off) \
	VBROADCASTI128 off(R10), Y2; \
	VPSRLVQ Y15, Y2, Y2; \
	VPAND Y13, Y2, Y2

// QH2 sets Y3 to 0xff in the bytes whose bit of qh (at off(R10)) is set,
// 0 in the others.
#define QH2(off) \
	VPBROADCASTD off(R10), Y3; \
	VPSHUFB Y11, Y3, Y3; \
	VPOR Y10, Y3, Y3; \
	VPCMPEQB Y9, Y3, Y3

// Q50_ISUM leaves in Y(dst) the integer sums of the Q5_0 block at
// woff(R10) (nibbles at woff+6, qh at woff+2) against the actQ8_0 quants
// at xoff(R11), eight dwords whose total is the block's: the values q-16
// as signed bytes (the nibble, or-ed with 0xf0 where the high bit is
// clear), multiplied by the activations through their signs (VPSIGNB, as
// the Q4_0 loop does). Y2 and Y3 are scratch.
#define Q50_ISUM(woff, xoff, dst) \
	QNIB2(woff+6); \
	QH2(woff+2); \
	VPANDN Y8, Y3, Y3; \
	VPOR Y3, Y2, Y2; \
	SIGNED_ISUM(xoff, dst, Y12)

// CONSTS2 loads the AVX2 loops' constants.
#define CONSTS2 \
	VMOVDQU q4srl<>(SB), Y15; \
	MOVL $0x0f0f0f0f, AX; \
	VMOVD AX, X13; \
	VPBROADCASTD X13, Y13; \
	VMOVDQU q2ones16<>(SB), Y12; \
	VMOVDQU q5shuf<>(SB), Y11; \
	VMOVDQU q5bit<>(SB), Y10; \
	VPCMPEQB Y9, Y9, Y9; \
	MOVL $0x10101010, AX; \
	VMOVD AX, X8; \
	VPBROADCASTD X8, Y8

// Q41_ISUM leaves in Y(dst) the integer sums of the Q4_1 block at
// woff(R10) (nibbles at woff+4) against the actQ8_0 quants at xoff(R11),
// eight dwords whose total is the block's: the nibbles, unsigned, times
// the activations.
#define Q41_ISUM(woff, xoff, dst) \
	QNIB2(woff+4); \
	VPMADDUBSW xoff(R11), Y2, dst; \
	VPMADDWD Y12, dst, dst

// Q51_ISUM is Q41_ISUM for the Q5_1 block at woff(R10) (nibbles at
// woff+8, qh at woff+4): the quants are nibble | 16*high bit (below
// 32, so two products of a word stay within 2*31*128).
#define Q51_ISUM(woff, xoff, dst) \
	QNIB2(woff+8); \
	QH2(woff+4); \
	VPAND Y8, Y3, Y3; \
	VPOR Y3, Y2, Y2; \
	VPMADDUBSW xoff(R11), Y2, dst; \
	VPMADDWD Y12, dst, dst

// func vecQ4_1AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Q4_1 rows against actQ8_0 activations, two blocks at a time: each
// block's integer sum is exact and added to the row's sum as the portable
// kernel does, sum += (d_w*d_x)*isum + m_w*s_x block after block, so that
// its results are the portable kernel's and the interleaved loop's
// (q41X8). pf is the prefetch setting (PFLINES1, a line a pair of blocks).
TEXT ·vecQ4_1AVX2(SB), NOSPLIT, $0-56
	ROW_ARGS
	CONSTS2
	ROWS(Q41_ISUM, QM_FLOATS, 20, q41row, q41pair, q41tail, q41done)

// func vecQ5_1AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Q5_1 rows against actQ8_0 activations, as the Q4_1 loop takes Q4_1
// rows: sum += (d_w*d_x)*isum + m_w*s_x block after block, as the
// portable kernel and the interleaved loop (q51X8) do.
TEXT ·vecQ5_1AVX2(SB), NOSPLIT, $0-56
	ROW_ARGS
	CONSTS2
	ROWS(Q51_ISUM, QM_FLOATS, 24, q51row, q51pair, q51tail, q51done)

// func vecQ5_0AVX2(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// Q5_0 rows against actQ8_0 activations, two blocks at a time, as the
// Q4_0 loop does: each block's integer sum is exact and added to the row's
// sum as the portable kernel does, sum += (d_w*d_x)*isum block after
// block, so that its results are the portable kernel's and the
// interleaved loop's (q50X8). pf is the prefetch setting (PFLINES1, a line
// a pair of blocks).
TEXT ·vecQ5_0AVX2(SB), NOSPLIT, $0-56
	ROW_ARGS
	CONSTS2
	MOVL $0xf0f0f0f0, AX
	VMOVD AX, X8
	VPBROADCASTD X8, Y8
	ROWS(Q50_ISUM, QD_FLOATS, 22, q50row, q50pair, q50tail, q50done)
