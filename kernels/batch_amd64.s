#include "textflag.h"
#include "hsum_amd64.h"

// The register-blocked loop of batched products (see batch_amd64.go):
// four activation vectors against each weight loaded, and the conversion
// of F16 and BF16 rows into its float32 tiles. The loop keeps one vector
// accumulator for each (row, vector) pair, summed in the order of the
// values, and ends a span with HSUM8 or HSUM4 of it; whether a row is
// taken alone or beside another does not change its sums.

// BOUT(x, dst) stores lane 0 of x at dst, or adds it to dst first when
// R15 (the add argument) is not 0.
#define BOUT(x, dst) \
	TESTQ R15, R15; \
	JZ 2(PC); \
	VADDSS dst, x, x; \
	VMOVSS x, dst

// BOUT4 stores (BOUT) the sums of the four accumulators of a row, one for
// each vector, o bytes past the row's first output: vector v's at DI +
// v*R8 (BX = DI+R8).
#define BOUT4(y0, x0, y1, x1, y2, x2, y3, x3, o) \
	HSUM8(y0, x0, X8); \
	BOUT(x0, o(DI)); \
	HSUM8(y1, x1, X8); \
	BOUT(x1, o(DI)(R8*1)); \
	HSUM8(y2, x2, X8); \
	BOUT(x2, o(DI)(R8*2)); \
	HSUM8(y3, x3, X8); \
	BOUT(x3, o(BX)(R8*2))

// WIDEN_ROWS converts nk 16-bit floats (a multiple of 8) of each of rows
// rows, rb bytes apart at src, to float32 at dst, row after row (4*nk
// bytes each): 32 at a time, then 8, each 8 by CONV(off, y), which widens
// the eight values at off(R10) into y.
#define WIDEN_ROWS(CONV) \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ rb+16(FP), R9; \
	MOVQ rows+24(FP), CX; \
	MOVQ nk+32(FP), R8; \
row: \
	MOVQ SI, R10; \
	MOVQ R8, DX; \
	CMPQ DX, $32; \
	JB by8; \
by32: \
	CONV(0, Y0); \
	CONV(16, Y1); \
	CONV(32, Y2); \
	CONV(48, Y3); \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ $64, R10; \
	ADDQ $128, DI; \
	SUBQ $32, DX; \
	CMPQ DX, $32; \
	JAE by32; \
by8: \
	TESTQ DX, DX; \
	JZ next; \
	CONV(0, Y0); \
	VMOVUPS Y0, (DI); \
	ADDQ $16, R10; \
	ADDQ $32, DI; \
	SUBQ $8, DX; \
	JMP by8; \
next: \
	ADDQ R9, SI; \
	DECQ CX; \
	JNZ row; \
	VZEROUPPER; \
	RET

// H2F widens eight halves; B2F eight bfloat16 values, exactly, each
// zero-extended to 32 bits and shifted into a float32's top half.
#define H2F(off, y) VCVTPH2PS off(R10), y
#define B2F(off, y) \
	VPMOVZXWD off(R10), y; \
	VPSLLD $16, y, y

// func batchF32x4AVX2(y *float32, ys int, w *float32, ws, rows int, x *byte, xs, nk, add int)
// Rows (float32, ws bytes apart) two at a time (accumulators Y0-Y3 the first row's four vectors,
// Y4-Y7 the second's), each vector's eight activations loaded once for
// both rows; a last odd row alone, its activations as FMA operands.
// Outputs: vector v's of row i at y + 4*(v*ys + i): DI, DI+R8, DI+2*R8,
// BX+2*R8 with BX = DI+R8.
TEXT ·batchF32x4AVX2(SB), NOSPLIT, $0-72
	MOVQ y+0(FP), DI
	MOVQ ys+8(FP), R8
	SHLQ $2, R8
	MOVQ w+16(FP), SI
	MOVQ ws+24(FP), R9
	MOVQ rows+32(FP), CX
	MOVQ x+40(FP), R13
	MOVQ xs+48(FP), R14
	MOVQ add+64(FP), R15
	CMPQ CX, $2
	JB bf32one
bf32pair:
	MOVQ SI, R10
	MOVQ R13, R11
	LEAQ (R13)(R14*1), R12
	MOVQ nk+56(FP), DX
	ZERO8Y
bf32pairloop:
	VMOVUPS (R10), Y8
	VMOVUPS (R10)(R9*1), Y9
	VMOVUPS (R11), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMOVUPS (R12), Y11
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y11, Y9, Y5
	VMOVUPS (R11)(R14*2), Y12
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y12, Y9, Y6
	VMOVUPS (R12)(R14*2), Y13
	VFMADD231PS Y13, Y8, Y3
	VFMADD231PS Y13, Y9, Y7
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	SUBQ $8, DX
	JNZ bf32pairloop
	LEAQ (DI)(R8*1), BX
	BOUT4(Y0, X0, Y1, X1, Y2, X2, Y3, X3, 0)
	BOUT4(Y4, X4, Y5, X5, Y6, X6, Y7, X7, 4)
	ADDQ $8, DI
	LEAQ (SI)(R9*2), SI
	SUBQ $2, CX
	CMPQ CX, $2
	JAE bf32pair
bf32one:
	TESTQ CX, CX
	JZ bf32done
	MOVQ SI, R10
	MOVQ R13, R11
	LEAQ (R13)(R14*1), R12
	MOVQ nk+56(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
bf32oneloop:
	VMOVUPS (R10), Y8
	VFMADD231PS (R11), Y8, Y0
	VFMADD231PS (R12), Y8, Y1
	VFMADD231PS (R11)(R14*2), Y8, Y2
	VFMADD231PS (R12)(R14*2), Y8, Y3
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	SUBQ $8, DX
	JNZ bf32oneloop
	LEAQ (DI)(R8*1), BX
	BOUT4(Y0, X0, Y1, X1, Y2, X2, Y3, X3, 0)
bf32done:
	VZEROUPPER
	RET

// func halvesToFloats(dst *float32, src *byte, rb, rows, nk int)
TEXT ·halvesToFloats(SB), NOSPLIT, $0-40
	WIDEN_ROWS(H2F)

// func bf16ToFloats(dst *float32, src *byte, rb, rows, nk int)
TEXT ·bf16ToFloats(SB), NOSPLIT, $0-40
	WIDEN_ROWS(B2F)
