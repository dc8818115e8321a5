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
	}{{0, 6, 1}, {startDistance, 1, 0}, {len(distances) - 1, 4, 1}, {2, 2, 0}} {
		r := rand.New(rand.NewPCG(uint64(c.start), uint64(c.peak)))
		tu := &prefetchTuner{cur: c.start, nt: 1 - c.nt, rng: 1}
		base := []float64{30, 12, 25, 40} // bytes per ns
		at, reached := map[int]int{}, -1
		for i := 0; i < 40000; i++ {
			tu.mu.Lock()
			move := tu.pick()
			set := streamPrefetch.Load()
			if want := tu.setting(move); set != want {
				t.Fatalf("the loops would use %d, the tuner tried %d", set, want)
			}
			d := 0
			for d < len(distances) && distances[d] != set&^1 {
				d++
			}
			// 1.5% slower per step from the peak distance, 2% for the
			// other kind, and 2% noise.
			speed := base[i%len(base)] * (1 - 0.015*math.Abs(float64(d-c.peak))) * (1 + 0.02*r.NormFloat64())
			if set&1 != c.nt {
				speed *= 0.98
			}
			tu.observe(move, uintptr(i%len(base)+1)<<12, speed)
			tu.mu.Unlock()
			peak := tu.cur == c.peak && tu.nt == c.nt
			if reached < 0 && peak {
				reached = i
			}
			if i >= 30000 && peak {
				at[0]++
			}
		}
		// A move takes tuneSamples tries of each neighbour, one product
		// in twelve each; decode runs about a hundred products a token.
		if steps := abs(c.peak-c.start) + 1; reached < 0 || reached > 1000*(steps+1) {
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

// TestParsePrefetch checks FERRY_PREFETCH's forms.
func TestParsePrefetch(t *testing.T) {
	for s, want := range map[string]int64{"": 0, "8192": 8192, "8192nt": 8193, "5000": 4096, "512": 0, "x": 0, "nt": 0} {
		if got := parsePrefetch(s); got != want {
			t.Errorf("parsePrefetch(%q) = %d, want %d", s, got, want)
		}
	}
}

func abs(x int) int { return max(x, -x) }
