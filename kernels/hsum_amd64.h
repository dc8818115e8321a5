// Horizontal sums and maxima shared by the assembly loops (included by the
// .s files of this package), and the store of a row's sum that ends the row
// loops. The order of the additions is the one the loops have always used,
// which the bit-exactness tests pin.

// HSUM4(x, t) adds the four floats of x into its lane 0: the high pair onto
// the low pair, then the two that remain; t is scratch.
#define HSUM4(x, t) \
	VMOVHLPS x, x, t; \
	VADDPS t, x, x; \
	VMOVSHDUP x, t; \
	VADDSS t, x, x

// HSUM8(y, x, t) adds the eight floats of y, whose low half is x, into
// lane 0 of x: the high half onto the low one, then HSUM4. AVX encoding,
// so registers below 16 only.
#define HSUM8(y, x, t) \
	VEXTRACTF128 $1, y, t; \
	VADDPS t, x, x; \
	HSUM4(x, t)

// HMAX8(y, x, t) takes the largest of the eight floats of y, whose low half
// is x, into lane 0 of x, in the order HSUM8 adds them; each VMAXPS keeps
// x's lane against t's when t's is NaN. AVX encoding, so registers below
// 16 only.
#define HMAX8(y, x, t) \
	VEXTRACTF128 $1, y, t; \
	VMAXPS t, x, x; \
	VMOVHLPS x, x, t; \
	VMAXPS t, x, x; \
	VMOVSHDUP x, t; \
	VMAXSS t, x, x

// ZERO8Y clears Y0-Y7, the accumulators of the loops that keep eight.
#define ZERO8Y \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

// ROW_END ends a row of the row loops, which take (y *float32, w *byte, rb,
// rows int, ...) with y in DI, the row in SI and the rows left in R9: the
// row's sum (lane 0 of x) stored, then the next row (at label row) while
// any are left.
#define ROW_END(x, row) \
	VMOVSS x, (DI); \
	ADDQ $4, DI; \
	ADDQ rb+16(FP), SI; \
	DECQ R9; \
	JNZ row; \
	VZEROUPPER; \
	RET
