package kernels

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// The prefetch distance of the streaming row loops, tuned while they run.
//
// A matrix-vector product streams its weights from memory once, and the
// loops that take a distance (setVecPF) ask for the lines that far ahead
// of the ones they read. The best distance depends on the state of the
// memory, not only on the machine: measured on the same two cores in one
// sitting, decode ran 3.8% faster asking 8 KiB ahead than 4 KiB while the
// memory gave 60 GB/s, and 2.4% slower while it gave 45 GB/s (shared
// machines move between such states within minutes). So the distance is a
// hill climber on the products' own speed: most products run at the
// current distance; one in four tries the next shorter or the next longer
// one, and its speed is taken relative to the same matrix's recent speed
// at the current distance (each matrix recurs every token; comparing a
// product with itself cancels out the differences of shape and type).
// When a neighbour has been tried enough times and beats the current
// distance, it becomes the current one.

// distances are the prefetch distances the tuner chooses from, in bytes.
// (2 KiB, the best in no state measured, is left out.)
var distances = [...]int64{3 << 10, 4 << 10, 5 << 10, 6 << 10, 8 << 10, 10 << 10, 12 << 10, 16 << 10}

// startDistance is the index of the distance used before any tuning (6
// KiB: between the best of a slow and a fast memory).
const startDistance = 3

const (
	// tuneMinBytes is the least weight bytes of a product the tuner
	// times: below it a product's time is mostly fixed costs.
	tuneMinBytes = 256 << 10
	// tuneSamples is how many tries of each neighbour decide a move.
	tuneSamples = 32
	// tuneMargin is how much faster, on average, a neighbour must be to
	// become the current distance.
	tuneMargin = 0.004
	// tuneSlots is the size of the table of recent speeds per matrix.
	tuneSlots = 512
)

// streamDistance is the distance the streaming loops use now.
var streamDistance atomic.Int64

// fixedDistance, when set by FERRY_PREFETCH (bytes), replaces the tuner.
var fixedDistance = envInt("FERRY_PREFETCH")

func init() {
	streamDistance.Store(distances[startDistance])
	if fixedDistance > 0 {
		streamDistance.Store(int64(fixedDistance))
	}
}

// PrefetchDistance returns the prefetch distance, in bytes, that the
// streaming row loops use now (the tuner moves it; see tune.go).
func PrefetchDistance() int { return int(streamDistance.Load()) }

// distanceTuner is the hill climber's state.
type distanceTuner struct {
	mu  sync.Mutex
	cur int    // index into distances
	rng uint64 // xorshift state, not zero
	// speeds holds each recent matrix's speed at the current distance
	// (bytes per nanosecond, a moving average), by the address of its
	// first weight byte.
	speeds [tuneSlots]speedSlot
	// sum and count gather the relative speeds of the products run at
	// the shorter neighbour, the current distance and the longer one.
	sum, count [3]float64
}

var tuner = distanceTuner{cur: startDistance, rng: 1}

// tuning is what begin hands to end: the product's offset from the
// current distance (-1, 0, +1), or ok false when the product is not timed.
type tuning struct {
	off   int
	start time.Time
	ok    bool
}

// begin picks the distance for a product of the given weight bytes and
// starts its clock. A product another goroutine's tuning holds up is not
// timed.
func (t *distanceTuner) begin(bytes int) tuning {
	if bytes < tuneMinBytes || fixedDistance > 0 || !t.mu.TryLock() {
		return tuning{}
	}
	off := t.pick()
	t.mu.Unlock()
	return tuning{off: off, start: time.Now(), ok: true}
}

// pick returns the next product's offset from the current distance and
// sets the distance the loops use to it: the shorter neighbour for one
// product in eight, the longer for another. t.mu is held.
func (t *distanceTuner) pick() int {
	// Drawn at random (xorshift), not by turn: products come in a fixed
	// cycle per layer, and a turn-based choice would try the neighbours on
	// the same few matrices every time.
	t.rng ^= t.rng << 13
	t.rng ^= t.rng >> 7
	t.rng ^= t.rng << 17
	off := 0
	switch t.rng % 8 {
	case 0:
		off = -1
	case 1:
		off = 1
	}
	if i := t.cur + off; i < 0 || i >= len(distances) {
		off = 0
	}
	streamDistance.Store(distances[t.cur+off])
	return off
}

// end stops the product's clock and records its speed; w is its first
// matrix's weights.
func (t *distanceTuner) end(tu tuning, w []byte, bytes int) {
	if !tu.ok {
		return
	}
	speed := float64(bytes) / float64(time.Since(tu.start).Nanoseconds()+1)
	if !t.mu.TryLock() {
		return
	}
	defer t.mu.Unlock()
	t.observe(tu.off, uintptr(unsafe.Pointer(unsafe.SliceData(w))), speed)
}

// observe records the speed of the matrix at key run at offset off from the
// current distance, and moves the distance when the tries say so. t.mu is
// held.
func (t *distanceTuner) observe(off int, key uintptr, speed float64) {
	if off != 0 {
		// Back to the current distance for the products that follow.
		streamDistance.Store(distances[t.cur])
	}
	s := t.slot(key)
	if s.speed == 0 {
		if off == 0 {
			s.speed = speed
		}
		return
	}
	rel := speed / s.speed
	if off == 0 {
		s.speed += (speed - s.speed) / 8
	}
	t.sum[off+1] += rel
	t.count[off+1]++
	t.decide()
}

// speedSlot is one matrix's recent speed.
type speedSlot struct {
	key   uintptr
	speed float64
}

// slot returns the table entry of the matrix at key, taking over the entry
// of another when its few places are full.
func (t *distanceTuner) slot(key uintptr) *speedSlot {
	h := int(key>>6^key>>16) % tuneSlots
	for i := 0; i < 4; i++ {
		s := &t.speeds[(h+i)%tuneSlots]
		if s.key == key {
			return s
		}
		if s.key == 0 {
			s.key = key
			return s
		}
	}
	s := &t.speeds[h]
	s.key, s.speed = key, 0
	return s
}

// decide moves to a neighbour once each neighbour that exists has been
// tried tuneSamples times and the faster of them beats the current
// distance by tuneMargin.
func (t *distanceTuner) decide() {
	lo, hi := t.cur > 0, t.cur < len(distances)-1
	if lo && t.count[0] < tuneSamples || hi && t.count[2] < tuneSamples || t.count[1] == 0 {
		return
	}
	mean := func(i int) float64 { return t.sum[i] / t.count[i] }
	best, bestMean := 0, mean(1)*(1+tuneMargin)
	if lo && mean(0) > bestMean {
		best, bestMean = -1, mean(0)
	}
	if hi && mean(2) > bestMean {
		best = 1
	}
	t.sum, t.count = [3]float64{}, [3]float64{}
	if best != 0 {
		t.cur += best
		streamDistance.Store(distances[t.cur])
		// The speeds were measured at the old distance.
		t.speeds = [tuneSlots]speedSlot{}
	}
}

// envInt returns the environment variable name as a number, 0 when unset
// or not a number.
func envInt(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil {
		return 0
	}
	return n
}
