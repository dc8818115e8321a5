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
// outer caches), or leave it to the hardware prefetchers. The best setting
// depends on the machine and on the state of its memory. Measured on a
// Zen 5 in one sitting: decode ran 3.8% faster asking 8 KiB ahead than 4
// KiB while the memory gave 60 GB/s, and 2.4% slower while it gave 45
// GB/s; non-temporal prefetch was 2-3% faster at 45-52 GB/s and 3% slower
// at 77 GB/s (shared machines move between such states within minutes).
// On a Zen 4 every software prefetch ahead was slower than none: a
// product of F16 weights streamed at 0.65 of a plain read with PREFETCHT0
// 4 KiB ahead and at 0.96 without (the prefetches hold the core's few
// line-fill buffers for a whole memory latency each, which its L2
// prefetcher does not).
//
// So the setting can be searched on the products' own speed
// (FERRY_PREFETCH=tune), first with a scan and then by a hill climber. The scan runs the first products at
// settings drawn at random from a few far apart (none, 4 KiB, 8 KiB
// non-temporal) and keeps the fastest; after it, most products run at the
// current setting, and one in tuneEvery each tries the next shorter
// distance, the next longer one and the other kind. Every speed is taken
// relative to the same matrix's recent speed (each matrix recurs every
// token; comparing a product with itself cancels out the differences of
// shape and type). When the neighbours have been tried enough times and
// the fastest beats the current setting, it becomes the current one; once
// the climb has stayed put settleDecisions times, it tries neighbours four
// times as rarely. Tries cost: a neighbour can be 20% slower, and an
// earlier tuner that tried each neighbour on one product in twelve (and
// scanned nine settings) decoded 4-8% slower than no prefetch at all, which
// was the best setting on a Zen 4.
//
// The loops get the setting as one number: the distance in bytes, a
// multiple of 1 KiB, with its lowest bit set for non-temporal; 0 for no
// software prefetch.

// distances are the prefetch distances the tuner chooses from, in bytes;
// the first, 0, is no software prefetch.
var distances = [...]int64{0, 1 << 10, 2 << 10, 3 << 10, 4 << 10, 5 << 10, 6 << 10, 8 << 10, 10 << 10, 12 << 10, 16 << 10}

// scanArms are the settings the scan tries (indices into distances, and
// the kind); the first of them is where the loops start.
var scanArms = [...]struct {
	d  int
	nt int64
}{{0, 0}, {4, 0}, {7, 1}}

const (
	// tuneMinBytes is the least weight bytes of a product the tuner
	// times: below it a product's time is mostly fixed costs.
	tuneMinBytes = 256 << 10
	// tuneSamples is how many tries of each neighbour decide a move.
	tuneSamples = 32
	// scanSamples is how many tries of each setting of the scan decide
	// where the climb starts.
	scanSamples = 16
	// tuneMargin is how much faster, on average, a neighbour must be to
	// become the current setting.
	tuneMargin = 0.004
	// tuneEvery is how many products there are for each try of each
	// neighbour, while climbing; four times as many once settled.
	tuneEvery = 32
	// settleDecisions is how many decisions in a row to stay make the
	// climb settled.
	settleDecisions = 3
	// tuneSlots is the size of the table of recent speeds per matrix.
	tuneSlots = 512
)

// Moves from the current setting to a neighbour; they index the tuner's
// sums. A product of the scan has the move scanMove plus its arm.
const (
	moveNone    = iota // the current setting
	moveShorter        // the next shorter distance
	moveLonger         // the next longer distance
	moveKind           // the other kind of prefetch
	numMoves
	scanMove = numMoves
)

// streamPrefetch is the setting the streaming loops use now.
var streamPrefetch atomic.Int64

// fixedPrefetch is the setting FERRY_PREFETCH chooses (bytes, with a
// suffix "nt" for non-temporal, or "off"), plus fixedSet, so that "off"
// (setting 0) is told apart from the tuner; it is 0 when the tuner
// chooses ("tune"). Without FERRY_PREFETCH the setting is defaultPrefetch:
// where the AVX-512 loops run, none (in alternating runs on a Zen 4, ferry
// bench on the TinyLlama shape, the tuner, which ended at no prefetch most
// times, decoded 1-5% slower than no prefetch from the start, for what its
// tries cost), and 4 KiB non-temporal where the AVX2 ones do.
var fixedPrefetch = parsePrefetch(os.Getenv("FERRY_PREFETCH"))

// fixedSet marks fixedPrefetch as chosen.
const fixedSet = 1 << 40

func init() {
	p := fixedPrefetch &^ fixedSet
	if os.Getenv("FERRY_PREFETCH") == "" {
		p = defaultPrefetch()
	}
	streamPrefetch.Store(p)
}

// parsePrefetch reads a FERRY_PREFETCH setting: "tune" gives 0 (the tuner
// chooses); "off", or bytes, rounded down to a whole KiB, with an optional
// "nt" suffix, give the setting plus fixedSet; anything else, the empty
// string among them, is "off".
func parsePrefetch(s string) int64 {
	if s == "tune" {
		return 0
	}
	nt, ok := strings.CutSuffix(s, "nt")
	n, err := strconv.Atoi(nt)
	if err != nil || n < 1<<10 || n > 1<<20 {
		return fixedSet
	}
	v := int64(n) &^ (1<<10 - 1)
	if ok {
		v |= 1
	}
	return v | fixedSet
}

