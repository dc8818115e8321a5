#include "textflag.h"
#include "hsum_amd64.h"

// The AVX2 exponentials of SwiGLU and of the softmax (vec.go): those of
// the AVX-512 loops (kernels_amd64.s, EXPZ), eight values at a time, with
// 2^k applied as two exponent fields instead of VSCALEFPS.
//
// exp(t) = 2^k * e^r, k = round(t*log2 e), r = t - k*ln2 (ln2 in two
// parts), e^r by its Taylor series to degree 7; t is first clamped to
// +-174, past which e^t is 0 or infinite in float32 anyway, so that k/2
// and k - k/2 are exponents a float holds (|k| <= 252): multiplying by
// the two powers rounds an underflow to a subnormal or zero and an
// overflow to infinity, as VSCALEFPS does.

DATA ex2c<>+0(SB)/4, $0x3fb8aa3b
DATA ex2c<>+4(SB)/4, $0x3f318000
DATA ex2c<>+8(SB)/4, $0xb95e8083
DATA ex2c<>+12(SB)/4, $0x3f000000
DATA ex2c<>+16(SB)/4, $0x3e2aaaab
DATA ex2c<>+20(SB)/4, $0x3d2aaaab
DATA ex2c<>+24(SB)/4, $0x3c088889
DATA ex2c<>+28(SB)/4, $0x3ab60b61
DATA ex2c<>+32(SB)/4, $0x39500d01
DATA ex2c<>+36(SB)/4, $0x3f800000
GLOBL ex2c<>(SB), RODATA|NOPTR, $40

// The clamp of t, +-174, and the exponent bias, in every lane.
DATA ex2hi<>+0(SB)/8, $0x432e0000432e0000
DATA ex2hi<>+8(SB)/8, $0x432e0000432e0000
DATA ex2hi<>+16(SB)/8, $0x432e0000432e0000
DATA ex2hi<>+24(SB)/8, $0x432e0000432e0000
GLOBL ex2hi<>(SB), RODATA|NOPTR, $32
DATA ex2lo<>+0(SB)/8, $0xc32e0000c32e0000
DATA ex2lo<>+8(SB)/8, $0xc32e0000c32e0000
DATA ex2lo<>+16(SB)/8, $0xc32e0000c32e0000
DATA ex2lo<>+24(SB)/8, $0xc32e0000c32e0000
GLOBL ex2lo<>(SB), RODATA|NOPTR, $32
DATA ex2bias<>+0(SB)/8, $0x0000007f0000007f
DATA ex2bias<>+8(SB)/8, $0x0000007f0000007f
DATA ex2bias<>+16(SB)/8, $0x0000007f0000007f
DATA ex2bias<>+24(SB)/8, $0x0000007f0000007f
GLOBL ex2bias<>(SB), RODATA|NOPTR, $32

// EXP2CONSTS loads the constants EXPY takes into Y5-Y14: log2 e, ln2 in
// two parts, the Taylor coefficients 1/2 .. 1/5040, and 1.
#define EXP2CONSTS \
	VBROADCASTSS ex2c<>+0(SB), Y5; \
	VBROADCASTSS ex2c<>+4(SB), Y6; \
	VBROADCASTSS ex2c<>+8(SB), Y7; \
	VBROADCASTSS ex2c<>+12(SB), Y8; \
	VBROADCASTSS ex2c<>+16(SB), Y9; \
	VBROADCASTSS ex2c<>+20(SB), Y10; \
	VBROADCASTSS ex2c<>+24(SB), Y11; \
	VBROADCASTSS ex2c<>+28(SB), Y12; \
	VBROADCASTSS ex2c<>+32(SB), Y13; \
	VBROADCASTSS ex2c<>+36(SB), Y14

// EXPY sets Y4 = e^Y1 (within 4 ulp); Y1, Y2, Y3 and Y15 are scratch.
#define EXPY \
	VMINPS ex2hi<>(SB), Y1, Y1; \
	VMAXPS ex2lo<>(SB), Y1, Y1; \
	VMULPS Y5, Y1, Y2; \
	VROUNDPS $0, Y2, Y2; \
	VMOVAPS Y1, Y3; \
	VFNMADD231PS Y6, Y2, Y3; \
	VFNMADD231PS Y7, Y2, Y3; \
	VMOVAPS Y13, Y4; \
	VFMADD213PS Y12, Y3, Y4; \
	VFMADD213PS Y11, Y3, Y4; \
	VFMADD213PS Y10, Y3, Y4; \
	VFMADD213PS Y9, Y3, Y4; \
	VFMADD213PS Y8, Y3, Y4; \
	VFMADD213PS Y14, Y3, Y4; \
	VFMADD213PS Y14, Y3, Y4; \
	VCVTPS2DQ Y2, Y2; \
	VPSRAD $1, Y2, Y15; \
	VPSUBD Y15, Y2, Y2; \
	VPADDD ex2bias<>(SB), Y15, Y15; \
	VPADDD ex2bias<>(SB), Y2, Y2; \
	VPSLLD $23, Y15, Y15; \
	VPSLLD $23, Y2, Y2; \
	VMULPS Y15, Y4, Y4; \
	VMULPS Y2, Y4, Y4

// func swigluAVX2(gate, up *float32, n int)
// gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i] for n a positive
// multiple of 8 (swigluAVX512's steps).
TEXT ·swigluAVX2(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	EXP2CONSTS
swaloop:
	VMOVUPS (DI), Y0
	VXORPS Y1, Y1, Y1
	VSUBPS Y0, Y1, Y1
	EXPY
	VADDPS Y14, Y4, Y4
	VDIVPS Y4, Y0, Y0
	VMULPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ swaloop
	VZEROUPPER
	RET

// func expShiftAVX2(x *float32, n int, shift float32) float32
// x[i] = exp(x[i] - shift) for n a positive multiple of 8; returns the sum
// of the results (float lanes, added across at the end).
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	EXP2CONSTS
	VXORPS Y0, Y0, Y0
exaloop:
	VMOVUPS (DI), Y1
	VBROADCASTSS shift+16(FP), Y2
	VSUBPS Y2, Y1, Y1
	EXPY
	VMOVUPS Y4, (DI)
	VADDPS Y4, Y0, Y0
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ exaloop
	HSUM8(Y0, X0, X1)
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET
