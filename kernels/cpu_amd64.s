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

// func prefetchLines(p *byte, n int)
// PREFETCHT0 for each 64-byte line of the n bytes at p (n a multiple of 512).
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
pfl:
	PREFETCHT0 0(SI)
	PREFETCHT0 64(SI)
	PREFETCHT0 128(SI)
	PREFETCHT0 192(SI)
	PREFETCHT0 256(SI)
	PREFETCHT0 320(SI)
	PREFETCHT0 384(SI)
	PREFETCHT0 448(SI)
	ADDQ $512, SI
	SUBQ $512, CX
	JG pfl
	RET

// func prefetchWLines(p *byte, n int)
// PREFETCHW (a prefetch with intent to write: the line arrives owned, so a
// store to it needs no second request) for each 64-byte line of the n
// bytes at p (n a positive multiple of 64). PREFETCHW is encoded by hand:
// the assembler does not know it.
TEXT ·prefetchWLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
pfwl:
	BYTE $0x0F; BYTE $0x0D; BYTE $0x0E // PREFETCHW (SI)
	ADDQ $64, SI
	SUBQ $64, CX
	JG pfwl
	RET
