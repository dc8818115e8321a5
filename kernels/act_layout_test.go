package kernels

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestActLayouts checks the reordered activation forms (actQ8_0P,
// actQ8_0X, actQ8_KP) against their definitions, built field by field
// from the plain blocks of the same quantizer, for lengths with odd
// blocks and partial groups.
func TestActLayouts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{96, 256, 512, 768, 1024, 1280, 2080, 5632} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		x[3] = 0 // and a block of zeros
		if n > 512 {
			clear(x[256:512])
		}
		// actQ8_0P: pairs of Q8_0 blocks.
		plain := make([]byte, actBytes(actQ8_0, n))
		prepare(actQ8_0, plain, x)
		want := make([]byte, actBytes(actQ8_0P, n))
		nb := n / 32
		for b := 0; b < nb; b++ {
			blk := plain[q8Block*b:]
			out := want[q8PairBytes*(b/2):]
			h := b % 2
			copy(out[32*h:32*h+32], blk[8:40])
			var sum int32
			for _, v := range blk[8:40] {
				sum += int32(int8(v))
			}
			binary.LittleEndian.PutUint32(out[64+32*h:], uint32(-128*sum))
			for l := 0; l < 8; l++ {
				copy(out[128+32*h+4*l:], blk[0:4])
			}
		}
		got := make([]byte, len(want))
		for i := range got {
			got[i] = 0xee // the form must write every byte
		}
		prepare(actQ8_0P, got, x)
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: actQ8_0P differs from its definition", n)
		}

		// actQ8_0X: the same fields, block by block.
		wantX := make([]byte, actBytes(actQ8_0X, n))
		for b := 0; b < nb; b++ {
			blk, out := plain[q8Block*b:], wantX[q8Block*b:]
			copy(out[0:32], blk[8:40])
			var sum int32
			for _, v := range blk[8:40] {
				sum += int32(int8(v))
			}
			binary.LittleEndian.PutUint32(out[32:], uint32(-128*sum))
			copy(out[36:40], blk[0:4])
		}
		gotX := make([]byte, len(wantX))
		for i := range gotX {
			gotX[i] = 0xee
		}
		prepare(actQ8_0X, gotX, x)
		if !bytes.Equal(gotX, wantX) {
			t.Fatalf("n=%d: actQ8_0X differs from its definition", n)
		}
		quantizeGo(actQ8_0X, gotX, x)
		if !bytes.Equal(gotX, wantX) {
			t.Fatalf("n=%d: actQ8_0X through the portable quantizer differs from its definition", n)
		}

		// actQ8_0B: each four quants of a step broadcast eight times,
		// then the sum's correction, d and s.
		wantB0 := make([]byte, actBytes(actQ8_0B, n))
		for b := 0; b < nb; b++ {
			blk, out := plain[q8Block*b:], wantB0[q8BBlock*b:]
			for t := 0; t < 4; t++ {
				for r := 0; r < 8; r++ {
					copy(out[64*t+4*r:][:4], blk[8+4*t:])
					copy(out[64*t+32+4*r:][:4], blk[24+4*t:])
				}
			}
			copy(out[256:260], wantX[q8Block*b+32:])
			copy(out[260:268], blk[0:8])
		}
		for _, quant := range []func(actKind, []byte, []float32){prepare, quantizeGo} {
			gotB0 := make([]byte, len(wantB0))
			for i := range gotB0 {
				gotB0[i] = 0xee
			}
			quant(actQ8_0B, gotB0, x)
			if !bytes.Equal(gotB0, wantB0) {
				t.Fatalf("n=%d: actQ8_0B differs from its definition", n)
			}
		}

		// actQ8_KP: Q8_K blocks reordered.
		plain = make([]byte, actBytes(actQ8_K, n))
		prepare(actQ8_K, plain, x)
		nb = n / 256
		wantP := make([]byte, actBytes(actQ8_KP, n))
		for b := 0; b < nb; b++ {
			blk := plain[q8KBlock*b:]
			p := wantP[q8KPBlock*b:]
			for i, sb := range []int{0, 2, 1, 3, 4, 6, 5, 7} {
				copy(p[32*i:32*i+32], blk[4+32*sb:])
			}
			for j := 0; j < 8; j++ {
				s := int16(binary.LittleEndian.Uint16(blk[260+4*j:])) + int16(binary.LittleEndian.Uint16(blk[262+4*j:]))
				binary.LittleEndian.PutUint16(p[256+2*j:], uint16(s))
			}
			copy(p[272:276], blk[0:4])
		}
		// actQ8_KB: actQ8_K's quants four at a time, each four eight
		// times, sub-blocks by pairs; the sub-blocks' sums and d as
		// actQ8_KP has them, then actQ8_K's sums of 16.
		wantB := make([]byte, actBytes(actQ8_KB, n))
		for b := 0; b < nb; b++ {
			blk, p, o := plain[q8KBlock*b:], wantP[q8KPBlock*b:], wantB[q8KBBlock*b:]
			for sb := 0; sb < 8; sb++ {
				for t := 0; t < 8; t++ {
					for r := 0; r < 8; r++ {
						copy(o[512*(sb/2)+64*t+32*(sb%2)+4*r:][:4], blk[4+32*sb+4*t:])
					}
				}
			}
			copy(o[2048:2068], p[256:276])
			copy(o[2080:2112], blk[260:292])
		}
		for _, c := range []struct {
			a    actKind
			want []byte
		}{{actQ8_KP, wantP}, {actQ8_KB, wantB}} {
			got := make([]byte, len(c.want))
			for i := range got {
				got[i] = 0xee
			}
			prepare(c.a, got, x)
			if !bytes.Equal(got, c.want) {
				t.Fatalf("n=%d: form %d differs from its definition", n, c.a)
			}
			quantizeGo(c.a, got, x)
			if !bytes.Equal(got, c.want) {
				t.Fatalf("n=%d: form %d through the portable code differs from its definition", n, c.a)
			}
		}
	}
}

func TestSumInt8x32(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 1000; trial++ {
		var b [32]byte
		var want int32
		for i := range b {
			switch trial {
			case 0:
				b[i] = 0x80 // all -128
			case 1:
				b[i] = 0x7f // all 127
			default:
				b[i] = byte(r.IntN(256))
			}
			want += int32(int8(b[i]))
		}
		if got := sumInt8x32(&b); got != want {
			t.Fatalf("sum of %v = %d, want %d", b, got, want)
		}
	}
}
