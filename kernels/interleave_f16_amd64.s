#include "textflag.h"
#include "hsum_amd64.h"

// The AVX-512 loop of the interleaved F16 layout (f16X16, interleave.go;
// installed by interleave_amd64.go). It takes four rows at a time, and each
// row's arithmetic is vecF16AVX512's, instruction for instruction (four
// float accumulators over 64 values a step, a step of 16 for what is left,
// the same tree of sums at the end), so the results are that loop's bits;
// what the four rows share is the activations, converted from halves once
// per step instead of once per row, and read once per four rows.

// F16ROW4 converts 64 halves of one row at addr0..addr3 into a..d and adds
// their products with the activations in Z16-Z19 to the accumulators
// s0..s3.
#define F16ROW4(addr0, addr1, addr2, addr3, a, b, c, d, s0, s1, s2, s3) \
	VCVTPH2PS addr0, a; \
	VCVTPH2PS addr1, b; \
	VCVTPH2PS addr2, c; \
	VCVTPH2PS addr3, d; \
	VFMADD231PS Z16, a, s0; \
	VFMADD231PS Z17, b, s1; \
	VFMADD231PS Z18, c, s2; \
	VFMADD231PS Z19, d, s3

// F16SUM reduces a row's accumulators s0..s3 to lane 0 of xs, as
// vecF16AVX512 does (f165sum), and stores it at dst; yt is scratch (the
// 256-bit register of s1, free by then).
#define F16SUM(s0, s1, s2, s3, y0, x0, yt, xt, dst) \
	VADDPS s1, s0, s0; \
	VADDPS s3, s2, s2; \
	VADDPS s2, s0, s0; \
	VEXTRACTF64X4 $1, s0, yt; \
	VADDPS y0, yt, y0; \
	HSUM8(y0, x0, xt); \
	VMOVSS x0, dst

// func vecF16X16AVX512(y *float32, w *byte, rb, units int, xq *byte, nb, xh int)
// Interleaved F16 units of sixteen rows (rb bytes each, nb values per row,
// a multiple of 16) against activations as halves when xh is not 0, else
// as float32: y gets sixteen values per unit. A unit is four groups of
// four rows one after another, and a group is its 64-value steps (four
// rows' 128 bytes each) and then its 16-value steps (32 bytes each), so
// the loop reads one stream.
TEXT ·vecF16X16AVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ w+8(FP), R10
	MOVQ units+24(FP), R9
	SHLQ $2, R9
	MOVQ xh+48(FP), R15
x4group:
	MOVQ xq+32(FP), R11
	MOVQ nb+40(FP), R12
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	CMPQ R12, $64
	JB x4by16
x4by64:
	TESTQ R15, R15
	JZ x4by64f
	VCVTPH2PS (R11), Z16
	VCVTPH2PS 32(R11), Z17
	VCVTPH2PS 64(R11), Z18
	VCVTPH2PS 96(R11), Z19
	ADDQ $128, R11
	JMP x4by64rows
x4by64f:
	VMOVUPS (R11), Z16
	VMOVUPS 64(R11), Z17
	VMOVUPS 128(R11), Z18
	VMOVUPS 192(R11), Z19
	ADDQ $256, R11
x4by64rows:
	F16ROW4((R10), 32(R10), 64(R10), 96(R10), Z20, Z21, Z22, Z23, Z0, Z1, Z2, Z3)
	F16ROW4(128(R10), 160(R10), 192(R10), 224(R10), Z24, Z25, Z26, Z27, Z4, Z5, Z6, Z7)
	F16ROW4(256(R10), 288(R10), 320(R10), 352(R10), Z20, Z21, Z22, Z23, Z8, Z9, Z10, Z11)
	F16ROW4(384(R10), 416(R10), 448(R10), 480(R10), Z24, Z25, Z26, Z27, Z12, Z13, Z14, Z15)
	ADDQ $512, R10
	SUBQ $64, R12
	CMPQ R12, $64
	JAE x4by64
x4by16:
	CMPQ R12, $16
	JB x4sum
	TESTQ R15, R15
	JZ x4by16f
	VCVTPH2PS (R11), Z16
	ADDQ $32, R11
	JMP x4by16rows
x4by16f:
	VMOVUPS (R11), Z16
	ADDQ $64, R11
x4by16rows:
	VCVTPH2PS (R10), Z20
	VCVTPH2PS 32(R10), Z21
	VCVTPH2PS 64(R10), Z22
	VCVTPH2PS 96(R10), Z23
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z16, Z21, Z4
	VFMADD231PS Z16, Z22, Z8
	VFMADD231PS Z16, Z23, Z12
	ADDQ $128, R10
	SUBQ $16, R12
	JMP x4by16
x4sum:
	F16SUM(Z0, Z1, Z2, Z3, Y0, X0, Y1, X1, (DI))
	F16SUM(Z4, Z5, Z6, Z7, Y4, X4, Y5, X5, 4(DI))
	F16SUM(Z8, Z9, Z10, Z11, Y8, X8, Y9, X9, 8(DI))
	F16SUM(Z12, Z13, Z14, Z15, Y12, X12, Y13, X13, 12(DI))
	ADDQ $16, DI
	DECQ R9
	JNZ x4group
	VZEROUPPER
	RET
