package trace

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"ferry/expert"
)

// small returns a small random trace for the reference comparisons.
func small(seed uint64, loc float64) *Trace {
	o := DefaultSynthOptions()
	o.Tokens, o.Layers, o.Experts, o.TopK, o.Requests, o.Locality, o.Seed = 120, 3, 6, 2, 4, loc, seed
	return Synth(o)
}

// naiveSim replays f with capacity slots, never evicting a key of the
// current step; victim picks among the evictable resident keys.
func naiveSim(f *flat, capacity int, victim func(s, p int, cands []int32) int32) float64 {
	res := map[int32]bool{}
	hits := 0
	for s := 0; s < f.steps(); s++ {
		cur := map[int32]bool{}
		for p := int(f.start[s]); p < int(f.start[s+1]); p++ {
			x := f.keys[p]
			switch {
			case res[x]:
				hits++
			case len(res) < capacity:
				res[x] = true
			default:
				var cands []int32
				for y := range res {
					if !cur[y] {
						cands = append(cands, y)
					}
				}
				if len(cands) > 0 {
					delete(res, victim(s, p, cands))
					res[x] = true
				}
			}
			cur[x] = true
		}
	}
	return float64(hits) / float64(len(f.keys))
}

func naiveBelady(f *flat, capacity int) float64 {
	return naiveSim(f, capacity, func(_, p int, cands []int32) int32 {
		best, bestNext := cands[0], -1
		for _, y := range cands {
			next := len(f.keys)
			for q := p + 1; q < len(f.keys); q++ {
				if f.keys[q] == y {
					next = q
					break
				}
			}
			if next > bestNext || (next == bestNext && y < best) {
				best, bestNext = y, next
			}
		}
		return best
	})
}

func naiveSCH(f *flat, capacity, m int) float64 {
	last := map[int32]int{}
	return naiveSim(f, capacity, func(s, p int, cands []int32) int32 {
		clear(last) // position of each key's last use before p
		for q := 0; q < p; q++ {
			last[f.keys[q]] = q
		}
		best, bestCnt, bestLast := int32(-1), 0, 0
		for _, y := range cands {
			cnt := 0
			for s2 := s + 1; s2 <= s+m*f.layers && s2 < f.steps(); s2++ {
				for _, z := range f.step(s2) {
					if z == y {
						cnt++
					}
				}
			}
			if best < 0 || cnt < bestCnt || (cnt == bestCnt && last[y] < bestLast) {
				best, bestCnt, bestLast = y, cnt, last[y]
			}
		}
		return best
	})
}

func TestBeladyAndSCHMatchNaive(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		tr := small(seed, 0.4)
		f := flatten(tr)
		for _, c := range []int{1, 2, 5, 9} {
			if got, want := belady(f, c), naiveBelady(f, c); got != want {
				t.Errorf("seed %d cache %d: belady %v, naive %v", seed, c, got, want)
			}
			for _, m := range []int{1, 4} {
				if got, want := sch(f, c, m), naiveSCH(f, c, m); got != want {
					t.Errorf("seed %d cache %d m %d: sch %v, naive %v", seed, c, m, got, want)
				}
			}
		}
	}
}

// naiveSRP computes SRP from the definition: for every threshold, count
// TP, FP, FN over every (window, expert) pair of the given layers.
func naiveSRP(tr *Trace, m int, layers []int) float64 {
	best := 0.0
	for a := 1; a <= m; a++ {
		var tp, fp, fn float64
		T := tr.Tokens
		for s := 0; s+m <= len(T); s++ {
			if T[s].Req != T[s+m-1].Req {
				continue
			}
			for _, l := range layers {
				for e := 0; e < tr.Header.Experts; e++ {
					f := 0
					for i := s; i < s+m; i++ {
						for _, x := range T[i].Layers[l].Experts {
							if x == e {
								f++
							}
						}
					}
					if f >= a {
						tp += float64(f)
						fp += float64(m - f)
					} else {
						fn += float64(f)
					}
				}
			}
		}
		if v := 2 * tp / (2*tp + fp + fn); v > best {
			best = v
		}
	}
	return best
}

