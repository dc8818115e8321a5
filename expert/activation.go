package expert

import (
	"math"
	"slices"
)

// eamStore is how many past requests' activation matrices the
// activation-aware policies keep.
const eamStore = 16

// eamWarmup is the number of tokens after which a request's own activation
// counts weigh as much as the matched history in the prediction.
const eamWarmup = 8

// eam tracks Expert Activation Matrices (MoE-Infinity): the current
// request's matrix (layers x experts, how many of its tokens each expert
// served) and a ring of the last eamStore requests' matrices, stored as
// fractions of their tokens. The current matrix is matched against the
// stored ones by cosine similarity; the best match predicts what the rest
// of the request will use.
type eam struct {
	layers, experts int
	cur             []float32 // current request's counts
	tokens          int       // tokens routed in the current request
	lastLayer       int       // layer of the last route, -1 before any
	nextMatch       int       // token count at which to match again
	store           [][]float32
	stored, next    int
	match           []float32 // predicted per-token activation from history; nil: none
	mean            []float32 // scratch: the mean of the store
	// predict = wOwn*cur[i] + wMatch*match[i], set by weigh.
	wOwn, wMatch float32
}

func newEAM(layers, experts int) eam {
	n := layers * experts
	return eam{layers: layers, experts: experts, cur: make([]float32, n), lastLayer: -1, nextMatch: 1,
		store: make([][]float32, eamStore), mean: make([]float32, n)}
}

// eamBytes is the memory of an eam for layers x experts.
func eamBytes(layers, experts int) int64 {
	return 4 * int64(layers) * int64(experts) * (eamStore + 2)
}

// begin starts a request: the prior is the mean of the stored requests.
func (m *eam) begin() {
	clear(m.cur)
	m.tokens, m.lastLayer, m.nextMatch = 0, -1, 1
	m.match = nil
	if m.stored == 0 {
		return
	}
	clear(m.mean)
	w := 1 / float32(m.stored)
	for _, s := range m.store[:m.stored] {
		for i, v := range s {
			m.mean[i] += w * v
		}
	}
	m.match = m.mean
	m.weigh()
}

// weigh sets predict's weights: the matched history early in a request,
// the request's own counts more and more as it goes on.
func (m *eam) weigh() {
	m.wOwn, m.wMatch = 0, 0
	if m.tokens > 0 {
		m.wOwn = 1 / float32(m.tokens)
	}
	if m.match != nil {
		w := float32(m.tokens) / float32(m.tokens+eamWarmup)
		m.wOwn *= w
		m.wMatch = 1 - w
	}
}

// end files the request's matrix in the store.
func (m *eam) end() {
	if m.tokens > 0 {
		s := m.store[m.next]
		if s == nil {
			s = make([]float32, len(m.cur))
			m.store[m.next] = s
		}
		inv := 1 / float32(m.tokens)
		for i, v := range m.cur {
			s[i] = v * inv
		}
		m.next = (m.next + 1) % len(m.store)
		m.stored = min(m.stored+1, len(m.store))
	}
	clear(m.cur)
	m.tokens, m.lastLayer, m.nextMatch = 0, -1, 1
	m.match = nil
	m.weigh()
}

// route counts one layer's routing of a pass of n tokens.
func (m *eam) route(layer, n int, experts []int) {
	if layer <= m.lastLayer || m.lastLayer < 0 {
		if m.tokens >= m.nextMatch && m.stored > 0 {
			m.rematch()
			m.nextMatch = min(2*m.tokens, m.tokens+16)
		}
		m.tokens += max(n, 1)
		m.weigh()
	}
	m.lastLayer = layer
	row := m.cur[layer*m.experts : (layer+1)*m.experts]
	for _, e := range experts {
		row[e]++
	}
}

// rematch points match at the stored matrix most similar to the current one.
func (m *eam) rematch() {
	var cn float64
	for _, v := range m.cur {
		cn += float64(v) * float64(v)
	}
	if cn == 0 {
		return
	}
	best, bestSim := -1, 0.0
	for j, s := range m.store[:m.stored] {
		var dot, sn float64
		for i, v := range s {
			dot += float64(v) * float64(m.cur[i])
			sn += float64(v) * float64(v)
		}
		if sn == 0 {
			continue
		}
		if sim := dot / math.Sqrt(sn*cn); sim > bestSim {
			best, bestSim = j, sim
		}
	}
	if best >= 0 {
		m.match = m.store[best]
	}
}

// predict returns the expected fraction of the request's tokens that route
// to expert i (layer*experts+expert): the matched history early in a
// request, its own counts more and more as it goes on.
func (m *eam) predict(i int) float32 {
	v := m.wOwn * m.cur[i]
	if m.match != nil {
		v += m.wMatch * m.match[i]
	}
	return v
}

// cand is a prefetch candidate.
type cand struct {
	e int
	p float64
}

// bestOf appends to dst up to max of cands with p >= min, best first.
func bestOf(dst []Key, layer int, cands []cand, minP float64, max int) []Key {
	n := 0
	for _, c := range cands {
		if c.p >= minP && c.p > 0 {
			cands[n] = c
			n++
		}
	}
	cands = cands[:n]
	slices.SortFunc(cands, func(a, b cand) int {
		switch {
		case a.p > b.p:
			return -1
		case a.p < b.p:
			return 1
		}
		return a.e - b.e
	})
	for i, c := range cands {
		if i >= max {
			break
		}
		dst = append(dst, Key{layer, c.e})
	}
	return dst
}

// activation is MoE-Infinity's activation-aware policy. Each request builds
// an Expert Activation Matrix (EAM: layers x experts, how many tokens each
// expert served); the last 16 requests' EAMs are kept. The current EAM is
// matched by cosine similarity against them (after 1, 2, 4, 8, 16 tokens,
// then every 16), and the best match, blended with the request's own counts
// as they accumulate (equal weight after 8 tokens), predicts each expert's
// activation: the fraction of the request's tokens that will use it. At the
// start of a request the prediction is the mean of the stored EAMs.
//
// Eviction: the resident expert with the lowest predicted activation, least
// recently used first among equals. Prefetch: the next layer's experts
// predicted above the layer's average, highest first.
//
// Memory: 18 float32 matrices of layers x experts (16 stored, the current,
// a scratch mean) plus a candidate list: 72*layers*experts + 16*experts bytes.
type activation struct {
	base
	m     eam
	cands []cand
}

func newActivation(b base) *activation {
	return &activation{base: b, m: newEAM(b.layers, b.experts), cands: make([]cand, b.experts)}
}

func (*activation) Name() string { return "activation" }

func (*activation) ExtraBytes(layers, experts int) int64 {
	return eamBytes(layers, experts) + 16*int64(experts)
}

func (p *activation) BeginRequest() { p.m.begin() }
func (p *activation) EndRequest()   { p.m.end() }

func (p *activation) Route(layer, n int, experts []int, _ []float32) {
	for _, e := range experts {
		p.index(Key{layer, e})
	}
	p.m.route(layer, n, experts)
}

func (p *activation) Priority(k Key) float64 { return float64(p.m.predict(p.index(k))) }

func (p *activation) Suggest(dst []Key, layer, max int) []Key {
	if max <= 0 {
		return dst
	}
	p.index(Key{layer, 0})
	var sum float64
	c := p.cands[:p.experts]
	for e := range c {
		v := float64(p.m.predict(layer*p.experts + e))
		c[e] = cand{e, v}
		sum += v
	}
	return bestOf(dst, layer, c, sum/float64(p.experts), max)
}
