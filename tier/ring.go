package tier

// ring is a first-in first-out allocator over one fixed buffer: the staging
// area for streamed spans. Allocations are released in the order they were
// made, so the space never fragments and never grows (MemAscend's argument
// for a fixed staging pool).
type ring struct {
	buf  []byte
	head int      // where the next allocation goes when there is room
	live []region // live allocations, oldest first
}

type region struct{ start, n int }

// alloc returns n bytes, or false when the ring has no room until older
// allocations are freed.
func (r *ring) alloc(n int) ([]byte, bool) {
	start := -1
	if len(r.live) == 0 {
		r.head = 0
		if n <= len(r.buf) {
			start = 0
		}
	} else {
		tail := r.live[0].start
		if r.head > tail { // free space is [head, end) and [0, tail)
			if len(r.buf)-r.head >= n {
				start = r.head
			} else if tail >= n {
				start = 0
			}
		} else if tail-r.head >= n { // wrapped: free space is [head, tail)
			start = r.head
		}
	}
	if start < 0 {
		return nil, false
	}
	r.live = append(r.live, region{start, n})
	r.head = start + n
	return r.buf[start : start+n : start+n], true
}

// free releases the oldest live allocation.
func (r *ring) free() {
	copy(r.live, r.live[1:])
	r.live = r.live[:len(r.live)-1]
}
