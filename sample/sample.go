// Package sample picks the next token from a vector of logits: greedily, or
// at random after repetition penalty, top-k, top-p, min-p and temperature,
// applied in that order as llama.cpp's default chain does.
package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"unsafe"

	"ferry/kernels"
)

// Params configures a Sampler. The zero value samples greedily.
type Params struct {
	// Temperature divides the logits; 0 or less means greedy (argmax).
	Temperature float32
	// TopK keeps the K most likely tokens; 0 keeps all.
	TopK int
	// TopP keeps the smallest set of tokens whose probabilities reach P; 1 keeps all.
	TopP float32
	// MinP drops tokens whose probability is below MinP times the top one's; 0 keeps all.
	MinP float32
	// RepeatPenalty divides positive logits (multiplies negative ones) of tokens
	// among the last RepeatLastN; 1 disables it.
	RepeatPenalty float32
	// RepeatLastN is how many recent tokens the penalty looks at.
	RepeatLastN int
	// Seed makes random sampling reproducible.
	Seed uint64
}

// Defaults returns llama.cpp's default sampling parameters.
func Defaults() Params {
	return Params{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1, RepeatLastN: 64}
}

// Sampler draws tokens according to Params. It reuses its buffers, so one
// Sampler serves one sequence.
type Sampler struct {
	p      Params
	rng    *rand.Rand
	cand   []candidate
	heap   []candidate
	recent []int32
	// work holds the penalized logits, exps their exponentials, sums
	// drawAll's block sums and mass nucleusByBuckets' buckets.
	work, exps []float32
	sums, mass []float64
}

type candidate struct {
	id    int32
	logit float32
	p     float32
}

// ScratchBytes is the most memory a Sampler holds for a vocabulary of
// vocab tokens: the penalized logits and their exponentials (4 bytes a
// token each), and candidates (12 bytes) for as many as the vocabulary,
// twice (list and heap), with the buckets and block sums.
func ScratchBytes(vocab int) int64 {
	return int64(vocab)*(4+4+2*int64(unsafe.Sizeof(candidate{}))) + numBuckets*8 + int64(vocab/drawBlock+1)*8
}

// New returns a sampler for p.
func New(p Params) *Sampler {
	if p.TopP <= 0 || p.TopP > 1 {
		p.TopP = 1
	}
	if p.RepeatPenalty <= 0 {
		p.RepeatPenalty = 1
	}
	return &Sampler{p: p, rng: rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))}
}

// Greedy returns the index of the largest logit (the lowest index on ties;
// NaNs never win, but one at index 0 is never beaten), with the vector
// kernel kernels.ArgMax.
func Greedy(logits []float32) int32 { return int32(kernels.ArgMax(logits)) }

// Accept records a token of the sequence (prompt or generated) for the
// repetition penalty.
func (s *Sampler) Accept(tok int32) {
	if s.p.RepeatLastN <= 0 {
		return
	}
	if len(s.recent) == s.p.RepeatLastN {
		copy(s.recent, s.recent[1:])
		s.recent = s.recent[:len(s.recent)-1]
	}
	s.recent = append(s.recent, tok)
}

// Sample picks the next token from logits. It does not modify logits.
//
// It never sorts the whole vocabulary: top-k selects its candidates with
// a bounded heap that most values pass with one comparison; top-p without
// top-k sorts the 64 best, and when their probability falls short finds
// its cut by buckets of logits (nucleusByBuckets); temperature alone draws
// from vector exponentials by blocks. On 32000 logits (BenchmarkSample) a
// token takes 50 µs with llama.cpp's defaults, 0.27 ms with top-p alone
// (a flat distribution, nucleus of thousands) and 0.05 ms with temperature
// alone, where building, sorting and exponentiating (float64) a candidate
// per token took 0.10, 4.3 and 0.63 ms.
func (s *Sampler) Sample(logits []float32) int32 {
	if s.p.Temperature <= 0 && s.p.RepeatPenalty == 1 {
		return Greedy(logits)
	}
	l := s.penalized(logits)
	if s.p.Temperature <= 0 {
		return int32(kernels.ArgMax(l))
	}
	if k := s.p.TopK; k > 0 && k < len(l) {
		return s.draw(s.top(l, k), false)
	}
	m := l[kernels.ArgMax(l)]
	if math.IsInf(float64(m), 0) {
		// An infinite logit, or none finite: the candidates at the
		// extreme share the weight (softmaxCand), which the general
		// path handles.
		return s.draw(s.top(l, len(l)), false)
	}
	if s.p.TopP < 1 {
		return s.draw(s.nucleus(l, m), true)
	}
	return s.drawAll(l, m)
}