// PrefetchDistance returns the prefetch distance, in bytes, that the
// streaming row loops use now, 0 for none (the tuner moves it; see
// tune.go).
func PrefetchDistance() int { return int(streamPrefetch.Load() &^ 1) }

// PrefetchNonTemporal reports whether the streaming row loops prefetch
// non-temporally now (the tuner chooses; see tune.go).
func PrefetchNonTemporal() bool { return streamPrefetch.Load()&1 != 0 }

// prefetchTuner is the scan's and the hill climber's state.
type prefetchTuner struct {
	mu  sync.Mutex
	cur int    // index into distances
	nt  int64  // 1 for non-temporal
	rng uint64 // xorshift state, not zero
	// scanned is set once the scan has chosen where the climb starts.
	scanned bool
	// stays counts the decisions in a row that kept the setting.
	stays int
	// scanSum and scanCount gather the relative speeds of the scan's
	// products, by arm.
	scanSum, scanCount [len(scanArms)]float64
	// speeds holds each recent matrix's speed at the current setting
	// (bytes per nanosecond, a moving average), by the address of its
	// first weight byte.
	speeds [tuneSlots]speedSlot
	// sum and count gather the relative speeds of the products run at
	// the current setting and at each neighbour, by move.
	sum, count [numMoves]float64
}

var tuner = prefetchTuner{rng: 1}

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
	if bytes < tuneMinBytes || fixedPrefetch != 0 || !t.mu.TryLock() {
		return tuning{}
	}
	move := t.pick()
	t.mu.Unlock()
	return tuning{move: move, start: time.Now(), ok: true}
}

// setting returns the loops' number for a move from the current setting.
func (t *prefetchTuner) setting(move int) int64 {
	switch {
	case move >= scanMove:
		a := scanArms[move-scanMove]
		return settingOf(a.d, a.nt)
	case move == moveShorter:
		return settingOf(t.cur-1, t.nt)
	case move == moveLonger:
		return settingOf(t.cur+1, t.nt)
	case move == moveKind:
		return settingOf(t.cur, t.nt^1)
	}
	return settingOf(t.cur, t.nt)
}

// settingOf returns the loops' number for distance d of the given kind:
// 0 for no prefetch, of either kind.
func settingOf(d int, nt int64) int64 {
	if distances[d] == 0 {
		return 0
	}
	return distances[d] | nt
}

// exists reports whether move leads to a setting.
func (t *prefetchTuner) exists(move int) bool {
	switch move {
	case moveShorter:
		return t.cur > 0
	case moveLonger:
		return t.cur < len(distances)-1
	case moveKind:
		return distances[t.cur] != 0 // no prefetch has no kind
	}
	return true
}

// pick returns the next product's move and sets the loops' prefetch to
// it: during the scan one of its arms, after it each neighbour for one
// product in tuneEvery (four times fewer once settled). t.mu is held.
func (t *prefetchTuner) pick() int {
	// Drawn at random (xorshift), not by turn: products come in a fixed
	// cycle per layer, and a turn-based choice would try the neighbours on
	// the same few matrices every time.
	t.rng ^= t.rng << 13
	t.rng ^= t.rng >> 7
	t.rng ^= t.rng << 17
	move := moveNone
	if !t.scanned {
		move = scanMove + int(t.rng%uint64(len(scanArms)))
	} else {
		every := uint64(tuneEvery)
		if t.stays >= settleDecisions {
			every *= 4
		}
		if r := int(t.rng % every); r < numMoves && t.exists(r) {
			move = r
		}
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
	if move >= scanMove {
		t.observeScan(move-scanMove, key, speed)
		return
	}
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

// observeScan records the speed of the matrix at key run at arm a of the
// scan, and ends the scan at the fastest arm once every arm has been tried
// scanSamples times. During the scan a matrix's recent speed is that of
// every arm. t.mu is held.
func (t *prefetchTuner) observeScan(a int, key uintptr, speed float64) {
	if t.scanned {
		return // a product begun before the scan ended
	}
	s := t.slot(key)
	if s.speed == 0 {
		s.speed = speed
		return
	}
	t.scanSum[a] += speed / s.speed
	t.scanCount[a]++
	s.speed += (speed - s.speed) / 8
	best, bestMean := 0, 0.0
	for i := range scanArms {
		if t.scanCount[i] < scanSamples {
			return
		}
		if m := t.scanSum[i] / t.scanCount[i]; m > bestMean {
			best, bestMean = i, m
		}
	}
	t.cur, t.nt, t.scanned = scanArms[best].d, scanArms[best].nt, true
	if distances[t.cur] == 0 {
		t.nt = 0
	}
	streamPrefetch.Store(t.setting(moveNone))
	t.speeds = [tuneSlots]speedSlot{}
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
		t.stays++
		return
	}
	t.stays = 0
	switch best {
	case moveShorter:
		t.cur--
	case moveLonger:
		t.cur++
	case moveKind:
		t.nt ^= 1
	}
	if distances[t.cur] == 0 {
		t.nt = 0
	}
	streamPrefetch.Store(t.setting(moveNone))
	// The speeds were measured at the old setting.
	t.speeds = [tuneSlots]speedSlot{}
}
