package kernels

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// How the streaming row loops prefetch, tuned while they run.
//
// A matrix-vector product streams its weights from memory once, and the
// loops that take a prefetch setting (setVecPF) ask for the lines a
// distance ahead of the ones they read, either into the caches as usual
// (PREFETCHT0) or as non-temporal (PREFETCHNTA: not to be kept in the
// outer caches). The best setting depends on the state of the memory, not
// only on the machine. Measured on the same two cores in one sitting:
// decode ran 3.8% faster asking 8 KiB ahead than 4 KiB while the memory
// gave 60 GB/s, and 2.4% slower while it gave 45 GB/s; non-temporal
// prefetch was 2-3% faster at 45-52 GB/s and 3% slower at 77 GB/s (shared
// machines move between such states within minutes). So the setting is a
// hill climber on the products' own speed: most products run at the
// current setting; one in twelve each tries the next shorter distance,
// the next longer one and the other kind, and its speed is taken relative
// to the same matrix's recent speed at the current setting (each matrix
// recurs every token; comparing a product with itself cancels out the
// differences of shape and type). When the neighbours have been tried
// enough times and the fastest beats the current setting, it becomes the
// current one.
//
// The loops get the setting as one number: the distance in bytes, a
// multiple of 1 KiB, with its lowest bit set for non-temporal.

// distances are the prefetch distances the tuner chooses from, in bytes.
// (2 KiB, the best in no state measured, is left out.)
var distances = [...]int64{3 << 10, 4 << 10, 5 << 10, 6 << 10, 8 << 10, 10 << 10, 12 << 10, 16 << 10}

// startDistance is the index of the distance used before any tuning (6
// KiB: between the best of a slow and a fast memory); tuning starts
// non-temporal.
const startDistance = 3

const (
	// tuneMinBytes is the least weight bytes of a product the tuner
	// times: below it a product's time is mostly fixed costs.
	tuneMinBytes = 256 << 10
	// tuneSamples is how many tries of each neighbour decide a move.
	tuneSamples = 32
	// tuneMargin is how much faster, on average, a neighbour must be to
	// become the current setting.
	tuneMargin = 0.004
	// tuneSlots is the size of the table of recent speeds per matrix.
	tuneSlots = 512
)

// Moves from the current setting to a neighbour; they index the tuner's
// sums.
const (
	moveNone    = iota // the current setting
	moveShorter        // the next shorter distance
	moveLonger         // the next longer distance
	moveKind           // the other kind of prefetch
	numMoves
)

// streamPrefetch is the setting the streaming loops use now.
var streamPrefetch atomic.Int64

// fixedPrefetch, when FERRY_PREFETCH sets it (bytes, with a suffix "nt"
// for non-temporal), replaces the tuner.
var fixedPrefetch = parsePrefetch(os.Getenv("FERRY_PREFETCH"))

func init() {
	streamPrefetch.Store(distances[startDistance] | 1)
	if fixedPrefetch > 0 {
		streamPrefetch.Store(fixedPrefetch)
	}
}

// parsePrefetch reads a FERRY_PREFETCH setting: bytes, rounded down to a
// whole KiB, with an optional "nt" suffix; 0 when s is empty or not one.
func parsePrefetch(s string) int64 {
	nt, ok := strings.CutSuffix(s, "nt")
	n, err := strconv.Atoi(nt)
	if err != nil || n < 1<<10 || n > 1<<20 {
		return 0
	}
	v := int64(n) &^ (1<<10 - 1)
	if ok {
		v |= 1
	}
	return v
}

// PrefetchDistance returns the prefetch distance, in bytes, that the
// streaming row loops use now (the tuner moves it; see tune.go).
func PrefetchDistance() int { return int(streamPrefetch.Load() &^ 1) }

// PrefetchNonTemporal reports whether the streaming row loops prefetch
// non-temporally now (the tuner chooses; see tune.go).
func PrefetchNonTemporal() bool { return streamPrefetch.Load()&1 != 0 }

// prefetchTuner is the hill climber's state.
type prefetchTuner struct {
	mu  sync.Mutex
	cur int    // index into distances
	nt  int64  // 1 for non-temporal
	rng uint64 // xorshift state, not zero
	// speeds holds each recent matrix's speed at the current setting
	// (bytes per nanosecond, a moving average), by the address of its
	// first weight byte.
	speeds [tuneSlots]speedSlot
	// sum and count gather the relative speeds of the products run at
	// the current setting and at each neighbour, by move.
	sum, count [numMoves]float64
}

