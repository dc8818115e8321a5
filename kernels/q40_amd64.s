#include "textflag.h"
#include "hsum_amd64.h"

// The AVX-512 VNNI row loop of Q4_0 weights against actQ8_0 activations
// (installed by q40_amd64.go). As the loops of kernels_amd64.s, it
// computes y[i], i < rows, the dot product of the row at w + i*rb (nb
// blocks of 18 bytes: d fp16 @0, 16 bytes of nibbles @2) with the
// activations at xq. It keeps float accumulators across blocks, so its
// sums equal the portable kernel's only within float rounding.
//
// Four blocks go in two ZMM registers: one VPERMT2W gathers their 4x16
// bytes of nibbles, which give the low nibbles (AND 0x0f) and the high
// ones (shift, AND). Two VPDPBUSD take them as unsigned bytes against the
// blocks' activations (int8), gathered likewise as the first 16 and the
// last 16 values of each block, into 16 lanes of eight products, four
// lanes per block. The offset of -8 is applied by starting each lane at
// minus the same sum over the constant 8 in place of the quants, found by
// VPDPBUSD on the activations alone. As floats, the lanes are scaled by
// d_w*d_x of their block (the four d_w gathered and converted at once,
// the products spread by VPERMPS) into one float accumulator per row.
//
// Rows go by fours, sharing all the work that depends on the activations
// alone (their gathering, the offsets, d_x), then one at a time. Blocks go
// by fours, then a last pair and a last odd block, whose weights are read
// by a masked load (18 words for a pair, 9 for a block: the words of the
// blocks that are not there read as zeros, and so do their quants, and
// the activations, offsets and scales of those blocks are zero too), so
// that nothing past a row is read. The weights of four blocks are read
// by 32-byte loads: 64-byte ones, which straddle two cache lines, proved
// much slower when the weights come from memory.
//
// Registers. Constants: Z31 q40nib, Z30 0x0f bytes, Z29 q40d, Z28 q40bc,
// Z27 0x08 bytes, Z26 q40alo, Z25 q40ahi, Z24 q40dx, Z23 zero; K3 and K4
// the word masks of a pair and of a block. Per four blocks (R11 their
// activations): Z20 and Z21 the activations (first and last 16 of each
// block), Z22 the offset lanes, X15 the d_x. Rows: R10, R14, AX, DX, and
// their accumulators Z16-Z19. Temporaries: Z0-Z5 (first and third rows),
// Z6-Z11 (second and fourth), Z12 and Z13. BX is the distance of the
// four-row loop's prefetches.

// q40nib: VPERMT2W indices gathering the nibbles of four blocks, at words
// 1-8, 10-17 and 19-26 of their first 64 bytes (the first table) and 8-15
// of the 32 from their byte 40 (the second).
DATA q40nib<>+0(SB)/8, $0x0004000300020001
DATA q40nib<>+8(SB)/8, $0x0008000700060005
DATA q40nib<>+16(SB)/8, $0x000d000c000b000a
DATA q40nib<>+24(SB)/8, $0x00110010000f000e
DATA q40nib<>+32(SB)/8, $0x0016001500140013
DATA q40nib<>+40(SB)/8, $0x001a001900180017
DATA q40nib<>+48(SB)/8, $0x002b002a00290028
DATA q40nib<>+56(SB)/8, $0x002f002e002d002c
GLOBL q40nib<>(SB), RODATA|NOPTR, $64

// q40d: VPERMW indices picking the fp16 d of four blocks (words 0, 9, 18,
// 27) into words 0-3; loaded by VMOVQ, the other indices are 0.
DATA q40d<>+0(SB)/8, $0x001b001200090000
GLOBL q40d<>(SB), RODATA|NOPTR, $8

// q40bc: VPERMPS indices spreading float i over lanes 4i to 4i+3.
DATA q40bc<>+0(SB)/8, $0
DATA q40bc<>+8(SB)/8, $0
DATA q40bc<>+16(SB)/8, $0x0000000100000001
DATA q40bc<>+24(SB)/8, $0x0000000100000001
DATA q40bc<>+32(SB)/8, $0x0000000200000002
DATA q40bc<>+40(SB)/8, $0x0000000200000002
DATA q40bc<>+48(SB)/8, $0x0000000300000003
DATA q40bc<>+56(SB)/8, $0x0000000300000003
GLOBL q40bc<>(SB), RODATA|NOPTR, $64

// q40alo, q40ahi: VPERMT2Q indices (bytes, widened by VPMOVZXBQ) gathering
// the first 16 activations of four actQ8_0 blocks from the 64 bytes at
// their byte 8 and at byte 88 (qwords 0-1 and 5-6 of each), and the last
// 16 from those at byte 16 and at byte 96 (qwords 1-2 and 6-7).
DATA q40alo<>+0(SB)/8, $0x0e0d090806050100
GLOBL q40alo<>(SB), RODATA|NOPTR, $8

DATA q40ahi<>+0(SB)/8, $0x0f0e0a0907060201
GLOBL q40ahi<>(SB), RODATA|NOPTR, $8

