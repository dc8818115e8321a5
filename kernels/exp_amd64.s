#include "textflag.h"
#include "hsum_amd64.h"
#include "masks_amd64.h"

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

// EXPFRAME writes the constants EXPY2 takes to the first 320 bytes of
// the frame, each in all eight lanes: log2 e @0, ln2 in two parts @32
// and @64, the Taylor coefficients 1/2 @96 .. 1/5040 @256, and 1 @288.
#define EXPFRAME \
	EXPC(0); EXPC(1); EXPC(2); EXPC(3); EXPC(4); \
	EXPC(5); EXPC(6); EXPC(7); EXPC(8); EXPC(9)

// EXPC writes constant i of ex2c<> to the frame, in all eight lanes.
#define EXPC(i) \
	VBROADCASTSS ex2c<>+(4*(i))(SB), Y0; \
	VMOVUPS Y0, (32*(i))(SP)

// EXPY2 sets Y4 = e^Y1 and Y9 = e^Y6 (each within 4 ulp), the two
// exponentials' steps interleaved: one exponential is a chain of about
// twenty dependent operations, and on a Zen 1 core eight values at a
// time waited on it (37 cycles per eight); two chains side by side keep
// its pipes busy. Each value's operations are those of one exponential
// alone, so the results do not depend on the pairing. The constants are
// the frame's (EXPFRAME); Y2, Y3, Y5, Y7, Y8 and Y10 are scratch.
#define EXPY2 \
	VMINPS ex2hi<>(SB), Y1, Y1; \
	VMINPS ex2hi<>(SB), Y6, Y6; \
	VMAXPS ex2lo<>(SB), Y1, Y1; \
	VMAXPS ex2lo<>(SB), Y6, Y6; \
	VMULPS 0(SP), Y1, Y2; \
	VMULPS 0(SP), Y6, Y7; \
	VROUNDPS $0, Y2, Y2; \
	VROUNDPS $0, Y7, Y7; \
	VMOVAPS Y1, Y3; \
	VMOVAPS Y6, Y8; \
	VFNMADD231PS 32(SP), Y2, Y3; \
	VFNMADD231PS 32(SP), Y7, Y8; \
	VFNMADD231PS 64(SP), Y2, Y3; \
	VFNMADD231PS 64(SP), Y7, Y8; \
	VMOVUPS 256(SP), Y4; \
	VMOVUPS 256(SP), Y9; \
	VFMADD213PS 224(SP), Y3, Y4; \
	VFMADD213PS 224(SP), Y8, Y9; \
	VFMADD213PS 192(SP), Y3, Y4; \
	VFMADD213PS 192(SP), Y8, Y9; \
	VFMADD213PS 160(SP), Y3, Y4; \
	VFMADD213PS 160(SP), Y8, Y9; \
	VFMADD213PS 128(SP), Y3, Y4; \
	VFMADD213PS 128(SP), Y8, Y9; \
	VFMADD213PS 96(SP), Y3, Y4; \
	VFMADD213PS 96(SP), Y8, Y9; \
	VFMADD213PS 288(SP), Y3, Y4; \
	VFMADD213PS 288(SP), Y8, Y9; \
	VFMADD213PS 288(SP), Y3, Y4; \
	VFMADD213PS 288(SP), Y8, Y9; \
	VCVTPS2DQ Y2, Y2; \
	VCVTPS2DQ Y7, Y7; \
	VPSRAD $1, Y2, Y5; \
	VPSRAD $1, Y7, Y10; \
	VPSUBD Y5, Y2, Y2; \
	VPSUBD Y10, Y7, Y7; \
	VPADDD ex2bias<>(SB), Y5, Y5; \
	VPADDD ex2bias<>(SB), Y10, Y10; \
	VPADDD ex2bias<>(SB), Y2, Y2; \
	VPADDD ex2bias<>(SB), Y7, Y7; \
	VPSLLD $23, Y5, Y5; \
	VPSLLD $23, Y10, Y10; \
	VPSLLD $23, Y2, Y2; \
	VPSLLD $23, Y7, Y7; \
	VMULPS Y5, Y4, Y4; \
	VMULPS Y10, Y9, Y9; \
	VMULPS Y2, Y4, Y4; \
	VMULPS Y7, Y9, Y9

// func swigluAVX2(gate, up *float32, n int)
// gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i] for n a positive
// multiple of 16 (swigluAVX512's steps), sixteen values at a time.
TEXT ·swigluAVX2(SB), NOSPLIT, $320-24
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	EXPFRAME
	VXORPS Y15, Y15, Y15
