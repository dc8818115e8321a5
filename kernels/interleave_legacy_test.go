package kernels

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"ferry/dtype"
)

// q5Types are the legacy types with a layout in interleave_legacy.go.
var q5Types = []dtype.Type{dtype.Q5_0, dtype.Q4_1, dtype.Q5_1}

// TestInterleaveQ5Extreme checks the eight-row loops of the legacy types
// and their row loops against the portable kernels bit for bit on blocks
// whose quants are all at the ends of their range (or random), against
// activations whose quants are all at ±127 (or random): the largest sums
// of products the loops' 16-bit steps must hold.
func TestInterleaveQ5Extreme(t *testing.T) {
	const rows, nb = 32, 12
	cols := 32 * nb
	r := rand.New(rand.NewPCG(7, 8))
	for _, typ := range q5Types {
		bb := typ.BlockBytes()
		rb := nb * bb
		w := make([]byte, rows*rb)
		for b := 0; b < rows*nb; b++ {
			blk := w[b*bb : (b+1)*bb]
			for i := range blk {
				blk[i] = byte(r.Uint32())
			}
			// Every fourth block's quants all 0, 0xff, or the 0x55 or 0xaa
			// patterns (qh and nibbles alike), by row.
			if b%nb%4 == 0 {
				fill := []byte{0, 0xff, 0x55, 0xaa}[b/nb%4]
				for i := 2; i < bb; i++ {
					blk[i] = fill
				}
			}
			binary.LittleEndian.PutUint16(blk, F32ToF16(float32(r.NormFloat64()*0.05)))
			if typ != dtype.Q5_0 {
				binary.LittleEndian.PutUint16(blk[2:], F32ToF16(float32(r.NormFloat64())))
			}
		}
		x := make([]float32, cols)
		for i := range x {
			switch blk := i / 32; blk % 4 {
			case 0:
				x[i] = 1 // every quant 127
			case 1:
				x[i] = -1 // every quant -127
			case 2:
				x[i] = float32(1 - 2*(i/2%2)) // pairs of 127 and -127
			default:
				x[i] = float32(r.NormFloat64())
			}
		}
		t.Run(fmt.Sprint(typ), func(t *testing.T) {
			want := make([]float32, rows)
			xq := make([]byte, actBytes(portableAct[typ], cols))
			quantizeGo(portableAct[typ], xq, x)
			for i := range want {
				want[i] = portable[typ](w[i*rb:(i+1)*rb], xq)
			}
			got := make([]float32, rows)
			MatVec(got, w, typ, x)
			exact := !reordered[typ]
			for i := range got {
				if exact && got[i] != want[i] {
					t.Errorf("row loop, row %d: %v, portable %v", i, got[i], want[i])
				}
			}
			packed := append([]byte(nil), w...)
			pt := Pack(typ, packed, cols)
			if pt == typ {
				t.Skip("no interleaved layout for this CPU's kernels")
			}
			MatVec(got, packed, pt, x)
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%v loop, row %d: %v, portable %v", pt, i, got[i], want[i])
				}
			}
		})
	}
}