func TestSRPMatchesDefinition(t *testing.T) {
	tr := small(7, 0.5)
	f := flatten(tr)
	all := []int{0, 1, 2}
	for _, m := range []int{1, 2, 4, 8} {
		r := srp(tr, f, m)
		if want := naiveSRP(tr, m, all); math.Abs(r.SRP-want) > 1e-12 {
			t.Errorf("m %d: SRP %v, definition %v", m, r.SRP, want)
		}
		var layerMean float64
		for _, l := range all {
			layerMean += naiveSRP(tr, m, []int{l}) / 3
		}
		if math.Abs(r.LayerSRP-layerMean) > 1e-12 {
			t.Errorf("m %d: layer SRP %v, definition %v", m, r.LayerSRP, layerMean)
		}
	}
}

func TestSRPByHand(t *testing.T) {
	// One layer, two experts, top-1: 0 0 1 1. Windows of 2: f(e0) = 2,1,0
	// and f(e1) = 0,1,2. Threshold 1: TP 6, predicted 4 pairs x 2 tokens:
	// F1 = 12/(8+6) = 6/7; threshold 2: 8/(4+6) = 0.8.
	tr := &Trace{Header: Header{Layers: 1, Experts: 2, TopK: 1}}
	for i, e := range []int{0, 0, 1, 1} {
		tr.Tokens = append(tr.Tokens, Token{Req: 0, Tok: i, Layers: []Route{{Experts: []int{e}}}})
	}
	r := srp(tr, flatten(tr), 2)
	if math.Abs(r.SRP-6.0/7) > 1e-12 || math.Abs(r.SRPSizeRatio-4.0/3) > 1e-12 || r.Windows != 3 {
		t.Fatalf("SRP %v ratio %v windows %d; want 6/7, 4/3, 3", r.SRP, r.SRPSizeRatio, r.Windows)
	}
	// Segments longer than every request give no windows, not NaN.
	if r := srp(tr, flatten(tr), 5); r.Windows != 0 || r.SRP != 0 {
		t.Fatalf("m 5: %+v", r)
	}
}

// locality returns the trace of the targets: Mixtral's shape, skew 1.0,
// locality 0.6, 16 requests of 4 patterns.
func locality(tokens int, spec float64) *Trace {
	o := DefaultSynthOptions()
	o.Tokens, o.SpecAccuracy = tokens, spec
	return Synth(o)
}

// TestBestPolicyNearBelady is the target: on a synthetic trace with
// locality (skew 1.0, locality 0.6, 32 layers x 8 experts, top-2), with a
// cache of 25% and of 50% of the experts, the best policy's hit rate is
// within 10 points of Belady's. The trace has no speculative guesses, so
// no policy gets the gate signal.
func TestBestPolicyNearBelady(t *testing.T) {
	tr := locality(4096, 0)
	for _, c := range []int{64, 96, 128} {
		r := AnalyzeWith(tr, Options{CacheExperts: c, Segments: []int{}})
		var best PolicyReport
		for _, p := range r.Policies {
			if p.HitRate > best.HitRate {
				best = p
			}
		}
		t.Logf("cache %d: belady %.1f%%, best %s %.1f%%", c, 100*r.Belady, best.Name, 100*best.HitRate)
		if best.HitRate < r.Belady-0.10 {
			t.Errorf("cache %d: best policy %s %.1f%% is more than 10 points below Belady's %.1f%%",
				c, best.Name, 100*best.HitRate, 100*r.Belady)
		}
		if best.HitRate > r.Belady+1e-9 && best.Stats.Prefetches == 0 {
			t.Errorf("cache %d: %s beats Belady without prefetching", c, best.Name)
		}
	}
}

