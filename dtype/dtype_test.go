package dtype

import "testing"

func TestGeometry(t *testing.T) {
	cases := []struct {
		t            Type
		block, bytes int
	}{
		{F32, 1, 4}, {F16, 1, 2}, {BF16, 1, 2}, {Q8_0, 32, 34}, {Q4_0, 32, 18}, {Q4_1, 32, 20},
		{Q5_0, 32, 22}, {Q5_1, 32, 24}, {Q2_K, 256, 84}, {Q3_K, 256, 110}, {Q4_K, 256, 144},
		{Q5_K, 256, 176}, {Q6_K, 256, 210}, {Q8_K, 256, 292},
	}
	for _, c := range cases {
		if c.t.BlockSize() != c.block || c.t.BlockBytes() != c.bytes {
			t.Errorf("%v: block %d/%d bytes, want %d/%d", c.t, c.t.BlockSize(), c.t.BlockBytes(), c.block, c.bytes)
		}
		got, err := Parse(c.t.String())
		if err != nil || got != c.t {
			t.Errorf("Parse(%q) = %v, %v", c.t.String(), got, err)
		}
	}
}

func TestRowBytes(t *testing.T) {
	if n, err := Q4_K.RowBytes(512); err != nil || n != 288 {
		t.Fatalf("Q4_K 512 values: %d, %v", n, err)
	}
	if _, err := Q8_0.RowBytes(33); err == nil {
		t.Fatal("a partial block was accepted")
	}
	if _, err := Type(99).RowBytes(32); err == nil || Type(99).Known() {
		t.Fatal("an unknown type was accepted")
	}
	if _, err := Parse("q4_k"); err != nil {
		t.Fatal("Parse is not case-insensitive")
	}
	if _, err := Parse("Q7_K"); err == nil {
		t.Fatal("Parse accepted Q7_K")
	}
}
