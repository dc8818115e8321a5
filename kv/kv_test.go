package kv

import (
	"testing"

	"ferry/kernels"
)

func TestStoreAndRead(t *testing.T) {
	c := New(2, 4, 3)
	c.Store(1, 2, []float32{1, 2, 3, 4, 5, 6.001}, []float32{7, 8, 9, 10, 11, 12})
	if err := c.SetLen(4); err != nil {
		t.Fatal(err)
	}
	k, v := c.Keys(1, 4), c.Values(1, 4)
	f := kernels.F16ToF32
	if f(k[6]) != 1 || f(k[11]) != 6 || f(v[9]) != 10 || k[0] != 0 {
		t.Fatalf("keys %v values %v", k, v)
	}
	if c.Keys(0, 4)[6] != 0 {
		t.Fatal("layer 0 written")
	}
	if err := c.SetLen(5); err == nil {
		t.Fatal("length past the context accepted")
	}
	if Bytes(2, 4, 3) != 2*4*3*2*2 {
		t.Fatalf("Bytes = %d", Bytes(2, 4, 3))
	}
}
