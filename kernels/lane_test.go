package kernels

import (
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"ferry/dtype"
)

// TestSplitLanes checks that lanes cover a job's rows end to end, in order,
// and carry about the same weight bytes when segments' rows differ in size.
func TestSplitLanes(t *testing.T) {
	for _, tc := range []struct {
		rows, rb []int // per segment
		n, p     int
	}{
		{[]int{160}, []int{100}, 1, 2},
		{[]int{2048, 256, 256}, []int{1152, 1152, 1680}, 1, 2},
		{[]int{2048, 256, 256}, []int{1152, 1152, 1680}, 1, 5},
		{[]int{10, 3000}, []int{5000, 10}, 1, 2},
		{[]int{33}, []int{7}, 4, 3},
		{[]int{3}, []int{7}, 1, 8}, // more lanes than rows
	} {
		j := new(job)
		j.n = tc.n
		row0, total := 0, 0
		for i, r := range tc.rows {
			j.segs = append(j.segs, segment{y: make([]float32, r*tc.n), rb: tc.rb[i], row0: row0, units: r})
			row0 += r
			total += r * tc.rb[i]
		}
		j.rows = row0
		j.splitLanes(tc.p)
		if j.nlanes != tc.p {
			t.Fatalf("%v: %d lanes, want %d", tc, j.nlanes, tc.p)
		}
		bytesOf := func(lo, hi int) int {
			b := 0
			for _, sg := range j.segs {
				a, z := max(lo, sg.row0), min(hi, sg.row0+len(sg.y)/j.n)
				if z > a {
					b += (z - a) * sg.rb
				}
			}
			return b
		}
		maxRow := 0
		for _, rb := range tc.rb {
			maxRow = max(maxRow, rb)
		}
		next := 0
		for i := 0; i < tc.p; i++ {
			v := j.lanes[i].ends.Load()
			front, back := int(uint32(v)), int(v>>32)
			if front != next || back < front {
				t.Fatalf("%v: lane %d is [%d, %d), want it to start at %d", tc, i, front, back, next)
			}
			if got, want := bytesOf(front, back), total/tc.p; j.rows >= tc.p && (got > want+maxRow || got < want-maxRow) {
				t.Errorf("%v: lane %d holds %d bytes, want %d within a row (%d)", tc, i, got, want, maxRow)
			}
			next = back
		}
		if next != j.rows {
			t.Fatalf("%v: lanes end at %d, want %d", tc, next, j.rows)
		}
	}
}

// TestLaneTake claims a lane from both ends at once and checks that every
// row is handed out exactly once.
func TestLaneTake(t *testing.T) {
	var l lane
	const rows = 100000
	l.set(0, rows)
	seen := make([]int32, rows)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(fromBack bool) {
			defer wg.Done()
			for {
				lo, hi, ok := l.take(64, 3, 4, fromBack)
				if !ok {
					return
				}
				if hi <= lo || hi-lo > 64 {
					t.Errorf("claim [%d, %d) outside 1..64 rows", lo, hi)
					return
				}
				for i := lo; i < hi; i++ {
					seen[i]++ // each row by one claimant only, so no race
				}
			}
		}(g%2 == 1)
	}
	wg.Wait()
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("row %d handed out %d times", i, c)
		}
	}
	if l.remaining() != 0 {
		t.Fatalf("lane has %d rows left", l.remaining())
	}
}

// TestWillMultiply hands the pool hints of the product that follows and
// checks that each is armed at the next dispatch (so a worker fetches it
// once done with that product) and that products come out the same.
func TestWillMultiply(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two threads")
	}
	const rows, cols = 512, 1024
	w1 := make([]byte, rows*cols*4)
	w2 := make([]byte, rows*cols*4)
	for i := range w1 {
		w1[i], w2[i] = byte(i*7), byte(i*13)
	}
	for i := 3; i < len(w1); i += 4 {
		w1[i], w2[i] = 0x3c, 0x3c // float32s of modest size
	}
	x := make([]float32, cols)
	for i := range x {
		x[i] = float32(i%9) - 4
	}
	want := make([]float32, rows)
	MatVec(want, w2, dtype.F32, x)
	for rep := 0; rep < 20; rep++ {
		// The hint goes to the worker the next product enlists: wait
		// until it is free (it may still be finishing the last product,
		// or not yet scheduled on a busy machine).
		for deadline := time.Now().Add(5 * time.Second); slots[0].state.Load() == slotBusy; {
			if time.Now().After(deadline) {
				t.Skip("the worker never came free")
			}
			runtime.Gosched()
		}
		WillMultiply([]Product{{W: w2, Type: dtype.F32}})
		if slots[0].pfNext.Load() == 0 {
			t.Fatal("hint not recorded")
		}
		y := make([]float32, rows)
		MatVec(y, w1, dtype.F32, x)
		if slots[0].pfNext.Load() != 0 {
			t.Fatal("hint not armed by the next product")
		}
		MatVec(y, w2, dtype.F32, x)
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("y[%d] = %v, want %v", i, y[i], want[i])
			}
		}
	}
}

