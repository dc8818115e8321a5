package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTunerClimbs runs the prefetch tuner against a model of the memory:
// products of four matrices in turn (as a layer runs them) whose speed
// peaks at one distance and one kind of prefetch and falls off away from
// them, with the noise of a shared machine, and checks that the tuner
// reaches the peak from below and from above, in time, and stays there.
func TestTunerClimbs(t *testing.T) {
	defer streamPrefetch.Store(streamPrefetch.Load())
	for _, c := range []struct {
		start, peak int
		nt          int64
	}{{1, 7, 1}, {7, 1, 0}, {len(distances) - 1, 4, 1}, {2, 2, 0}, {5, 0, 0}} {
		r := rand.New(rand.NewPCG(uint64(c.start), uint64(c.peak)))
		tu := &prefetchTuner{cur: c.start, nt: 1 - c.nt, rng: 1, scanned: true}
		at, reached := map[int]int{}, -1
		for i := 0; i < 120000; i++ {
			tu.mu.Lock()
			move := tu.pick()
			set := streamPrefetch.Load()
			if want := tu.setting(move); set != want {
				t.Fatalf("the loops would use %d, the tuner tried %d", set, want)
			}
			tu.observe(move, uintptr(i%len(modelBase)+1)<<12, modelSpeed(0.02*r.NormFloat64(), i, set, c.peak, c.nt))
			tu.mu.Unlock()
			peak := tu.cur == c.peak && tu.nt == c.nt
			if reached < 0 && peak {
				reached = i
			}
			if i >= 110000 && peak {
				at[0]++
			}
		}
		// A move takes tuneSamples tries of each neighbour, one product
		// in tuneEvery each (fewer once settled); decode runs about a
		// hundred products a token.
		if steps := abs(c.peak-c.start) + 1; reached < 0 || reached > 3*tuneSamples*tuneEvery*(steps+1) {
			t.Errorf("from %d the tuner reached the peak at %d after %d products", c.start, c.peak, reached)
		}
		if at[0] < 9000 {
			t.Errorf("from %d with the peak at %d: at the peak for %d of the last 10000 products", c.start, c.peak, at[0])
		}
		if got := streamPrefetch.Load(); got != tu.setting(moveNone) {
			t.Errorf("after tuning the loops use %d, the tuner's setting is %d", got, tu.setting(moveNone))
		}
	}
}

// modelBase are the speeds of four matrices, in bytes per ns, at the peak
// of the model of the memory that the tuner tests run against.
var modelBase = []float64{30, 12, 25, 40}

// modelSpeed is the speed of product i at setting set where the memory is
// fastest at distance index peak and kind nt: 1.5% slower per step of
// distance from the peak, 2% for the other kind, times 1+noise.
func modelSpeed(noise float64, i int, set int64, peak int, nt int64) float64 {
	d := 0
	for d < len(distances) && distances[d] != set&^1 {
		d++
	}
	speed := modelBase[i%len(modelBase)] * (1 - 0.015*math.Abs(float64(d-peak))) * (1 + noise)
	if distances[peak] != 0 && set&1 != nt {
		speed *= 0.98
	}
	return speed
}

// TestTunerScans checks the scan: from the start, it tries the coarse grid
// and hands the climb an arm near the peak (at most one step of the model
// slower than the best arm), soon enough for a short run to benefit, and
// the climb then finds the peak between the arms.
func TestTunerScans(t *testing.T) {
	defer streamPrefetch.Store(streamPrefetch.Load())
	for _, c := range []struct {
		peak int
		nt   int64
	}{{0, 0}, {3, 1}, {8, 0}, {10, 1}, {5, 0}} {
		r := rand.New(rand.NewPCG(uint64(c.peak), 3))
		tu := &prefetchTuner{rng: 1}
		scanned := -1
		for i := 0; i < 120000; i++ {
			tu.mu.Lock()
			move := tu.pick()
			if !tu.scanned && move < scanMove {
				t.Fatalf("product %d: move %d during the scan", i, move)
			}
			tu.observe(move, uintptr(i%len(modelBase)+1)<<12, modelSpeed(0.02*r.NormFloat64(), i, streamPrefetch.Load(), c.peak, c.nt))
			if tu.scanned && scanned < 0 {
				scanned = i
				// Speeds without noise.
				expect := func(d int, nt int64) float64 { return modelSpeed(0, 0, settingOf(d, nt), c.peak, c.nt) }
				best := 0.0
				for _, a := range scanArms {
					best = max(best, expect(a.d, a.nt))
				}
				if got := expect(tu.cur, tu.nt); got < best-0.016*modelBase[0] {
					t.Errorf("peak %d: the scan chose distance %d nt %d, at %.3f of the best arm", c.peak, tu.cur, tu.nt, got/best)
				}
			}
			tu.mu.Unlock()
		}
		// Three arms of sixteen tries each, and the first product of
		// each matrix only sets its speed.
		if scanned < 0 || scanned > 150 {
			t.Errorf("peak %d: the scan ended after %d products", c.peak, scanned)
		}
		if tu.cur != c.peak || (distances[c.peak] != 0 && tu.nt != c.nt) {
			t.Errorf("peak %d nt %d: the tuner ended at %d nt %d", c.peak, c.nt, tu.cur, tu.nt)
		}
	}
}

// TestParsePrefetch checks FERRY_PREFETCH's forms.
func TestParsePrefetch(t *testing.T) {
	for s, want := range map[string]int64{"": fixedSet, "tune": 0, "8192": 8192 | fixedSet, "8192nt": 8193 | fixedSet, "5000": 4096 | fixedSet,
		"off": fixedSet, "0": fixedSet, "512": fixedSet, "x": fixedSet, "nt": fixedSet} {
		if got := parsePrefetch(s); got != want {
			t.Errorf("parsePrefetch(%q) = %d, want %d", s, got, want)
		}
	}
}

func abs(x int) int { return max(x, -x) }
