package kernels

import "testing"

// TestPrefetchFarther checks that the Q6_K loops' wrapper doubles the
// prefetch distance it passes on and keeps its kind (the lowest bit,
// non-temporal) and "none" (0).
func TestPrefetchFarther(t *testing.T) {
	var got int
	loop := prefetchFarther(func(y *float32, w *byte, rb, rows int, xq *byte, nb, pf int) { got = pf })
	for _, c := range []struct{ in, want int }{
		{0, 0},
		{4 << 10, 8 << 10},
		{4<<10 | 1, 8<<10 | 1},
		{2<<10 | 1, 4<<10 | 1},
	} {
		loop(nil, nil, 0, 0, nil, 0, c.in)
		if got != c.want {
			t.Errorf("prefetchFarther passed %d for %d, want %d", got, c.in, c.want)
		}
	}
}
