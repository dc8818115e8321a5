#include "textflag.h"
#include "hsum_amd64.h"
#include "prefetch_amd64.h"

// The Q6_K row loop for CPUs with AVX-512 VNNI and GFNI.

// g6w0..g6w3: VPERMW indices spreading the 16 block scales (as words) over
// the 32 words of a register of products, 8 words (16 values) per scale.
// g6A and g6B: GF(2) affine matrices, per 64-bit lane, that move two bits of
// a qh byte to bits 4-5: g6A bits 0-1 in the low half of the register and
// bits 2-3 in the high half (the high bits of the low nibbles), g6B bits
// 4-5 and 6-7 (those of the high nibbles).
DATA g6w0<>+0(SB)/8, $0x0000000000000000
DATA g6w0<>+8(SB)/8, $0x0000000000000000
DATA g6w0<>+16(SB)/8, $0x0001000100010001
DATA g6w0<>+24(SB)/8, $0x0001000100010001
DATA g6w0<>+32(SB)/8, $0x0002000200020002
DATA g6w0<>+40(SB)/8, $0x0002000200020002
DATA g6w0<>+48(SB)/8, $0x0003000300030003
DATA g6w0<>+56(SB)/8, $0x0003000300030003
GLOBL g6w0<>(SB), RODATA|NOPTR, $64
DATA g6w1<>+0(SB)/8, $0x0004000400040004
DATA g6w1<>+8(SB)/8, $0x0004000400040004
DATA g6w1<>+16(SB)/8, $0x0005000500050005
DATA g6w1<>+24(SB)/8, $0x0005000500050005
DATA g6w1<>+32(SB)/8, $0x0006000600060006
DATA g6w1<>+40(SB)/8, $0x0006000600060006
DATA g6w1<>+48(SB)/8, $0x0007000700070007
DATA g6w1<>+56(SB)/8, $0x0007000700070007
GLOBL g6w1<>(SB), RODATA|NOPTR, $64
DATA g6w2<>+0(SB)/8, $0x0008000800080008
DATA g6w2<>+8(SB)/8, $0x0008000800080008
DATA g6w2<>+16(SB)/8, $0x0009000900090009
DATA g6w2<>+24(SB)/8, $0x0009000900090009
DATA g6w2<>+32(SB)/8, $0x000a000a000a000a
DATA g6w2<>+40(SB)/8, $0x000a000a000a000a
DATA g6w2<>+48(SB)/8, $0x000b000b000b000b
DATA g6w2<>+56(SB)/8, $0x000b000b000b000b
GLOBL g6w2<>(SB), RODATA|NOPTR, $64
DATA g6w3<>+0(SB)/8, $0x000c000c000c000c
DATA g6w3<>+8(SB)/8, $0x000c000c000c000c
DATA g6w3<>+16(SB)/8, $0x000d000d000d000d
DATA g6w3<>+24(SB)/8, $0x000d000d000d000d
DATA g6w3<>+32(SB)/8, $0x000e000e000e000e
DATA g6w3<>+40(SB)/8, $0x000e000e000e000e
DATA g6w3<>+48(SB)/8, $0x000f000f000f000f
DATA g6w3<>+56(SB)/8, $0x000f000f000f000f
GLOBL g6w3<>(SB), RODATA|NOPTR, $64
DATA g6A<>+0(SB)/8, $0x0000000001020000
DATA g6A<>+8(SB)/8, $0x0000000001020000
DATA g6A<>+16(SB)/8, $0x0000000001020000
DATA g6A<>+24(SB)/8, $0x0000000001020000
DATA g6A<>+32(SB)/8, $0x0000000004080000
DATA g6A<>+40(SB)/8, $0x0000000004080000
DATA g6A<>+48(SB)/8, $0x0000000004080000
DATA g6A<>+56(SB)/8, $0x0000000004080000
GLOBL g6A<>(SB), RODATA|NOPTR, $64
DATA g6B<>+0(SB)/8, $0x0000000010200000
DATA g6B<>+8(SB)/8, $0x0000000010200000
DATA g6B<>+16(SB)/8, $0x0000000010200000
DATA g6B<>+24(SB)/8, $0x0000000010200000
DATA g6B<>+32(SB)/8, $0x0000000040800000
DATA g6B<>+40(SB)/8, $0x0000000040800000
DATA g6B<>+48(SB)/8, $0x0000000040800000
DATA g6B<>+56(SB)/8, $0x0000000040800000
GLOBL g6B<>(SB), RODATA|NOPTR, $64
DATA g6Nib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL g6Nib<>(SB), RODATA|NOPTR, $8

