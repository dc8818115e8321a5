#include "textflag.h"

// Vector helpers for the per-token serial work (norms, the KV cache).

// func f32ToF16AVX2(dst *uint16, src *float32, n int)
// dst[i] = the half nearest src[i] (ties to even), n a positive multiple
// of 16.
TEXT ·f32ToF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
f2hloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VCVTPS2PH $0, Y0, (DI)
	VCVTPS2PH $0, Y1, 16(DI)
	ADDQ $64, SI
	ADDQ $32, DI
	SUBQ $16, CX
	JNZ f2hloop
	VZEROUPPER
	RET

// func scaleMulAVX2(dst, x, w *float32, s float32, n int)
// dst[i] = (x[i]*s)*w[i], n a positive multiple of 16.
TEXT ·scaleMulAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	VBROADCASTSS s+24(FP), Y2
	MOVQ n+32(FP), CX
smloop:
	VMULPS (SI), Y2, Y0
	VMULPS 32(SI), Y2, Y1
	VMULPS (DX), Y0, Y0
	VMULPS 32(DX), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ smloop
	VZEROUPPER
	RET

DATA negInf<>+0(SB)/4, $0xff800000
GLOBL negInf<>(SB), RODATA|NOPTR, $4

// func scaleMaxAVX2(x *float32, n int, s float32) float32
// x[i] *= s for i < n, a positive multiple of 16; returns the largest
// x[i] (VMAXPS: a NaN is passed over).
TEXT ·scaleMaxAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y2
	VBROADCASTSS negInf<>(SB), Y3
	VMOVAPS Y3, Y4
smxloop:
	VMULPS (SI), Y2, Y0
	VMULPS 32(SI), Y2, Y1
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	VMAXPS Y3, Y0, Y3
	VMAXPS Y4, Y1, Y4
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ smxloop
	VMAXPS Y4, Y3, Y3
	VEXTRACTF128 $1, Y3, X4
	VMAXPS X4, X3, X3
	VMOVHLPS X3, X3, X4
	VMAXPS X4, X3, X3
	VMOVSHDUP X3, X4
	VMAXSS X4, X3, X3
	VMOVSS X3, ret+24(FP)
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, s float32)
// x[i] *= s for i < n, a positive multiple of 16.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y2
scloop:
	VMULPS (SI), Y2, Y0
	VMULPS 32(SI), Y2, Y1
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ scloop
	VZEROUPPER
	RET
