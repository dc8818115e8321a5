#include "textflag.h"

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// func xgetbv() (a, d uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, a+0(FP)
	MOVL DX, d+4(FP)
	RET

// func spinPause()
// PAUSE tells the core a spin-wait is under way, so that a sibling
// hardware thread gets its resources.
TEXT ·spinPause(SB), NOSPLIT, $0-0
	PAUSE
	RET

// func touchLines(p uintptr, n int)
// A load from each 64-byte line of the n bytes at p (n a multiple of 512),
// eight lines a step into independent registers, so that the core keeps
// as many misses in flight as it can.
TEXT ·touchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
tl:
	MOVQ 0(SI), AX
	MOVQ 64(SI), BX
	MOVQ 128(SI), DX
	MOVQ 192(SI), DI
	MOVQ 256(SI), R8
	MOVQ 320(SI), R9
	MOVQ 384(SI), R10
	MOVQ 448(SI), R11
	ADDQ $512, SI
	SUBQ $512, CX
	JG tl
	RET

// func prefetchWRuns(p *byte, n, stride, count int)
// PREFETCHW (a prefetch with intent to write: the line arrives owned, so a
// store to it needs no second request) for each 64-byte line that the
// count runs of n bytes at p, p+stride, ... touch (n positive). PREFETCHW
// is encoded by hand: the assembler does not know it.
TEXT ·prefetchWRuns(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), DX
	MOVQ stride+16(FP), R8
	MOVQ count+24(FP), R9
	TESTQ R9, R9
	JLE pfwdone
pfwrun:
	// Lines from the one holding SI to the one holding SI+n-1.
	MOVQ SI, AX
	ANDQ $63, AX
	LEAQ 63(AX)(DX*1), AX
	SHRQ $6, AX
	MOVQ SI, DI
pfwline:
	BYTE $0x0F; BYTE $0x0D; BYTE $0x0F // PREFETCHW (DI)
	ADDQ $64, DI
	DECQ AX
	JNZ pfwline
	ADDQ R8, SI
	DECQ R9
	JNZ pfwrun
pfwdone:
	RET
