// Package iheap is an indexed binary min-heap of small integers (slots,
// keys): each element's position is tracked, so an element whose priority
// changed can be fixed in place or removed. The expert cache and the trace
// analyzer's policy replays share it.
package iheap

// Heap is a min-heap of the integers [0, n) ordered by less, with each
// element's index kept (-1 when absent) so that it can be fixed or removed.
type Heap struct {
	a    []int32
	pos  []int32
	less func(a, b int32) bool
}

// New returns an empty heap for the elements [0, n).
func New(n int, less func(a, b int32) bool) Heap {
	h := Heap{a: make([]int32, 0, n), pos: make([]int32, n), less: less}
	for i := range h.pos {
		h.pos[i] = -1
	}
	return h
}

// Len returns the number of elements in the heap.
func (h *Heap) Len() int { return len(h.a) }

// Min returns the least element without removing it; the heap must not be empty.
func (h *Heap) Min() int32 { return h.a[0] }

// Contains reports whether s is in the heap.
func (h *Heap) Contains(s int32) bool { return h.pos[s] >= 0 }

func (h *Heap) swap(i, j int) {
	h.a[i], h.a[j] = h.a[j], h.a[i]
	h.pos[h.a[i]], h.pos[h.a[j]] = int32(i), int32(j)
}

func (h *Heap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.a[i], h.a[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *Heap) down(i int) bool {
	i0 := i
	for {
		l := 2*i + 1
		if l >= len(h.a) {
			break
		}
		j := l
		if r := l + 1; r < len(h.a) && h.less(h.a[r], h.a[l]) {
			j = r
		}
		if !h.less(h.a[j], h.a[i]) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// Push adds s.
func (h *Heap) Push(s int32) {
	h.a = append(h.a, s)
	h.pos[s] = int32(len(h.a) - 1)
	h.up(len(h.a) - 1)
}

// Pop removes and returns the least element.
func (h *Heap) Pop() int32 {
	s := h.a[0]
	h.Remove(s)
	return s
}

// Remove takes s out of the heap; absent elements are ignored.
func (h *Heap) Remove(s int32) {
	i := int(h.pos[s])
	if i < 0 {
		return
	}
	n := len(h.a) - 1
	if i != n {
		h.swap(i, n)
	}
	h.a = h.a[:n]
	h.pos[s] = -1
	if i != n {
		h.fixAt(i)
	}
}

// Fix restores the order after s's priority changed; absent elements are ignored.
func (h *Heap) Fix(s int32) {
	if i := h.pos[s]; i >= 0 {
		h.fixAt(int(i))
	}
}

func (h *Heap) fixAt(i int) {
	if !h.down(i) {
		h.up(i)
	}
}