// penalized returns the logits the filters see: a copy of logits with NaNs
// as -Inf (never chosen) and the repetition penalty applied.
func (s *Sampler) penalized(logits []float32) []float32 {
	if cap(s.work) < len(logits) {
		s.work = make([]float32, len(logits))
		s.exps = make([]float32, len(logits))
	}
	l := s.work[:len(logits)]
	negInf := float32(math.Inf(-1))
	for i, v := range logits {
		if v != v {
			v = negInf
		}
		l[i] = v
	}
	if s.p.RepeatPenalty != 1 {
		for i, t := range s.recent {
			if slices.Contains(s.recent[:i], t) {
				continue // each distinct token is penalized once
			}
			if int(t) < len(l) {
				if l[t] > 0 {
					l[t] /= s.p.RepeatPenalty
				} else {
					l[t] *= s.p.RepeatPenalty
				}
			}
		}
	}
	return l
}

// top returns the k best candidates of l, sorted by byLogit.
func (s *Sampler) top(l []float32, k int) []candidate {
	if 4*k < len(l) {
		s.cand, s.heap = topK(l, k, s.cand, s.heap)
		return s.cand
	}
	c := s.cand[:0]
	for i, v := range l {
		c = append(c, candidate{id: int32(i), logit: v})
	}
	slices.SortFunc(c, byLogit)
	s.cand = c
	return c[:k]
}

// nucleus returns the tokens of the smallest run of best candidates (in
// byLogit order) whose probabilities (softmax of l, whose maximum is m)
// reach TopP, each with its probability set. A peaked distribution's
// nucleus is among the 64 best, which are selected and sorted; a flatter
// one's is found by buckets of logits (nucleusByBuckets).
func (s *Sampler) nucleus(l []float32, m float32) []candidate {
	e := s.exps[:len(l)]
	copy(e, l)
	flushBelow(e, m-expRange)
	total := kernels.ExpShift(e, m)
	target := float64(s.p.TopP) * total
	c := s.top(l, min(64, len(l)))
	var cum float64
	for i := range c {
		cum += float64(e[c[i].id])
		if cum >= target || i == len(l)-1 {
			c = c[:i+1]
			for j := range c {
				c[j].p = float32(float64(e[c[j].id]) / total)
			}
			return c
		}
	}
	return s.nucleusByBuckets(l, e, m, target, total)
}

// Buckets of nucleusByBuckets: bucketsPerUnit per unit of logit below the
// maximum, down to expRange.
const (
	bucketsPerUnit = 8
	numBuckets     = expRange*bucketsPerUnit + 1
)

// nucleusByBuckets is nucleus for a nucleus of more than 64 tokens: the
// probability mass of the logits by buckets of 1/8 below the maximum,
// summed from the top, gives the bucket where the cumulative probability
// reaches the target; the tokens above it are all in the nucleus, and
// only that bucket's are sorted to find the cut. The tokens come in
// vocabulary order, then the boundary's in byLogit order: the draw's
// distribution does not depend on the order. e holds the exponentials
// (e^(l-m), zero below expRange), total their sum.
func (s *Sampler) nucleusByBuckets(l, e []float32, m float32, target, total float64) []candidate {
	if len(s.mass) < numBuckets {
		s.mass = make([]float64, numBuckets)
	}
	mass := s.mass[:numBuckets]
	clear(mass)
	bucket := func(v float32) int { return min(int((m-v)*bucketsPerUnit), numBuckets-1) }
	for i, v := range e {
		if v != 0 {
			mass[bucket(l[i])] += float64(v)
		}
	}
	var cum float64
	edge := numBuckets - 1
	for b, w := range mass {
		if cum+w >= target {
			edge = b
			break
		}
		cum += w
	}
	c, boundary := s.cand[:0], s.heap[:0]
	for i, v := range e {
		if v == 0 {
			continue
		}
		switch b := bucket(l[i]); {
		case b < edge:
			c = append(c, candidate{id: int32(i), logit: l[i], p: float32(float64(v) / total)})
		case b == edge:
			boundary = append(boundary, candidate{id: int32(i), logit: l[i]})
		}
	}
	slices.SortFunc(boundary, byLogit)
	for _, x := range boundary {
		x.p = float32(float64(e[x.id]) / total)
		c = append(c, x)
		if cum += float64(e[x.id]); cum >= target {
			break
		}
	}
	s.cand, s.heap = c, boundary
	return c
}

// draw applies top-p (unless the candidates are already its nucleus, with
// probabilities), min-p and the temperature to c, sorted candidates, and
// draws one.
func (s *Sampler) draw(c []candidate, nucleus bool) int32 {
	if !nucleus && (s.p.TopP < 1 || s.p.MinP > 0) { // only these filters need probabilities
		softmaxCand(c, 1)
	}
	if s.p.TopP < 1 && !nucleus {
		var cum float32
		for i := range c {
			cum += c[i].p
			if cum >= s.p.TopP {
				c = c[:i+1]
				break
			}
		}
	}
	if s.p.MinP > 0 {
		var top float32
		for _, x := range c {
			top = max(top, x.p)
		}
		limit := top * s.p.MinP
		keep := c[:0]
		for _, x := range c {
			if x.p >= limit {
				keep = append(keep, x)
			}
		}
		if len(keep) == 0 { // no finite probability: keep the best
			keep = append(keep, c[0])
		}
		c = keep
	}
	softmaxCand(c, s.p.Temperature)
	r := s.rng.Float32()
	var cum float32
	for _, x := range c {
		cum += x.p
		if r < cum {
			return x.id
		}
	}
	return c[len(c)-1].id
}