// TestActivationBeatsLRU: with requests that repeat patterns and little
// temporal locality, matching the request's activation matrix against
// history beats recency.
func TestActivationBeatsLRU(t *testing.T) {
	o := DefaultSynthOptions()
	o.Tokens, o.Locality, o.Requests, o.Patterns = 4096, 0, 16, 4
	r := AnalyzeWith(Synth(o), Options{CacheExperts: 96, Policies: []string{"lru", "activation"}, Segments: []int{}})
	lru, act := r.Policies[0], r.Policies[1]
	t.Logf("lru %.1f%%, activation %.1f%%, belady %.1f%%", 100*lru.HitRate, 100*act.HitRate, 100*r.Belady)
	if act.HitRate < lru.HitRate+0.10 {
		t.Fatalf("activation %.1f%% does not beat lru %.1f%% by 10 points", 100*act.HitRate, 100*lru.HitRate)
	}
}

// TestSpeculativePrefetch: with guesses right 80% of the time, the
// speculative policy's prefetches are used about 80% of the time and lift
// its hit rate above plain LRU's.
func TestSpeculativePrefetch(t *testing.T) {
	r := AnalyzeWith(locality(2048, 0.8), Options{CacheExperts: 64, Policies: []string{"lru", "speculative", "fmoe"}, Segments: []int{}})
	lru, spec, fm := r.Policies[0], r.Policies[1], r.Policies[2]
	if math.Abs(spec.PrefetchAccuracy-0.8) > 0.05 {
		t.Errorf("speculative prefetch accuracy %.3f, guesses are right 80%% of the time", spec.PrefetchAccuracy)
	}
	if spec.HitRate <= lru.HitRate || fm.HitRate <= lru.HitRate {
		t.Errorf("hit rates: lru %.3f, speculative %.3f, fmoe %.3f", lru.HitRate, spec.HitRate, fm.HitRate)
	}
	if !r.HasSpec || spec.Stats.Prefetches == 0 {
		t.Errorf("no prefetches from guesses: %+v", spec.Stats)
	}
	if got := spec.Stats.Hits + spec.Stats.Misses; got != r.Accesses {
		t.Errorf("%d accesses replayed, trace has %d", got, r.Accesses)
	}
}

func TestReportSaysSynthetic(t *testing.T) {
	r := AnalyzeWith(locality(256, 0), Options{CacheExperts: 64, Policies: []string{"lru", "nope"}})
	if !r.Synthetic || !strings.Contains(r.String(), "synthetic trace") {
		t.Fatalf("report of a synthetic trace does not say so:\n%s", r)
	}
	if r.Policies[1].Error == "" || !strings.Contains(r.String(), "error") {
		t.Fatalf("unknown policy not reported: %+v", r.Policies[1])
	}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"synthetic":true`) {
		t.Fatalf("JSON %s, %v", b, err)
	}
	if len(r.Segments) != len(DefaultSegments) || r.Best != "lru" {
		t.Fatalf("segments %d, best %q", len(r.Segments), r.Best)
	}
	// A recorded trace carries no such note.
	tr := locality(64, 0)
	tr.Header.Synthetic, tr.Header.Model, tr.Header.Generator = false, "mixtral", nil
	if r := Analyze(tr, 64, []string{"lru"}); r.Synthetic || strings.Contains(r.String(), "synthetic") {
		t.Fatal("a non-synthetic trace reported as synthetic")
	}
	// Empty traces and tiny caches do not break anything.
	tr.Tokens = nil
	Analyze(tr, 0, nil)
}

// BenchmarkAnalyze measures the analysis of a 10k-token trace of 32 layers
// (Mixtral's shape, with guesses), whole and by part.
func BenchmarkAnalyze(b *testing.B) {
	tr := locality(10000, 0.8)
	b.Run("all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Analyze(tr, 64, nil)
		}
	})
	for _, name := range expert.Names() {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				AnalyzeWith(tr, Options{CacheExperts: 64, Policies: []string{name}, Segments: []int{}})
			}
		})
	}
	f := flatten(tr)
	b.Run("belady", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			belady(f, 64)
		}
	})
	b.Run("srp+sch", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, m := range DefaultSegments {
				srp(tr, f, m)
				sch(f, 64, m)
			}
		}
	})
}
