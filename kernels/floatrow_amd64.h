// The frame of the AVX2 row loops of float weights (F16, BF16 and F32;
// kernels_amd64.s, bf16q5k_amd64.s), included after hsum_amd64.h: each
// takes (y *float32, w *byte, rb, rows int, xq *byte, nb int, ...) with y
// in DI, the row in SI, the rows left in R9 and the activations in R13,
// and sums a row's values (from R10) times the activations (from R11),
// nb of them (R12), in four accumulators, Y0-Y3.

// FROW_START starts a row: its values and the activations from the
// start, nb to go, the accumulators zero.
#define FROW_START \
	MOVQ SI, R10; \
	MOVQ R13, R11; \
	MOVQ nb+40(FP), R12; \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3

// FROW_SUM adds the accumulators, (Y0+Y1)+(Y2+Y3), and their lanes into
// X0's lowest.
#define FROW_SUM \
	VADDPS Y1, Y0, Y0; \
	VADDPS Y3, Y2, Y2; \
	VADDPS Y2, Y0, Y0; \
	HSUM8(Y0, X0, X1)
