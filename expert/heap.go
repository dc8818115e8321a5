package expert

// slotHeap is a min-heap of slots ordered by less, with each slot's index
// kept in pos (-1 when absent) so that a slot can be fixed or removed.
type slotHeap struct {
	a    []int32
	pos  []int32
	less func(a, b int32) bool
}

func newSlotHeap(n int, less func(a, b int32) bool) slotHeap {
	h := slotHeap{a: make([]int32, 0, n), pos: make([]int32, n), less: less}
	for i := range h.pos {
		h.pos[i] = -1
	}
	return h
}

func (h *slotHeap) swap(i, j int) {
	h.a[i], h.a[j] = h.a[j], h.a[i]
	h.pos[h.a[i]], h.pos[h.a[j]] = int32(i), int32(j)
}

func (h *slotHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.a[i], h.a[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *slotHeap) down(i int) bool {
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

func (h *slotHeap) push(s int32) {
	h.a = append(h.a, s)
	h.pos[s] = int32(len(h.a) - 1)
	h.up(len(h.a) - 1)
}

// pop removes and returns the least slot.
func (h *slotHeap) pop() int32 {
	s := h.a[0]
	h.remove(s)
	return s
}

func (h *slotHeap) remove(s int32) {
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

// fix restores the order after s's key changed.
func (h *slotHeap) fix(s int32) {
	if i := h.pos[s]; i >= 0 {
		h.fixAt(int(i))
	}
}

func (h *slotHeap) fixAt(i int) {
	if !h.down(i) {
		h.up(i)
	}
}
