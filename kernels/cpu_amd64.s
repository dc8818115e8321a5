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
// Reads every byte of the n bytes from the 64-byte line holding p (n a
// multiple of 512), 16 at a time into two registers, so that the core
// keeps as many misses in flight as it can. (One load per line instead
// streamed from memory at 24-30 GB/s on a Zen 4 core where these loads
// reached 27-34: the core's prefetchers follow dense reads further.) The
// loads are aligned: p is rounded down to its line.
TEXT ·touchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	ANDQ $~63, SI
	PXOR X0, X0
	PXOR X1, X1
tl:
	POR 0(SI), X0
	POR 16(SI), X1
	POR 32(SI), X0
	POR 48(SI), X1
	POR 64(SI), X0
	POR 80(SI), X1
	POR 96(SI), X0
	POR 112(SI), X1
	POR 128(SI), X0
	POR 144(SI), X1
	POR 160(SI), X0
	POR 176(SI), X1
	POR 192(SI), X0
	POR 208(SI), X1
	POR 224(SI), X0
	POR 240(SI), X1
	POR 256(SI), X0
	POR 272(SI), X1
	POR 288(SI), X0
	POR 304(SI), X1
	POR 320(SI), X0
	POR 336(SI), X1
	POR 352(SI), X0
	POR 368(SI), X1
	POR 384(SI), X0
	POR 400(SI), X1
	POR 416(SI), X0
	POR 432(SI), X1
	POR 448(SI), X0
	POR 464(SI), X1
	POR 480(SI), X0
	POR 496(SI), X1
	ADDQ $512, SI
	SUBQ $512, CX
	JG tl
	RET

// func prefetchLines(p *byte, n int)
// PREFETCHT0 for each 64-byte line that the n bytes at p (n positive)
// touch.
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ SI, AX
	ANDQ $63, AX
	LEAQ 63(AX)(CX*1), CX
	SHRQ $6, CX
pfl:
	PREFETCHT0 (SI)
	ADDQ $64, SI
	DECQ CX
	JNZ pfl
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
