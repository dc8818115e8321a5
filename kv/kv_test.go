package kv

import (
	"testing"

	"ferry/kernels"
)

func TestStoreAndRead(t *testing.T) {
	// Three heads of two channels.
	c := New(2, 20, 3, 2)
	k := []float32{1, 2, 3, 4, 5, 6.001, 7, 8, 9, 10, 11, 12}
	v := []float32{101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112}
	c.Store(1, 2, k, v) // positions 2 and 3
	// A batch that crosses a key block.
	c.Store(1, 15, []float32{13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}, v)
	if err := c.SetLen(17); err != nil {
		t.Fatal(err)
	}
	f := kernels.F16ToF32
	for i, want := range k {
		pos, ch := 2+i/6, i%6
		if got := f(c.Key(1, pos, ch)); got != float32(kernels.F16ToF32(kernels.F32ToF16(want))) {
			t.Fatalf("key at position %d channel %d: %v, want %v", pos, ch, got, want)
		}
		if got := f(c.Value(1, pos, ch)); got != v[i] {
			t.Fatalf("value at position %d channel %d: %v, want %v", pos, ch, got, v[i])
		}
	}
	if f(c.Key(1, 15, 1)) != 14 || f(c.Key(1, 16, 2)) != 21 || c.Key(1, 0, 0) != 0 {
		t.Fatalf("keys across a block: %v %v", f(c.Key(1, 15, 1)), f(c.Key(1, 16, 2)))
	}
	// The layout: head 1's channel 0 of position 16 is in its block 1, and
	// its values are one position after another.
	if got := c.HeadKeys(1, 1, 17); len(got) != 2*Block*2 || f(got[(1*2+0)*Block+0]) != 21 {
		t.Fatalf("HeadKeys: %d halves, head 1 channel 0 at 16: %v", len(got), f(got[(1*2+0)*Block]))
	}
	if got := c.HeadValues(1, 2, 4); len(got) != 8 || f(got[2*2+1]) != 106 || f(got[3*2]) != 111 {
		t.Fatalf("HeadValues: %v", got)
	}
	if c.Key(0, 2, 0) != 0 || c.Value(0, 2, 0) != 0 {
		t.Fatal("layer 0 written")
	}
	if err := c.SetLen(21); err == nil {
		t.Fatal("length past the context accepted")
	}
	// Keys round the context up to whole blocks: 32 positions, values 20.
	if Bytes(2, 20, 6) != 2*(32+20)*6*2 {
		t.Fatalf("Bytes = %d", Bytes(2, 20, 6))
	}
}

// TestStoreHead checks that storing head by head, in any order, writes
// what Store writes.
func TestStoreHead(t *testing.T) {
	a, b := New(1, 40, 4, 16), New(1, 40, 4, 16)
	k, v := make([]float32, 64), make([]float32, 64)
	for pos := 0; pos < 40; pos++ {
		for i := range k {
			k[i], v[i] = float32(pos*64+i)/7, -float32(pos*64+i)/3
		}
		a.Store(0, pos, k, v)
		for _, h := range []int{2, 0, 3, 1} {
			b.StoreHead(0, pos, h, k[h*16:(h+1)*16], v[h*16:(h+1)*16])
		}
	}
	for pos := 0; pos < 40; pos++ {
		for ch := 0; ch < 64; ch++ {
			if a.Key(0, pos, ch) != b.Key(0, pos, ch) || a.Value(0, pos, ch) != b.Value(0, pos, ch) {
				t.Fatalf("position %d channel %d differs", pos, ch)
			}
		}
	}
}

// TestRuns checks KeyRuns and ValueRuns against HeadKeys and HeadValues.
func TestRuns(t *testing.T) {
	c := New(2, 40, 4, 8)
	for pos := 0; pos < 40; pos++ {
		k, v := make([]float32, 32), make([]float32, 32)
		for i := range k {
			k[i], v[i] = float32(pos*32+i), -float32(pos*32+i)
		}
		c.Store(1, pos, k, v)
	}
	keys, kw, ks := c.KeyRuns(1, 1, 3, 21)
	values, vw, vs := c.ValueRuns(1, 1, 3, 21)
	for h := 1; h < 3; h++ {
		hk, hv := c.HeadKeys(1, h, 21), c.HeadValues(1, h, 21)
		if len(hk) != kw || len(hv) != vw {
			t.Fatalf("head %d: runs of %d and %d halves, heads hold %d and %d", h, kw, vw, len(hk), len(hv))
		}
		for i := range hk {
			if keys[(h-1)*ks+i] != hk[i] {
				t.Fatalf("head %d key %d differs", h, i)
			}
		}
		for i := range hv {
			if values[(h-1)*vs+i] != hv[i] {
				t.Fatalf("head %d value %d differs", h, i)
			}
		}
	}
	if len(keys) != ks+kw || len(values) != vs+vw {
		t.Fatalf("runs of %d keys and %d values", len(keys), len(values))
	}
}
