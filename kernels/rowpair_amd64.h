// The AVX2 row loops of the 32-value types (kernels_amd64.s: Q8_0 and
// Q4_0; q4q5_amd64.s: Q5_0, Q4_1 and Q5_1), included by their .s files.
// Each takes (y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// and actQ8_0 activations, and sums a row as the portable kernel does:
// each block's integer sum exact, then its float steps block after block
// (see qdot_generic.go), so that a streamed span (these loops) and a
// resident one (the loops interleaved by eight rows) give the same bits.
// The integer sums of a pair of blocks are reduced together (VPHADDD).

// ROW_ARGS loads the arguments: y in DI, w in SI, rows in R9, xq in R13,
// pf in R14.
#define ROW_ARGS \
	MOVQ y+0(FP), DI; \
	MOVQ w+8(FP), SI; \
	MOVQ rows+24(FP), R9; \
	MOVQ xq+32(FP), R13; \
	MOVQ pf+48(FP), R14

// SIGNED_ISUM leaves in Y(dst) the products of a block's 32 signed
// weights (bytes in Y2) with the actQ8_0 quants at xoff(R11), eight
// dwords whose total is the block's integer sum: the weights' absolute
// values times the activations with the weights' signs (VPSIGNB; a weight
// of -128 stays right), added in pairs by VPMADDWD (ones holds words of
// 1). Y3 is scratch.
#define SIGNED_ISUM(xoff, dst, ones) \
	VMOVDQU xoff(R11), dst; \
	VPABSB Y2, Y3; \
	VPSIGNB Y2, dst, dst; \
	VPMADDUBSW dst, Y3, dst; \
	VPMADDWD ones, dst, dst

// QD_FLOATS ends a block of the Q8_0, Q4_0 and Q5_0 loops as the portable
// kernel does: X0 += (d_w*d_x)*isum, given d_w (fp16) at woff(R10), d_x
// at xoff(R11) and isum (float) in lane 0 of isum. X6 is scratch.
#define QD_FLOATS(woff, xoff, isum) \
	VCVTPH2PS woff(R10), X6; \
	VMULSS xoff(R11), X6, X6; \
	VMULSS isum, X6, X6; \
	VADDSS X6, X0, X0

// QM_FLOATS ends a block of the Q4_1 and Q5_1 loops as the portable kernel
// does: X0 += (d_w*d_x)*isum + m_w*s_x, given d_w, m_w (fp16) at
// woff(R10), d_x, s_x at xoff(R11) and isum (float) in lane 0 of isum.
// d_w*d_x and m_w*s_x are the two lanes of one multiply. X5-X7 are
// scratch.
#define QM_FLOATS(woff, xoff, isum) \
	VMOVD woff(R10), X6; \
	VCVTPH2PS X6, X6; \
	VMOVQ xoff(R11), X5; \
	VMULPS X5, X6, X6; \
	VMULSS isum, X6, X7; \
	VMOVSHDUP X6, X6; \
	VADDSS X6, X7, X7; \
	VADDSS X7, X0, X0

// ROWS is a row loop (ISUM(woff, xoff, dst) the type's integer sums of
// the block at woff(R10) against the activations at xoff(R11), eight
// dwords in Y(dst), with Y2 and Y3 as scratch; FLOATS QD_FLOATS or
// QM_FLOATS; bb the bytes of a block; the rest labels): blocks in pairs,
// a line prefetched a pair (PFLINES1), whose sums are reduced together,
// then a last odd block, each ended by FLOATS in turn; the row's sum is
// stored at DI.
#define ROWS(ISUM, FLOATS, bb, row, pair, tail, done) \
row: \
	MOVQ SI, R10; \
	MOVQ R13, R11; \
	MOVQ nb+40(FP), R12; \
	VXORPS X0, X0, X0; \
	CMPQ R12, $2; \
	JB tail; \
pair: \
	PFLINES1(R14); \
	ISUM(0, 8, Y4); \
	ISUM(bb, 48, Y5); \
	VPHADDD Y5, Y4, Y4; \
	VEXTRACTI128 $1, Y4, X5; \
	VPADDD X5, X4, X4; \
	VPHADDD X4, X4, X4; \
	VCVTDQ2PS X4, X4; \
	FLOATS(0, 0, X4); \
	VMOVSHDUP X4, X4; \
	FLOATS(bb, 40, X4); \
	ADDQ $(2*bb), R10; \
	ADDQ $80, R11; \
	SUBQ $2, R12; \
	CMPQ R12, $2; \
	JAE pair; \
tail: \
	TESTQ R12, R12; \
	JZ done; \
	ISUM(0, 8, Y4); \
	VEXTRACTI128 $1, Y4, X5; \
	VPADDD X5, X4, X4; \
	VPHADDD X4, X4, X4; \
	VPHADDD X4, X4, X4; \
	VCVTDQ2PS X4, X4; \
	FLOATS(0, 0, X4); \
done: \
	ROW_END(X0, row)