// q40dx: VPERMT2D indices picking d of four actQ8_0 blocks (dwords 0, 10,
// 20, 30 of their first 128 bytes); loaded into X, the other indices
// are 0.
DATA q40dx<>+0(SB)/8, $0x0000000a00000000
DATA q40dx<>+8(SB)/8, $0x0000001e00000014
GLOBL q40dx<>(SB), RODATA|NOPTR, $16

// OFFSET sets Z22 to the offset lanes of the activations in Z20 and Z21:
// minus their sums (by four) times 8.
#define OFFSET \
	VPXORD Z12, Z12, Z12; \
	VPDPBUSD Z20, Z27, Z12; \
	VPDPBUSD Z21, Z27, Z12; \
	VPSUBD Z12, Z23, Z22

// ACTQUAD does the activation work of four blocks (at R11): Z20, Z21, Z22
// and X15.
#define ACTQUAD \
	VMOVDQU64 8(R11), Z20; \
	VPERMT2Q 88(R11), Z26, Z20; \
	VMOVDQU64 16(R11), Z21; \
	VPERMT2Q 96(R11), Z25, Z21; \
	OFFSET; \
	VMOVDQU64 (R11), Z15; \
	VPERMT2D 64(R11), Z24, Z15

// ACTPAIR and ACTONE do that of a last pair of blocks and of a last odd
// block, the activations of the blocks that are not there, and their d_x,
// zero.
#define ACTPAIR \
	VMOVDQU32 8(R11), X20; \
	VINSERTI32X4 $1, 48(R11), Y20, Y20; \
	VMOVDQU32 24(R11), X21; \
	VINSERTI32X4 $1, 64(R11), Y21, Y21; \
	OFFSET; \
	VMOVD 0(R11), X15; \
	VPINSRD $1, 40(R11), X15, X15

#define ACTONE \
	VMOVDQU32 8(R11), X20; \
	VMOVDQU32 24(R11), X21; \
	OFFSET; \
	VMOVD 0(R11), X15

// ROWDOT adds to acc the four blocks whose nibbles are in t0 and whose
// fp16 d_w are in words 0-3 of t5 (x5 its X form), with temporaries t1-t3.
#define ROWDOT(acc, t0, t1, t2, t3, t5, x5) \
	VPSRLW $4, t0, t2; \
	VPANDD Z30, t0, t1; \
	VPANDD Z30, t2, t2; \
	VMOVDQA64 Z22, t3; \
	VPDPBUSD Z20, t1, t3; \
	VPDPBUSD Z21, t2, t3; \
	VCVTDQ2PS t3, t3; \
	VCVTPH2PS x5, x5; \
	VMULPS X15, x5, x5; \
	VPERMPS t5, Z28, t5; \
	VFMADD231PS t5, t3, acc

// ROWQUAD adds to acc the four blocks at p (a row's; R11 the
// activations'), read by three 32-byte loads into t0 (bytes 0-63, y0 its
// Y form) and t1 (bytes 40-71, y1): d_w gathered from t0, the nibbles
// from t0 and t1.
#define ROWQUAD(p, acc, t0, t1, t2, t3, t5, x5, y0, y1) \
	VMOVDQU (p), y0; \
	VINSERTI64X4 $1, 32(p), t0, t0; \
	VMOVDQU 40(p), y1; \
	VPERMW t0, Z29, t5; \
	VPERMT2W t1, Z31, t0; \
	ROWDOT(acc, t0, t1, t2, t3, t5, x5)

// ROWTAIL adds to acc the last pair of blocks (word mask k = K3) or the
// last odd block (K4) at p, read by a masked load.
#define ROWTAIL(p, k, acc, t0, t1, t2, t3, t5, x5) \
	VMOVDQU16.Z (p), k, t0; \
	VPERMW t0, Z29, t5; \
	VPERMT2W Z23, Z31, t0; \
	ROWDOT(acc, t0, t1, t2, t3, t5, x5)

// FINISH stores at off(DI) the sum of the lanes of acc (y its Y form).
#define FINISH(acc, y, off) \
	VEXTRACTF64X4 $1, acc, Y12; \
	VADDPS y, Y12, Y12; \
	HSUM8(Y12, X12, X13); \
	VMOVSS X12, off(DI)

// PFLEAD is the least distance of the four-row loop's prefetches.
#define PFLEAD 16384

// func vecQ4_0AVX512(y *float32, w *byte, rb, rows int, xq *byte, nb int)
TEXT ·vecQ4_0AVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rb+16(FP), R8
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VMOVDQU64 q40nib<>(SB), Z31
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z30
	VMOVQ q40d<>(SB), X29
	VMOVDQU64 q40bc<>(SB), Z28
	MOVL $0x08080808, AX
	VPBROADCASTD AX, Z27
	VPMOVZXBQ q40alo<>(SB), Z26
	VPMOVZXBQ q40ahi<>(SB), Z25
	VMOVDQU32 q40dx<>(SB), X24
	VPXORD Z23, Z23, Z23
	MOVL $0x3ffff, AX
	KMOVD AX, K3
	MOVL $0x1ff, AX
	KMOVD AX, K4

	// BX: the prefetch distance of the four-row loop, the least multiple
	// of four rows' bytes that is at least PFLEAD: a later four rows at
	// the same offset. Two lines a row are prefetched per four blocks
	// (72 bytes), so that no line is left out.
	LEAQ (R8*4), BX
	MOVQ BX, CX

