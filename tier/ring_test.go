package tier

import "testing"

// TestRingFIFO allocates and frees in FIFO order with varied sizes and checks
// that live allocations never overlap and that space is reused.
func TestRingFIFO(t *testing.T) {
	r := &ring{buf: make([]byte, 100)}
	type live struct{ lo, hi int }
	var q []live
	sizes := []int{30, 40, 20, 50, 10, 60, 25, 35, 45, 5, 100, 1}
	allocs := 0
	for step := 0; step < 200; step++ {
		n := sizes[step%len(sizes)]
		b, ok := r.alloc(n)
		if !ok {
			if len(q) == 0 {
				t.Fatalf("empty ring refused %d bytes", n)
			}
			r.free()
			q = q[1:]
			continue
		}
		allocs++
		off := 0
		for i := range r.buf {
			if &r.buf[i] == &b[0] {
				off = i
				break
			}
		}
		cur := live{off, off + n}
		for _, o := range q {
			if cur.lo < o.hi && o.lo < cur.hi {
				t.Fatalf("step %d: [%d,%d) overlaps live [%d,%d)", step, cur.lo, cur.hi, o.lo, o.hi)
			}
		}
		q = append(q, cur)
	}
	if allocs < 50 {
		t.Fatalf("only %d allocations succeeded", allocs)
	}
}
