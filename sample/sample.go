// Package sample picks the next token from a vector of logits: greedily, or
// at random after repetition penalty, top-k, top-p, min-p and temperature,
// applied in that order as llama.cpp's default chain does.
package sample

import (
	"math"
	"math/rand/v2"
	"slices"
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
}

type candidate struct {
	id    int32
	logit float32
	p     float32
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

// Greedy returns the index of the largest logit (the lowest index on ties).
func Greedy(logits []float32) int32 {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return int32(best)
}

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
func (s *Sampler) Sample(logits []float32) int32 {
	if s.p.Temperature <= 0 && s.p.RepeatPenalty == 1 {
		return Greedy(logits)
	}
	c := s.cand[:0]
	for i, v := range logits {
		if v != v { // NaN: never chosen
			v = float32(math.Inf(-1))
		}
		c = append(c, candidate{id: int32(i), logit: v})
	}
	s.cand = c
	if s.p.RepeatPenalty != 1 {
		for i, t := range s.recent {
			if slices.Contains(s.recent[:i], t) {
				continue // each distinct token is penalized once
			}
			if int(t) < len(c) {
				if c[t].logit > 0 {
					c[t].logit /= s.p.RepeatPenalty
				} else {
					c[t].logit *= s.p.RepeatPenalty
				}
			}
		}
		if s.p.Temperature <= 0 {
			best := 0
			for i := range c {
				if c[i].logit > c[best].logit {
					best = i
				}
			}
			return c[best].id
		}
	}
	sorted := false
	if k := s.p.TopK; k > 0 && k < len(c) {
		c, s.heap = keepTop(c, k, s.heap)
		sorted = true
	}
	if s.p.TopP < 1 && !sorted {
		slices.SortFunc(c, byLogit)
		sorted = true
	}
	if s.p.TopP < 1 || s.p.MinP > 0 { // only these filters need probabilities
		softmaxCand(c, 1)
	}
	if s.p.TopP < 1 {
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

// keepTop moves the k best candidates (by byLogit) to the front of c, sorted,
// and returns them: a bounded min-heap, O(n log k), instead of a full sort.
// buf is scratch for the heap, returned for reuse.
func keepTop(c []candidate, k int, buf []candidate) ([]candidate, []candidate) {
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
	for _, x := range c {
		if len(heap) < k {
			heap = append(heap, x)
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
		if worse(heap[0], x) {
			heap[0] = x
			down(0)
		}
	}
	slices.SortFunc(heap, byLogit)
	return append(c[:0], heap...), heap
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
