// Constants shared by the .s files of this package that include this
// header (each gets its own copy of these file-local symbols).

// lanes8<>: the 32 bytes at lanes8<>+32-4k have their first k dwords set
// (k = 0 to 8), the mask of a vector's first k lanes.
DATA lanes8<>+0(SB)/8, $-1
DATA lanes8<>+8(SB)/8, $-1
DATA lanes8<>+16(SB)/8, $-1
DATA lanes8<>+24(SB)/8, $-1
DATA lanes8<>+32(SB)/8, $0
DATA lanes8<>+40(SB)/8, $0
DATA lanes8<>+48(SB)/8, $0
DATA lanes8<>+56(SB)/8, $0
GLOBL lanes8<>(SB), RODATA|NOPTR, $64

// negInf<>: float32 -Inf.
DATA negInf<>+0(SB)/4, $0xff800000
GLOBL negInf<>(SB), RODATA|NOPTR, $4