// TestHints checks that a hint keeps its start and length in one word,
// and that one too long or too short for it is none.
func TestHints(t *testing.T) {
	buf := make([]byte, 1<<20)
	h := packHint(&buf[4096], 8192)
	if got := uintptr(h & hintAddrMask); got != uintptr(unsafe.Pointer(&buf[4096])) {
		t.Fatalf("hint start %#x, want %p", got, &buf[4096])
	}
	if got := int(h>>hintLenShift&hintLenMask) * hintLenUnit; got != 8192 {
		t.Fatalf("hint length %d, want 8192", got)
	}
	if packHint(&buf[0], 256) != 0 || packHint(&buf[0], 4<<20) != 0 {
		t.Fatal("a hint of less than 512 bytes or more than 2 MiB was made")
	}
}

// TestWillReadFor checks the regions WillRead and WillReadFor record for
// the next product: each participant's runs, with their caps, and nothing
// for arguments that name no memory.
func TestWillReadFor(t *testing.T) {
	buf := make([]uint16, 1<<20) // 2 MiB
	var j job
	j.takeSoon(false) // none left from before
	WillRead(buf[:100])
	WillReadFor(1, buf, 64, 4096)        // 256 runs of 128 bytes
	WillReadFor(2, buf, 40000, 100000)   // runs past 32 KiB are cut
	WillReadFor(0, buf[:10], 16, 8)      // width over stride: nothing
	WillReadFor(0, buf[:0], 1, 1)        // empty: nothing
	WillReadFor(-1, buf, 1, 1)           // no such participant: nothing
	WillReadFor(3, buf[5000:5003], 2, 2) // two runs, the last one short
	j.takeSoon(true)
	want := []region{
		{n: 200, stride: 200, count: 1, part: 0},
		{n: 128, stride: 8192, count: 256, part: 1},
		{n: 32 << 10, stride: 200000, count: 8, part: 2},
		{n: 4, stride: 4, count: 2, part: 3},
	}
	if j.nsoon != len(want) {
		t.Fatalf("%d regions recorded, want %d", j.nsoon, len(want))
	}
	for i, w := range want {
		r := j.soon[i]
		if r.n != w.n || r.stride != w.stride || r.count != w.count || r.part != w.part {
			t.Errorf("region %d: %d bytes every %d, %d times, for %d; want %d every %d, %d times, for %d",
				i, r.n, r.stride, r.count, r.part, w.n, w.stride, w.count, w.part)
		}
	}
	if j.soon[3].p != (*byte)(unsafe.Pointer(&buf[5000])) {
		t.Error("region 3 does not start at its slice")
	}
	for p := range 4 {
		j.prefetchSoon(p) // stays within (or a line past) the regions
	}
	j.forgetSoon()
	// At most maxSoon regions wait for a product; a product computed alone
	// drops them.
	for range maxSoon + 3 {
		WillRead(buf)
	}
	if n := soon.n.Load(); n != maxSoon {
		t.Fatalf("%d regions kept, want %d", n, maxSoon)
	}
	j.takeSoon(false)
	if j.nsoon != 0 || soon.n.Load() != 0 {
		t.Fatal("regions kept by a product computed alone")
	}
}

// TestParallelForLanes checks that ParallelFor's lanes split the indices
// evenly, in order, as WillReadFor's callers expect.
func TestParallelForLanes(t *testing.T) {
	var j job
	for _, tc := range [][2]int{{4, 2}, {5, 2}, {7, 3}, {32, 4}, {3, 3}} {
		j.rows = tc[0]
		j.splitEven(tc[1])
		at := 0
		for p := range tc[1] {
			v := j.lanes[p].ends.Load()
			front, back := int(uint32(v)), int(v>>32)
			if front != at || back != (p+1)*tc[0]/tc[1] {
				t.Fatalf("%d indices over %d lanes: lane %d is [%d, %d)", tc[0], tc[1], p, front, back)
			}
			at = back
		}
		if at != tc[0] {
			t.Fatalf("%d indices over %d lanes end at %d", tc[0], tc[1], at)
		}
	}
}