// expRange is how far below the maximum a (scaled) logit may be and still
// be exponentiated: e^-104 is below the smallest float32, and much lower
// values (a corrupt model's) are outside the range of kernels.ExpShift's
// vector exponential.
const expRange = 104

// flushBelow sets the values of x below low to -Inf, whose exponential is
// exactly zero.
func flushBelow(x []float32, low float32) {
	negInf := float32(math.Inf(-1))
	for i, v := range x {
		if v < low {
			x[i] = negInf
		}
	}
}

// drawBlock is how many logits drawAll exponentiates and sums at a time.
const drawBlock = 512

// drawAll draws from softmax(l / Temperature) over the whole vocabulary
// (min-p applied, no top-k or top-p), m being l's maximum and finite: the
// exponentials by blocks with their sums, then the block the draw falls
// in, then the token.
func (s *Sampler) drawAll(l []float32, m float32) int32 {
	t := 1 / s.p.Temperature
	mt := m * t
	if math.IsInf(float64(mt), 0) || math.IsNaN(float64(mt)) {
		// A temperature so low that the scaled logits overflow: the
		// general path divides differences instead.
		return s.draw(s.top(l, len(l)), false)
	}
	e := s.exps[:len(l)]
	copy(e, l)
	kernels.Scale(e, t)
	// Min-p keeps the tokens within a factor MinP of the best one's
	// probability (at temperature 1): logits at least m + ln(MinP).
	low := mt - expRange
	if s.p.MinP > 0 {
		low = max(low, (m+float32(math.Log(float64(s.p.MinP))))*t)
	}
	flushBelow(e, low)
	s.sums = s.sums[:0]
	var total float64
	for b := 0; b < len(e); b += drawBlock {
		sum := kernels.ExpShift(e[b:min(b+drawBlock, len(e))], m*t)
		s.sums = append(s.sums, sum)
		total += sum
	}
	target := float64(s.rng.Float32()) * total
	var cum float64
	last := 0
	for bi, sum := range s.sums {
		b := bi * drawBlock
		if cum+sum <= target {
			cum += sum
			if sum > 0 {
				last = b
			}
			continue
		}
		for i, v := range e[b:min(b+drawBlock, len(e))] {
			cum += float64(v)
			if v > 0 {
				last = b + i
				if target < cum {
					return int32(last)
				}
			}
		}
	}
	// Rounding left the draw past the last sum: the last token that had
	// any weight.
	for i := min(last+drawBlock, len(e)) - 1; i >= last; i-- {
		if e[i] > 0 {
			return int32(i)
		}
	}
	return int32(last)
}

// byLogit orders candidates by logit, largest first, lower id first on ties.
func byLogit(a, b candidate) int {
	switch {
	case a.logit > b.logit:
		return -1
	case a.logit < b.logit:
		return 1
	}
	return int(a.id - b.id)
}

// topK returns the k best of l as candidates sorted by byLogit (in dst's
// storage), with a bounded min-heap, O(n log k): each value past the first
// k is compared with the heap's worst and, most of the time, passed over
// (an equal logit comes later, with a higher id, so it ranks below). buf
// is scratch for the heap; both are returned for reuse.
func topK(l []float32, k int, dst, buf []candidate) ([]candidate, []candidate) {
	heap := buf[:0]
	worse := func(a, b candidate) bool { return byLogit(a, b) > 0 } // a ranks below b
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(heap) {
				return
			}
			m := l
			if r := l + 1; r < len(heap) && worse(heap[r], heap[l]) {
				m = r
			}
			if !worse(heap[m], heap[i]) {
				return
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
	}
	for i, v := range l {
		if len(heap) < k {
			heap = append(heap, candidate{id: int32(i), logit: v})
			for i := len(heap) - 1; i > 0; {
				p := (i - 1) / 2
				if !worse(heap[i], heap[p]) {
					break
				}
				heap[i], heap[p] = heap[p], heap[i]
				i = p
			}
			continue
		}
		if v > heap[0].logit {
			heap[0] = candidate{id: int32(i), logit: v}
			down(0)
		}
	}
	slices.SortFunc(heap, byLogit)
	return append(dst[:0], heap...), heap
}

// softmaxCand sets the probabilities of c from its logits divided by temp.
func softmaxCand(c []candidate, temp float32) {
	maxv := c[0].logit
	for _, x := range c {
		maxv = max(maxv, x.logit)
	}
	if math.IsInf(float64(maxv), 0) {
		// No finite logit (or an infinite one): all the weight goes to the
		// candidates at the extreme.
		for i := range c {
			c[i].p = 0
			if c[i].logit == maxv {
				c[i].p = 1
			}
		}
		return
	}
	var sum float64
	for i := range c {
		e := math.Exp(float64((c[i].logit - maxv) / temp))
		c[i].p = float32(e)
		sum += e
	}
	for i := range c {
		c[i].p = float32(float64(c[i].p) / sum)
	}
}