var tuner = prefetchTuner{cur: startDistance, nt: 1, rng: 1}

// tuning is what begin hands to end: the product's move from the current
// setting, or ok false when the product is not timed.
type tuning struct {
	move  int
	start time.Time
	ok    bool
}

// begin picks the setting for a product of the given weight bytes and
// starts its clock. A product another goroutine's tuning holds up is not
// timed.
func (t *prefetchTuner) begin(bytes int) tuning {
	if bytes < tuneMinBytes || fixedPrefetch > 0 || !t.mu.TryLock() {
		return tuning{}
	}
	move := t.pick()
	t.mu.Unlock()
	return tuning{move: move, start: time.Now(), ok: true}
}

// setting returns the loops' number for a move from the current setting.
func (t *prefetchTuner) setting(move int) int64 {
	switch move {
	case moveShorter:
		return distances[t.cur-1] | t.nt
	case moveLonger:
		return distances[t.cur+1] | t.nt
	case moveKind:
		return distances[t.cur] | t.nt ^ 1
	}
	return distances[t.cur] | t.nt
}

// exists reports whether move leads to a setting.
func (t *prefetchTuner) exists(move int) bool {
	switch move {
	case moveShorter:
		return t.cur > 0
	case moveLonger:
		return t.cur < len(distances)-1
	}
	return true
}

// pick returns the next product's move and sets the loops' prefetch to
// it: each neighbour for one product in twelve. t.mu is held.
func (t *prefetchTuner) pick() int {
	// Drawn at random (xorshift), not by turn: products come in a fixed
	// cycle per layer, and a turn-based choice would try the neighbours on
	// the same few matrices every time.
	t.rng ^= t.rng << 13
	t.rng ^= t.rng >> 7
	t.rng ^= t.rng << 17
	move := moveNone
	if r := int(t.rng % 12); r < numMoves && t.exists(r) {
		move = r
	}
	streamPrefetch.Store(t.setting(move))
	return move
}

// end stops the product's clock and records its speed; w is its first
// matrix's weights.
func (t *prefetchTuner) end(tu tuning, w []byte, bytes int) {
	if !tu.ok {
		return
	}
	speed := float64(bytes) / float64(time.Since(tu.start).Nanoseconds()+1)
	if !t.mu.TryLock() {
		return
	}
	defer t.mu.Unlock()
	t.observe(tu.move, uintptr(unsafe.Pointer(unsafe.SliceData(w))), speed)
}

// observe records the speed of the matrix at key run after move, and
// changes the setting when the tries say so. t.mu is held.
func (t *prefetchTuner) observe(move int, key uintptr, speed float64) {
	if move != moveNone {
		// Back to the current setting for the products that follow.
		streamPrefetch.Store(t.setting(moveNone))
	}
	s := t.slot(key)
	if s.speed == 0 {
		if move == moveNone {
			s.speed = speed
		}
		return
	}
	rel := speed / s.speed
	if move == moveNone {
		s.speed += (speed - s.speed) / 8
	}
	t.sum[move] += rel
	t.count[move]++
	t.decide()
}

// speedSlot is one matrix's recent speed.
type speedSlot struct {
	key   uintptr
	speed float64
}

// slot returns the table entry of the matrix at key, taking over the entry
// of another when its few places are full.
func (t *prefetchTuner) slot(key uintptr) *speedSlot {
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
// tried tuneSamples times and the fastest of them beats the current
// setting by tuneMargin.
func (t *prefetchTuner) decide() {
	if t.count[moveNone] == 0 {
		return
	}
	for m := moveShorter; m < numMoves; m++ {
		if t.exists(m) && t.count[m] < tuneSamples {
			return
		}
	}
	mean := func(m int) float64 { return t.sum[m] / t.count[m] }
	best, bestMean := moveNone, mean(moveNone)*(1+tuneMargin)
	for m := moveShorter; m < numMoves; m++ {
		if t.exists(m) && mean(m) > bestMean {
			best, bestMean = m, mean(m)
		}
	}
	t.sum, t.count = [numMoves]float64{}, [numMoves]float64{}
	if best == moveNone {
		return
	}
	switch best {
	case moveShorter:
		t.cur--
	case moveLonger:
		t.cur++
	case moveKind:
		t.nt ^= 1
	}
	streamPrefetch.Store(t.setting(moveNone))
	// The speeds were measured at the old setting.
	t.speeds = [tuneSlots]speedSlot{}
}