// TestChunkRows checks that claims are sized in weights, whatever the
// rows of a unit: a product's rows are units of 16 rows in the
// interleaved layouts.
func TestChunkRows(t *testing.T) {
	for _, c := range []struct {
		unitVals, n, rows, procs int
		chunk, least             int
	}{
		{2048, 1, 2048, 2, 512, 8},     // plain rows of 2048: 16K values is 8 rows
		{16 * 2048, 1, 128, 2, 32, 1},  // the same matrix in units of 16 rows
		{16 * 5632, 1, 128, 2, 32, 1},  // a down projection in units
		{16 * 2048, 1, 8, 2, 2, 1},     // few units: a quarter of 8
		{2048, 64, 2048, 2, 64, 1},     // a batch: every row is work enough, a 32nd of the job
		{256, 1, 100000, 2, 25000, 64}, // narrow rows: 64 make 16K values
	} {
		chunk, least := chunkRows(c.unitVals, c.n, c.rows, c.procs)
		if chunk != c.chunk || least != c.least {
			t.Errorf("chunkRows(%d, %d, %d, %d) = %d, %d; want %d, %d", c.unitVals, c.n, c.rows, c.procs, chunk, least, c.chunk, c.least)
		}
	}
}

// TestMinSteal checks that a worker leaves another lane's rows alone when
// fewer than minSteal are left, that the caller takes them whatever their
// number, and that a product of one vector sets the bar from its bytes.
func TestMinSteal(t *testing.T) {
	for _, tc := range []struct {
		left, minSteal, part int
		wantTaken            bool
	}{
		{left: 3, minSteal: 4, part: 1, wantTaken: false},
		{left: 3, minSteal: 4, part: 0, wantTaken: true},
		{left: 4, minSteal: 4, part: 1, wantTaken: true},
		{left: 3, minSteal: 0, part: 1, wantTaken: true},
	} {
		var ran []int
		j := &job{n: 1, rows: 10, chunk: 10, minChunk: 1, part: 2, minSteal: tc.minSteal}
		j.each = func(p, i int) { ran = append(ran, i) }
		j.lanes = make([]lane, 2)
		j.nlanes = 2
		other := 1 - tc.part
		// Participant tc.part's own lane is empty; the other's has
		// tc.left rows left at its end.
		j.lanes[tc.part].set(0, 0)
		j.lanes[other].set(10-tc.left, 10)
		j.workLanes(tc.part)
		taken := len(ran) > 0
		if taken != tc.wantTaken {
			t.Errorf("participant %d, %d rows left, minSteal %d: took %v, want taken %v", tc.part, tc.left, tc.minSteal, ran, tc.wantTaken)
		}
		// A worker stops once the lane is below the bar; the caller
		// empties it.
		bar := max(tc.minSteal, 1)
		if tc.part == 0 {
			bar = 1
		}
		if r := j.lanes[other].remaining(); r >= bar || len(ran)+r != tc.left {
			t.Errorf("participant %d took %v of %d rows left, leaving %d", tc.part, ran, tc.left, r)
		}
	}
	// A product sets the bar to minStealBytes of its rows, and the job
	// goes back to the pool without it.
	const rows, cols = 4096, 256
	w := make([]byte, rows*cols*4)
	x := make([]float32, cols)
	y := make([]float32, rows)
	MatVec(y, w, dtype.F32, x)
	j := jobPool.Get().(*job)
	if j.minSteal != 0 {
		t.Errorf("a job back in the pool has minSteal %d", j.minSteal)
	}
	jobPool.Put(j)
}

// TestSwappedLanes checks that a job with swapped lanes gives each
// participant the lane at the other end first, and that products of one
// vector swap every other turn.
func TestSwappedLanes(t *testing.T) {
	var ran []int
	j := &job{n: 1, rows: 10, chunk: 10, minChunk: 1, part: 2, swapped: true}
	j.each = func(p, i int) { ran = append(ran, i) }
	j.splitEven(2)
	j.workLanes(0)
	if len(ran) != 10 || ran[0] != 5 {
		t.Fatalf("the caller of a swapped job ran %v, want lane [5, 10) first and then the rest", ran)
	}
	if swappedTurn(0) || !swappedTurn(1) || swappedTurn(2) {
		t.Fatal("turns do not alternate")
	}
}
