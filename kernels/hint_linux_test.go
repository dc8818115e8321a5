package kernels

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"ferry/dtype"
)

// TestStaleHint hands an idle worker a hint of memory that has been
// unmapped since (a model closed with a hint pending): the worker's loads
// fault, and it must drop the hint and go on serving products.
func TestStaleHint(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two threads")
	}
	m, err := syscall.Mmap(-1, 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Skip(err)
	}
	h := packHint(&m[0], 1<<20)
	if err := syscall.Munmap(m); err != nil {
		t.Fatal(err)
	}
	ensureWorkers(1)
	for deadline := time.Now().Add(5 * time.Second); slots[0].state.Load() != slotIdle; {
		if time.Now().After(deadline) {
			t.Skip("the worker never came free")
		}
		runtime.Gosched()
	}
	slots[0].pf.Store(h)
	for deadline := time.Now().Add(5 * time.Second); slots[0].pf.Load() != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not take the hint")
		}
		runtime.Gosched()
	}
	// The worker survived: a product it helps with still comes out right.
	const rows, cols = 512, 1024
	w := make([]byte, rows*cols*4)
	for i := 3; i < len(w); i += 4 {
		w[i] = 0x3c
	}
	x := make([]float32, cols)
	for i := range x {
		x[i] = 1
	}
	y := make([]float32, rows)
	MatVec(y, w, dtype.F32, x)
	want := float32(cols) * 0.0078125 // 0x3c000000 is 2^-7
	for i, v := range y {
		if v != want {
			t.Fatalf("y[%d] = %v, want %v", i, v, want)
		}
	}
}