q40lead:
	CMPQ BX, $PFLEAD
	JAE  q40leadok
	ADDQ CX, BX
	JMP  q40lead

q40leadok:
	CMPQ R9, $4
	JB   q40one

	// Four rows at a time: R10, R14, AX, DX.
q40four:
	MOVQ SI, R10
	LEAQ (SI)(R8*1), R14
	LEAQ (SI)(R8*2), AX
	LEAQ (R14)(R8*2), DX
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	CMPQ R12, $4
	JB   q40fourpair

q40fourquad:
	PREFETCHT0 (R10)(BX*1)
	PREFETCHT0 64(R10)(BX*1)
	PREFETCHT0 (R14)(BX*1)
	PREFETCHT0 64(R14)(BX*1)
	PREFETCHT0 (AX)(BX*1)
	PREFETCHT0 64(AX)(BX*1)
	PREFETCHT0 (DX)(BX*1)
	PREFETCHT0 64(DX)(BX*1)
	ACTQUAD
	ROWQUAD(R10, Z16, Z0, Z1, Z2, Z3, Z5, X5, Y0, Y1)
	ROWQUAD(R14, Z17, Z6, Z7, Z8, Z9, Z11, X11, Y6, Y7)
	ROWQUAD(AX, Z18, Z0, Z1, Z2, Z3, Z5, X5, Y0, Y1)
	ROWQUAD(DX, Z19, Z6, Z7, Z8, Z9, Z11, X11, Y6, Y7)
	ADDQ $72, R10
	ADDQ $72, R14
	ADDQ $72, AX
	ADDQ $72, DX
	ADDQ $160, R11
	SUBQ $4, R12
	CMPQ R12, $4
	JAE  q40fourquad

q40fourpair:
	CMPQ R12, $2
	JB   q40fourtail
	ACTPAIR
	ROWTAIL(R10, K3, Z16, Z0, Z1, Z2, Z3, Z5, X5)
	ROWTAIL(R14, K3, Z17, Z6, Z7, Z8, Z9, Z11, X11)
	ROWTAIL(AX, K3, Z18, Z0, Z1, Z2, Z3, Z5, X5)
	ROWTAIL(DX, K3, Z19, Z6, Z7, Z8, Z9, Z11, X11)
	ADDQ $36, R10
	ADDQ $36, R14
	ADDQ $36, AX
	ADDQ $36, DX
	ADDQ $80, R11
	SUBQ $2, R12

q40fourtail:
	TESTQ R12, R12
	JZ    q40fourdone
	ACTONE
	ROWTAIL(R10, K4, Z16, Z0, Z1, Z2, Z3, Z5, X5)
	ROWTAIL(R14, K4, Z17, Z6, Z7, Z8, Z9, Z11, X11)
	ROWTAIL(AX, K4, Z18, Z0, Z1, Z2, Z3, Z5, X5)
	ROWTAIL(DX, K4, Z19, Z6, Z7, Z8, Z9, Z11, X11)

q40fourdone:
	FINISH(Z16, Y16, 0)
	FINISH(Z17, Y17, 4)
	FINISH(Z18, Y18, 8)
	FINISH(Z19, Y19, 12)
	ADDQ $16, DI
	LEAQ (SI)(R8*4), SI
	SUBQ $4, R9
	CMPQ R9, $4
	JAE  q40four

	// The last rows (or the only ones) one at a time: R10, prefetched
	// 2048 bytes ahead.
q40one:
	TESTQ R9, R9
	JZ    q40end
	MOVQ  SI, R10
	MOVQ  R13, R11
	MOVQ  nb+40(FP), R12
	VPXORD Z16, Z16, Z16
	CMPQ  R12, $4
	JB    q40onepair

q40onequad:
	PREFETCHT0 8192(R10)
	PREFETCHT0 8256(R10)
	ACTQUAD
	ROWQUAD(R10, Z16, Z0, Z1, Z2, Z3, Z5, X5, Y0, Y1)
	ADDQ $72, R10
	ADDQ $160, R11
	SUBQ $4, R12
	CMPQ R12, $4
	JAE  q40onequad

q40onepair:
	CMPQ R12, $2
	JB   q40onetail
	ACTPAIR
	ROWTAIL(R10, K3, Z16, Z0, Z1, Z2, Z3, Z5, X5)
	ADDQ $36, R10
	ADDQ $80, R11
	SUBQ $2, R12

q40onetail:
	TESTQ R12, R12
	JZ    q40onedone
	ACTONE
	ROWTAIL(R10, K4, Z16, Z0, Z1, Z2, Z3, Z5, X5)

q40onedone:
	FINISH(Z16, Y16, 0)
	ADDQ $4, DI
	ADDQ R8, SI
	DECQ R9
	JMP  q40one

q40end:
	VZEROUPPER
	RET
