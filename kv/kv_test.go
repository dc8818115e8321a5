package kv

import (
	"testing"

	"ferry/kernels"
)

func TestStoreAndRead(t *testing.T) {
	c := New(2, 20, 3)
	c.Store(1, 2, []float32{1, 2, 3, 4, 5, 6.001}, []float32{7, 8, 9, 10, 11, 12})
	// A batch that crosses a key block.
	c.Store(1, 15, []float32{13, 14, 15, 16, 17, 18}, []float32{19, 20, 21, 22, 23, 24})
	if err := c.SetLen(17); err != nil {
		t.Fatal(err)
	}
	v := c.Values(1, 17)
	f := kernels.F16ToF32
	if f(c.Key(1, 2, 0)) != 1 || f(c.Key(1, 3, 2)) != 6 || f(v[9]) != 10 || c.Key(1, 0, 0) != 0 {
		t.Fatalf("keys at 2, 3: %v %v, values %v", c.Key(1, 2, 0), c.Key(1, 3, 2), v)
	}
	if f(c.Key(1, 15, 1)) != 14 || f(c.Key(1, 16, 2)) != 18 || f(v[16*3]) != 22 {
		t.Fatalf("keys across a block: %v %v", f(c.Key(1, 15, 1)), f(c.Key(1, 16, 2)))
	}
	// The blocked layout: channel 1 of position 16 is in block 1.
	if got := c.KeyBlocks(1)[(1*3+1)*Block+0]; f(got) != 17 {
		t.Fatalf("KeyBlocks layout: %v", f(got))
	}
	if c.Key(0, 2, 0) != 0 {
		t.Fatal("layer 0 written")
	}
	if err := c.SetLen(21); err == nil {
		t.Fatal("length past the context accepted")
	}
	// Keys round the context up to whole blocks: 32 positions, values 20.
	if Bytes(2, 20, 3) != 2*(32+20)*3*2 {
		t.Fatalf("Bytes = %d", Bytes(2, 20, 3))
	}
}
