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
