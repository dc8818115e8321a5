#include "textflag.h"
#include "hsum_amd64.h"

DATA maxNegInf<>+0(SB)/4, $0xff800000
GLOBL maxNegInf<>(SB), RODATA|NOPTR, $4

// func maxF32AVX2(x *float32, n int) float32
// The largest of x[0..n), n a positive multiple of 32, NaNs passed over:
// each VMAXPS keeps the accumulator when the loaded value is NaN.
TEXT ·maxF32AVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS maxNegInf<>(SB), Y4
	VMOVAPS Y4, Y5
	VMOVAPS Y4, Y6
	VMOVAPS Y4, Y7
maxloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMAXPS Y4, Y0, Y4
	VMAXPS Y5, Y1, Y5
	VMAXPS Y6, Y2, Y6
	VMAXPS Y7, Y3, Y7
	ADDQ $128, SI
	SUBQ $32, CX
	JNZ maxloop
	VMAXPS Y5, Y4, Y4
	VMAXPS Y7, Y6, Y6
	VMAXPS Y6, Y4, Y4
	HMAX8(Y4, X4, X5)
	VMOVSS X4, ret+16(FP)
	VZEROUPPER
	RET
