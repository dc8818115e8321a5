package iheap

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHeapOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	prio := make([]int, 64)
	for i := range prio {
		prio[i] = r.IntN(1000)
	}
	h := New(len(prio), func(a, b int32) bool { return prio[a] < prio[b] || prio[a] == prio[b] && a < b })
	for i := range prio {
		h.Push(int32(i))
	}
	// Change some priorities, remove some elements.
	for i := 0; i < 16; i++ {
		s := int32(r.IntN(64))
		prio[s] = r.IntN(1000)
		h.Fix(s)
	}
	removed := map[int32]bool{}
	for i := 0; i < 10; i++ {
		s := int32(r.IntN(64))
		h.Remove(s)
		removed[s] = true
		if h.Contains(s) {
			t.Fatalf("%d still present", s)
		}
	}
	var got []int
	for h.Len() > 0 {
		got = append(got, prio[h.Pop()])
	}
	if !slices.IsSorted(got) || len(got) != 64-len(removed) {
		t.Fatalf("popped %v (%d removed)", got, len(removed))
	}
}
