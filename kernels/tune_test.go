package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTunerClimbs runs the prefetch tuner against a model of the memory:
// products of several sizes whose speed peaks at one distance and falls
// off on either side, with noise of a shared machine, and checks that the
// tuner moves to the peak from below and from above and stays there.
func TestTunerClimbs(t *testing.T) {
	defer streamDistance.Store(streamDistance.Load())
	for _, c := range []struct{ start, peak int }{{0, 6}, {startDistance, 1}, {len(distances) - 1, 4}, {2, 2}} {
		r := rand.New(rand.NewPCG(uint64(c.start), uint64(c.peak)))
		tu := &distanceTuner{cur: c.start, rng: 1}
		// Four matrices in turn, as a layer runs its products (bytes per ns).
		base := []float64{30, 12, 25, 40}
		at, reached := map[int]int{}, -1
		for i := 0; i < 40000; i++ {
			tu.mu.Lock()
			off := tu.pick()
			d := tu.cur + off
			if got := streamDistance.Load(); got != distances[d] {
				t.Fatalf("the loops would use %d, the tuner tried %d", got, distances[d])
			}
			// 1.5% slower per step from the peak, and 2% noise.
			speed := base[i%len(base)] * (1 - 0.015*math.Abs(float64(d-c.peak))) * (1 + 0.02*r.NormFloat64())
			tu.observe(off, uintptr(i%len(base)+1)<<12, speed)
			tu.mu.Unlock()
			if reached < 0 && tu.cur == c.peak {
				reached = i
			}
			if i >= 30000 {
				at[tu.cur]++
			}
		}
		// A move takes tuneSamples tries of each neighbour, one product
		// in eight; decode runs about a hundred products a token.
		if reached < 0 || reached > 800*(abs(c.peak-c.start)+1) {
			t.Errorf("from %d the tuner reached the peak at %d after %d products", c.start, c.peak, reached)
		}
		if at[c.peak] < 9000 {
			t.Errorf("from %d with the peak at %d: in the last 10000 products the tuner sat at %v", c.start, c.peak, at)
		}
		if got := streamDistance.Load(); got != distances[tu.cur] {
			t.Errorf("after tuning the loops use %d, the tuner's distance is %d", got, distances[tu.cur])
		}
	}
}

func abs(x int) int { return max(x, -x) }
