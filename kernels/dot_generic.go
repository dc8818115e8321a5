package kernels

import (
	"encoding/binary"
	"math"
)

// Portable fused dot products, one per type. Each walks the row block by
// block, decodes the block's quantized values inline and accumulates them
// against x without materialising the decoded block; scales are applied once
// per (sub-)block. row holds exactly the row's bytes and len(x) is a whole
// number of blocks. See dequant.go for the layouts.
//
// The quantized types are split into a row loop (dotQ*) and a per-block
// kernel (blockQ*) taking array pointers: the small per-block function keeps
// register pressure low (the Go compiler spills heavily when the row loop
// and the block decode share one function) and needs no bounds checks.

func dotF32(row []byte, x []float32) float32 {
	row = row[:4*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		w := row[4*i : 4*i+16]
		xs := x[i : i+4]
		s0 += math.Float32frombits(binary.LittleEndian.Uint32(w[0:])) * xs[0]
		s1 += math.Float32frombits(binary.LittleEndian.Uint32(w[4:])) * xs[1]
		s2 += math.Float32frombits(binary.LittleEndian.Uint32(w[8:])) * xs[2]
		s3 += math.Float32frombits(binary.LittleEndian.Uint32(w[12:])) * xs[3]
	}
	for ; i < len(x); i++ {
		s0 += math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:])) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotF16(row []byte, x []float32) float32 {
	row = row[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		w := row[2*i : 2*i+8]
		xs := x[i : i+4]
		s0 += f16Table[binary.LittleEndian.Uint16(w[0:])] * xs[0]
		s1 += f16Table[binary.LittleEndian.Uint16(w[2:])] * xs[1]
		s2 += f16Table[binary.LittleEndian.Uint16(w[4:])] * xs[2]
		s3 += f16Table[binary.LittleEndian.Uint16(w[6:])] * xs[3]
	}
	for ; i < len(x); i++ {
		s0 += f16Table[binary.LittleEndian.Uint16(row[2*i:])] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotBF16(row []byte, x []float32) float32 {
	row = row[:2*len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		w := row[2*i : 2*i+8]
		xs := x[i : i+4]
		s0 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[0:]))<<16) * xs[0]
		s1 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[2:]))<<16) * xs[1]
		s2 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[4:]))<<16) * xs[2]
		s3 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[6:]))<<16) * xs[3]
	}
	for ; i < len(x); i++ {
		s0 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(row[2*i:]))<<16) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotQ8_K(row []byte, x []float32) float32 {
	var sum float32
	for i := 0; i < len(x)/256; i++ {
		sum += blockQ8_K((*[292]byte)(row[292*i:]), (*[256]float32)(x[256*i:]))
	}
	return sum
}

func blockQ8_K(b *[292]byte, xs *[256]float32) float32 {
	var s0, s1, s2, s3 float32
	for j := 0; j < 256; j += 4 {
		s0 += float32(int8(b[4+j])) * xs[j]
		s1 += float32(int8(b[5+j])) * xs[j+1]
		s2 += float32(int8(b[6+j])) * xs[j+2]
		s3 += float32(int8(b[7+j])) * xs[j+3]
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b[0:])) * ((s0 + s1) + (s2 + s3))
}
