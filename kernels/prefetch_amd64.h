// The weight prefetch of the streaming row loops (included by the .s files
// of this package). PFLINESn(reg) asks for the n lines at (R10)+reg, 64
// bytes apart, with PREFETCHNTA when reg's lowest bit is set and PREFETCHT0
// when not, and for none when reg is 0 (the loops' prefetch setting: see
// rowLoopPF and tune.go); the branches are the same every step, so they
// are predicted. The byte the set bit adds to the address is in the same
// line. PFLINESnAT(o, base, reg) asks for the n lines at o(base)+reg.
// Clobbers the flags.

#define PFLINES1(reg) \
	TESTQ reg, reg; \
	JZ 6(PC); \
	BTQ $0, reg; \
	JC 3(PC); \
	PREFETCHT0 0(R10)(reg*1); \
	JMP 2(PC); \
	PREFETCHNTA 0(R10)(reg*1)

#define PFLINES2AT(o, base, reg) \
	TESTQ reg, reg; \
	JZ 8(PC); \
	BTQ $0, reg; \
	JC 4(PC); \
	PREFETCHT0 o+0(base)(reg*1); \
	PREFETCHT0 o+64(base)(reg*1); \
	JMP 3(PC); \
	PREFETCHNTA o+0(base)(reg*1); \
	PREFETCHNTA o+64(base)(reg*1)

#define PFLINES2(reg) PFLINES2AT(0, R10, reg)

#define PFLINES3AT(o, base, reg) \
	TESTQ reg, reg; \
	JZ 10(PC); \
	BTQ $0, reg; \
	JC 5(PC); \
	PREFETCHT0 o+0(base)(reg*1); \
	PREFETCHT0 o+64(base)(reg*1); \
	PREFETCHT0 o+128(base)(reg*1); \
	JMP 4(PC); \
	PREFETCHNTA o+0(base)(reg*1); \
	PREFETCHNTA o+64(base)(reg*1); \
	PREFETCHNTA o+128(base)(reg*1)

#define PFLINES3(reg) PFLINES3AT(0, R10, reg)

#define PFLINES4AT(o, base, reg) \
	TESTQ reg, reg; \
	JZ 12(PC); \
	BTQ $0, reg; \
	JC 6(PC); \
	PREFETCHT0 o+0(base)(reg*1); \
	PREFETCHT0 o+64(base)(reg*1); \
	PREFETCHT0 o+128(base)(reg*1); \
	PREFETCHT0 o+192(base)(reg*1); \
	JMP 5(PC); \
	PREFETCHNTA o+0(base)(reg*1); \
	PREFETCHNTA o+64(base)(reg*1); \
	PREFETCHNTA o+128(base)(reg*1); \
	PREFETCHNTA o+192(base)(reg*1)

#define PFLINES4(reg) PFLINES4AT(0, R10, reg)

#define PFLINES5(reg) \
	TESTQ reg, reg; \
	JZ 14(PC); \
	BTQ $0, reg; \
	JC 7(PC); \
	PREFETCHT0 0(R10)(reg*1); \
	PREFETCHT0 64(R10)(reg*1); \
	PREFETCHT0 128(R10)(reg*1); \
	PREFETCHT0 192(R10)(reg*1); \
	PREFETCHT0 256(R10)(reg*1); \
	JMP 6(PC); \
	PREFETCHNTA 0(R10)(reg*1); \
	PREFETCHNTA 64(R10)(reg*1); \
	PREFETCHNTA 128(R10)(reg*1); \
	PREFETCHNTA 192(R10)(reg*1); \
	PREFETCHNTA 256(R10)(reg*1)

#define PFLINES9(reg) \
	TESTQ reg, reg; \
	JZ 22(PC); \
	BTQ $0, reg; \
	JC 11(PC); \
	PREFETCHT0 0(R10)(reg*1); \
	PREFETCHT0 64(R10)(reg*1); \
	PREFETCHT0 128(R10)(reg*1); \
	PREFETCHT0 192(R10)(reg*1); \
	PREFETCHT0 256(R10)(reg*1); \
	PREFETCHT0 320(R10)(reg*1); \
	PREFETCHT0 384(R10)(reg*1); \
	PREFETCHT0 448(R10)(reg*1); \
	PREFETCHT0 512(R10)(reg*1); \
	JMP 10(PC); \
	PREFETCHNTA 0(R10)(reg*1); \
	PREFETCHNTA 64(R10)(reg*1); \
	PREFETCHNTA 128(R10)(reg*1); \
	PREFETCHNTA 192(R10)(reg*1); \
	PREFETCHNTA 256(R10)(reg*1); \
	PREFETCHNTA 320(R10)(reg*1); \
	PREFETCHNTA 384(R10)(reg*1); \
	PREFETCHNTA 448(R10)(reg*1); \
	PREFETCHNTA 512(R10)(reg*1)

// PFAT4(off, reg) is PFLINES4(reg) for the lines at off(R10)+reg.
#define PFAT4(off, reg) \
	TESTQ reg, reg; \
	JZ 12(PC); \
	BTQ $0, reg; \
	JC 6(PC); \
	PREFETCHT0 off(R10)(reg*1); \
	PREFETCHT0 off+64(R10)(reg*1); \
	PREFETCHT0 off+128(R10)(reg*1); \
	PREFETCHT0 off+192(R10)(reg*1); \
	JMP 5(PC); \
	PREFETCHNTA off(R10)(reg*1); \
	PREFETCHNTA off+64(R10)(reg*1); \
	PREFETCHNTA off+128(R10)(reg*1); \
	PREFETCHNTA off+192(R10)(reg*1)
