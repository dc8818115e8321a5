package expert

import "math"

// Buckets of the fmoe policy's learned table.
var (
	// fmoeAges are the upper bounds of the age buckets, in passes since the
	// expert's last use at its next chance to be used; the last bucket holds
	// older and never-used experts.
	fmoeAges = [...]int32{1, 2, 3, 4, 8, 16, 64}
)

const (
	fmoeAgeBuckets = len(fmoeAges) + 1
	// fmoeLevelCount is the number of predicted-activation buckets: h falls
	// in bucket floor(10*sqrt(h)), whose lower bounds are 0, 0.01, 0.04,
	// 0.09, ..., 0.81.
	fmoeLevelCount = 10
	// fmoePrefetchAt is the probability of use above which fmoe prefetches.
	fmoePrefetchAt = 0.4
	// fmoeHalveAt bounds the table's counts so that it keeps adapting.
	fmoeHalveAt = 1 << 14
	// fmoeNever is the last-use pass of an expert never used.
	fmoeNever = -1 << 30
)

// fmoeCell counts, for one (age, activation) bucket, the chances experts
// had to be used and the uses.
type fmoeCell struct{ n, u float32 }

// fmoe is the fine-grained policy, after fMoE (Yu et al. 2025): it scores
// every expert with its probability of being used at its layer's next pass,
// estimated online from three signals:
//
//   - trajectory: how many passes ago the expert was last used (its age);
//   - semantic: the activation predicted from the request history (the
//     same Expert Activation Matrix match as the activation policy);
//   - speculative: whether the next layer's router, applied to the current
//     hidden state, guessed it (see Guess).
//
// The first two index a table (8 age buckets x 10 activation buckets) of
// how often experts in each bucket were in fact used, learned from every
// Route; a guessed expert's probability p becomes 1-(1-p)(1-a), where a is
// the guesses' measured accuracy. Eviction takes the resident expert of
// lowest probability (least recently used among equals); prefetch suggests
// the next layer's experts with probability at least 0.4, highest first.
// Where routing is sticky the table learns that recent experts are likely,
// where it is skewed that popular ones are, and where guesses are good that
// guessed ones are.
//
// Memory: the activation policy's matrices, a 4-byte last-use pass per
// expert, per-layer guess flags and scratch, and the table:
// 76*layers*experts + 18*experts + 640 bytes.
type fmoe struct {
	base
	m         eam
	lastUse   []int32 // pass of the last use of each expert
	pass      int32
	lastLayer int
	table     [fmoeAgeBuckets][fmoeLevelCount]fmoeCell
	// The table as p = a + b*h, where h is the predicted activation:
	// (u + 2h) / (n + 2), the observed rate with 2 pseudo-chances at h.
	ta, tb     [fmoeAgeBuckets][fmoeLevelCount]float32
	guessP     float64 // measured accuracy of guesses, smoothed
	guessLayer int
	guessed    []bool
	used       []bool // scratch: this layer's routed experts
	guessN     float64
	guessU     float64
	cands      []cand
}

func newFMoE(b base) *fmoe {
	f := &fmoe{base: b, m: newEAM(b.layers, b.experts), lastUse: make([]int32, b.layers*b.experts),
		lastLayer: -1, guessLayer: -1, guessed: make([]bool, b.experts), used: make([]bool, b.experts),
		cands: make([]cand, b.experts)}
	for i := range f.lastUse {
		f.lastUse[i] = fmoeNever
	}
	f.refresh()
	return f
}

// refresh recomputes the table's coefficients and the guess accuracy.
func (f *fmoe) refresh() {
	for a := range f.table {
		for b, c := range f.table[a] {
			f.ta[a][b] = c.u / (c.n + 2)
			f.tb[a][b] = 2 / (c.n + 2)
		}
	}
	f.guessP = (f.guessU + 1) / (f.guessN + 2)
}

func (*fmoe) Name() string { return "fmoe" }

func (*fmoe) ExtraBytes(layers, experts int) int64 {
	return eamBytes(layers, experts) + 4*int64(layers)*int64(experts) + 18*int64(experts) +
		int64(fmoeAgeBuckets*fmoeLevelCount*8)
}

func (f *fmoe) BeginRequest() { f.m.begin() }
func (f *fmoe) EndRequest()   { f.m.end() }

func ageBucket(age int32) int {
	if age <= 4 {
		return int(max(age, 1)) - 1
	}
	for i := 4; i < len(fmoeAges); i++ {
		if age <= fmoeAges[i] {
			return i
		}
	}
	return len(fmoeAges)
}

func levelBucket(h float32) int {
	return min(int(10*float32(math.Sqrt(float64(max(h, 0))))), fmoeLevelCount-1)
}

func (f *fmoe) Route(layer, n int, experts []int, _ []float32) {
	if layer <= f.lastLayer {
		f.pass++
	}
	f.lastLayer = layer
	for _, e := range experts {
		f.index(Key{layer, e})
		f.used[e] = true
	}
	// Learn from this layer: every expert had a chance; some were used.
	row := layer * f.experts
	for e := 0; e < f.experts; e++ {
		i := row + e
		c := &f.table[ageBucket(f.pass-f.lastUse[i])][levelBucket(f.m.predict(i))]
		c.n++
		if f.used[e] {
			c.u++
		}
		if c.n >= fmoeHalveAt {
			c.n, c.u = c.n/2, c.u/2
		}
	}
	if layer == f.guessLayer {
		for e, g := range f.guessed {
			if g {
				f.guessN++
				if f.used[e] {
					f.guessU++
				}
			}
		}
		if f.guessN >= fmoeHalveAt {
			f.guessN, f.guessU = f.guessN/2, f.guessU/2
		}
		clear(f.guessed)
		f.guessLayer = -1
	}
	f.m.route(layer, n, experts)
	for _, e := range experts {
		f.lastUse[row+e] = f.pass
		f.used[e] = false
	}
	f.refresh()
}

func (f *fmoe) Guess(layer int, experts []int) {
	f.index(Key{layer, 0})
	clear(f.guessed)
	f.guessLayer = layer
	for _, e := range experts {
		f.index(Key{layer, e})
		f.guessed[e] = true
	}
}

// Priority is the estimated probability that k is used at its layer's next
// pass: this pass if the pass has not reached k's layer yet, else the next.
func (f *fmoe) Priority(k Key) float64 {
	i := f.index(k)
	next := f.pass
	if k.Layer <= f.lastLayer {
		next++
	}
	h := f.m.predict(i)
	a, b := ageBucket(next-f.lastUse[i]), levelBucket(h)
	p := float64(f.ta[a][b] + f.tb[a][b]*h)
	if k.Layer == f.guessLayer && f.guessed[k.Expert] {
		p = 1 - (1-p)*(1-f.guessP)
	}
	return p
}

func (f *fmoe) Suggest(dst []Key, layer, max int) []Key {
	if max <= 0 {
		return dst
	}
	f.index(Key{layer, 0})
	c := f.cands[:f.experts]
	for e := range c {
		c[e] = cand{e, f.Priority(Key{layer, e})}
	}
	return bestOf(dst, layer, c, fmoePrefetchAt, max)
}