swaloop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y11
	VSUBPS Y0, Y15, Y1
	VSUBPS Y11, Y15, Y6
	EXPY2
	VADDPS 288(SP), Y4, Y4
	VADDPS 288(SP), Y9, Y9
	VDIVPS Y4, Y0, Y0
	VDIVPS Y9, Y11, Y11
	VMULPS (SI), Y0, Y0
	VMULPS 32(SI), Y11, Y11
	VMOVUPS Y0, (DI)
	VMOVUPS Y11, 32(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ swaloop
	VZEROUPPER
	RET

// func expShiftAVX2(x *float32, n int, shift float32) float32
// x[i] = exp(x[i] - shift) for n a positive multiple of 16, sixteen at a
// time; returns the sum of the results (eight float lanes, each vector of
// eight added in turn, added across at the end).
TEXT ·expShiftAVX2(SB), NOSPLIT, $320-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	EXPFRAME
	VBROADCASTSS shift+16(FP), Y11
	VXORPS Y0, Y0, Y0
exaloop:
	VMOVUPS (DI), Y1
	VMOVUPS 32(DI), Y6
	VSUBPS Y11, Y1, Y1
	VSUBPS Y11, Y6, Y6
	EXPY2
	VMOVUPS Y4, (DI)
	VMOVUPS Y9, 32(DI)
	VADDPS Y4, Y0, Y0
	VADDPS Y9, Y0, Y0
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ exaloop
	HSUM8(Y0, X0, X1)
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func softmaxF16RowsAVX2(x *float32, rows, n int, scale float32)
// SoftmaxF16Rows for rows rows of n > 0 values: each row scaled and its
// maximum taken (ScaleMax), e^(v-max) and their sum (ExpShift: sixteen
// at a time, each vector of eight added in turn to one accumulator, the
// lanes added across at the end), then each value times 1/sum (the
// quotient in double precision, rounded to float, as Scale(row,
// float32(1/sum)) is) and rounded to half precision. A row's last n%8
// values are loaded and stored under a mask (VMASKMOVPS) and kept out of
// the maximum and the sum; where n is a multiple of 16 the results are
// those of the four steps in turn, bit for bit. The frame holds EXPY2's
// constants.
TEXT ·softmaxF16RowsAVX2(SB), NOSPLIT, $320-28
	MOVQ x+0(FP), DI
	MOVQ rows+8(FP), R8
	MOVQ n+16(FP), R9
	MOVQ R9, R11
	ANDQ $7, R11 // the values under a mask
	MOVQ R11, AX
	NEGQ AX
	LEAQ lanes8<>+32(SB), R12
	LEAQ (R12)(AX*4), R12 // their mask
	MOVQ R9, R10
	ANDQ $-8, R10 // the values before them
	EXPFRAME
smarow:
	// Scale, and the maximum.
	VBROADCASTSS scale+24(FP), Y2
	VBROADCASTSS negInf<>(SB), Y3
	VMOVAPS Y3, Y0
	MOVQ DI, SI
	MOVQ R10, CX
	TESTQ CX, CX
	JZ smamaxtail
smamaxloop:
	VMULPS (SI), Y2, Y1
	VMOVUPS Y1, (SI)
	VMAXPS Y0, Y1, Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ smamaxloop
smamaxtail:
	TESTQ R11, R11
	JZ smamaxdone
	VMOVDQU (R12), Y15
	VMASKMOVPS (SI), Y15, Y1
	VMULPS Y2, Y1, Y1
	VMASKMOVPS Y1, Y15, (SI)
	VBLENDVPS Y15, Y1, Y3, Y1
	VMAXPS Y0, Y1, Y0
smamaxdone:
	HMAX8(Y0, X0, X1)
	VBROADCASTSS X0, Y11
	// e^(v-max) and their sum: sixteen at a time, then eight, then the
	// rest under the mask (the pair's second exponential unused).
	VXORPS Y0, Y0, Y0
	MOVQ DI, SI
	MOVQ R10, CX
	CMPQ CX, $16
	JB smaexp8
smaexploop:
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y6
	VSUBPS Y11, Y1, Y1
	VSUBPS Y11, Y6, Y6
	EXPY2
	VMOVUPS Y4, (SI)
	VMOVUPS Y9, 32(SI)
	VADDPS Y4, Y0, Y0
	VADDPS Y9, Y0, Y0
	ADDQ $64, SI
	SUBQ $16, CX
	CMPQ CX, $16
	JAE smaexploop
smaexp8:
	TESTQ CX, CX
	JZ smaexptail
	VMOVUPS (SI), Y1
	VSUBPS Y11, Y1, Y1
	VMOVAPS Y1, Y6
	EXPY2
	VMOVUPS Y4, (SI)
	VADDPS Y4, Y0, Y0
	ADDQ $32, SI
smaexptail:
	TESTQ R11, R11
	JZ smaexpdone
	VMOVDQU (R12), Y15
	VMASKMOVPS (SI), Y15, Y1
	VSUBPS Y11, Y1, Y1
	VMOVAPS Y1, Y6
	EXPY2
	VMASKMOVPS Y4, Y15, (SI)
	VANDPS Y15, Y4, Y4
	VADDPS Y4, Y0, Y0
smaexpdone:
	HSUM8(Y0, X0, X1)
	VCVTSS2SD X0, X0, X0
	MOVQ $0x3ff0000000000000, AX
	VMOVQ AX, X1
	VDIVSD X0, X1, X1
	VCVTSD2SS X1, X1, X1
	VBROADCASTSS X1, Y2
	// Normalize and round to half precision.
	MOVQ DI, SI
	MOVQ R10, CX
	TESTQ CX, CX
	JZ smartail
smarloop:
	VMULPS (SI), Y2, Y1
	VCVTPS2PH $0, Y1, X1
	VCVTPH2PS X1, Y1
	VMOVUPS Y1, (SI)
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ smarloop
smartail:
	TESTQ R11, R11
	JZ smardone
	VMASKMOVPS (SI), Y15, Y1
	VMULPS Y2, Y1, Y1
	VCVTPS2PH $0, Y1, X1
	VCVTPH2PS X1, Y1
	VMASKMOVPS Y1, Y15, (SI)
smardone:
	LEAQ (DI)(R9*4), DI
	DECQ R8
	JNZ smarow
	VZEROUPPER
	RET
