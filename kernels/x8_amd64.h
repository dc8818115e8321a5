// The frame of the AVX2 loops of the layouts interleaved by eight rows
// (x8_amd64.s, x8legacy_amd64.s), included by their .s files: each takes
// (y *float32, w *byte, rb, units int, xq *byte, nb, pf int) and computes
// eight rows at a time, each 32-bit lane one row.

// X8_ARGS loads the arguments every x8 loop takes, (y *float32, w
// *byte, rb, units int, xq *byte, nb, pf int): y in DI, w in R10, the
// groups of eight rows (two a unit) in R9, xq in R13, pf in R14.
#define X8_ARGS \
	MOVQ y+0(FP), DI; \
	MOVQ w+8(FP), R10; \
	MOVQ units+24(FP), R9; \
	SHLQ $1, R9; \
	MOVQ xq+32(FP), R13; \
	MOVQ pf+48(FP), R14

// X8_GROUP starts a group: the activations from the start (R11), nb
// blocks to go (R12), the eight rows' sums (Y0) zero.
#define X8_GROUP \
	MOVQ R13, R11; \
	MOVQ nb+40(FP), R12; \
	VXORPS Y0, Y0, Y0

// X8_GROUPADD is X8_GROUP for the loops that add to y (the "B" loops,
// which take the panelled layouts a panel at a time): the eight rows'
// sums start from y's, at DI.
#define X8_GROUPADD \
	MOVQ R13, R11; \
	MOVQ nb+40(FP), R12; \
	VMOVUPS (DI), Y0

// X8_BYTES sets ymm (whose low half is xmm) to the dword b in every dword.
#define X8_BYTES(b, xmm, ymm) \
	MOVL $b, AX; \
	VMOVD AX, xmm; \
	VPBROADCASTD xmm, ymm

// X8_NEXT ends a block: the activations xstep bytes on (R11), the next
// block (at label block) while any are left, then the group's eight sums
// (Y0) stored and the next group (at label group) while any are left.
#define X8_NEXT(xstep, block, group) \
	ADDQ $xstep, R11; \
	DECQ R12; \
	JNZ block; \
	X8_GROUPEND(group)

// X8_GROUPEND ends a group: its eight sums (Y0) stored, then the next
// group (at label group) while any are left.
#define X8_GROUPEND(group) \
	VMOVUPS Y0, (DI); \
	ADDQ $32, DI; \
	DECQ R9; \
	JNZ group; \
	VZEROUPPER; \
	RET

// X8_NIB2 splits two loads of 32 bytes of nibbles (at wa and wb) into a
// and b (low nibbles) and c and d (high; Y15 holds 0x0f in every byte)
// and multiplies them by the activations at xa, xb, xc and xd
// (VPMADDUBSW operands, already broadcast): the two steps of Q4_K's and
// Q4_0's loops that take broadcast activations, each operation of one
// beside the other's.
#define X8_NIB2(wa, wb, xa, xb, xc, xd, a, b, c, d) \
	VMOVDQU wa, a; \
	VMOVDQU wb, b; \
	VPSRLW $4, a, c; \
	VPSRLW $4, b, d; \
	VPAND Y15, a, a; \
	VPAND Y15, b, b; \
	VPAND Y15, c, c; \
	VPAND Y15, d, d; \
	VPMADDUBSW xa, a, a; \
	VPMADDUBSW xb, b, b; \
	VPMADDUBSW xc, c, c; \
	VPMADDUBSW xd, d, d

// X5Q forms step t of eight rows' 5-bit quants laid out as q50X8 and
// q5KX8 lay them: the step's 32 bytes at woff(R10) hold in each byte a
// whole quant of the first half (bits 0-4) and the low three bits of the
// matching quant of the second half (bits 5-7); the plane register holds
// the second half's top two bits, shifted by the instruction shop $cnt so
// that step t's are bits 3 and 4 (word shifts of at most three move no
// bit the masks keep across bytes). Y10 gets the first half's quants, Y9
// the second's; m1f holds 0x1f in every byte, m07 0x07 and m18 0x18
// (registers or memory); Y11 is scratch.
#define X5Q(woff, plane, m1f, m07, m18, shop, cnt) \
	VMOVDQU woff(R10), Y9; \
	VPAND m1f, Y9, Y10; \
	VPSRLW $5, Y9, Y9; \
	VPAND m07, Y9, Y9; \
	shop $cnt, plane, Y11; \
	VPAND m18, Y11, Y11; \
	VPOR Y11, Y9, Y9