// Q6KGHALF does one half block (128 values): ql at off(R10), qh at
// qhoff(R10), activations at aoff(R11), scale indices ia/ib. Byte l of ql
// holds values l (low nibble) and l+64 (high); byte l of qh the high bits
// of values l, l+32, l+64, l+96. Broadcast to both halves of a register,
// one affine transform puts the high bits of values 0-63 in place, another
// those of values 64-127.
#define Q6KGHALF(off, qhoff, aoff, ia, ib) \
	VMOVDQU64 off(R10), Z17; \
	VBROADCASTI64X4 qhoff(R10), Z18; \
	VGF2P8AFFINEQB $0, Z30, Z18, Z19; \
	VGF2P8AFFINEQB $0, Z31, Z18, Z18; \
	VPTERNLOGD $0xf8, Z28, Z17, Z19; \
	VPSRLW $4, Z17, Z17; \
	VPTERNLOGD $0xf8, Z28, Z17, Z18; \
	VPMADDUBSW aoff(R11), Z19, Z19; \
	VPMADDUBSW aoff+64(R11), Z18, Z18; \
	VPERMW Z6, ia, Z20; \
	VPERMW Z6, ib, Z21; \
	VPDPWSSD Z20, Z19, Z16; \
	VPDPWSSD Z21, Z18, Z22

// func vecQ6_KGFNI(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int)
// vecQ6_KAVX512 with the 6-bit quants rebuilt by GF(2) affine transforms
// (five instructions per 128 values instead of eight). Per block: the
// quants, in [0, 64), go unsigned through VPMADDUBSW, then VPDPWSSD with
// the 16 scales; 32 times the scaled activation sums (bsums) corrects for
// the missing -32. The block's integer sums are exact; they are scaled by
// d*dx into sixteen float lanes, reduced at the row's end, so the result
// equals the portable kernel's (and llama.cpp's) within float rounding,
// not bit for bit as vecQ6_KAVX512's scalar steps do, for a quarter more
// speed from cache (prefill). pf is the prefetch distance in bytes
// (its lowest bit for non-temporal: see rowLoopPF).
TEXT ·vecQ6_KGFNI(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ pf+48(FP), DX
	MOVQ w+8(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ xq+32(FP), R13
	VPBROADCASTQ g6Nib<>(SB), Z28
	VMOVDQU64 g6A<>(SB), Z30
	VMOVDQU64 g6B<>(SB), Z31
	VMOVDQU64 g6w0<>(SB), Z24
	VMOVDQU64 g6w1<>(SB), Z25
	VMOVDQU64 g6w2<>(SB), Z26
	VMOVDQU64 g6w3<>(SB), Z27
g6row:
	MOVQ SI, R10
	MOVQ R13, R11
	MOVQ nb+40(FP), R12
	VPXORD Z0, Z0, Z0
g6block:
	PFLINES4(DX)
	// Scales as words; Z22 starts at -32*sum(sc*bsum) (low 8 lanes).
	VPMOVSXBW 192(R10), Y6
	VPMADDWD 260(R11), Y6, Y7
	VPSLLD $5, Y7, Y7
	VPXORD Z22, Z22, Z22
	VPSUBD Z7, Z22, Z22
	VPXORD Z16, Z16, Z16
	Q6KGHALF(0, 128, 4, Z24, Z25)
	Q6KGHALF(64, 160, 132, Z26, Z27)
	// The block's integer sums times d*d_x, into sixteen float lanes.
	VPADDD Z22, Z16, Z16
	VCVTDQ2PS Z16, Z16
	VPBROADCASTW 208(R10), Y8
	VCVTPH2PS Y8, Z8
	VMULPS.BCST (R11), Z8, Z8
	VFMADD231PS Z8, Z16, Z0
	ADDQ $210, R10
	ADDQ $292, R11
	DECQ R12
	JNZ g6block
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y0, Y1, Y1
	HSUM8(Y1, X1, X2)
	VMOVSS X1, (DI)
	ADDQ $4, DI
	ADDQ rb+16(FP), SI
	DECQ R9
	JNZ g6row
	VZEROUPPER
	RET
