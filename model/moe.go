package model

import (
	"ferry/dtype"
	"ferry/kernels"
)

// ExpertSource hands out MoE experts one at a time: an expert cache.
type ExpertSource interface {
	// Fetch announces the experts of layer a batch will use, with each
	// one's largest router weight, and returns the order to run them in
	// (resident first, so misses read meanwhile).
	Fetch(layer int, experts []int, weights []float32) []int
	// Acquire returns expert e's gate, up and down matrices and their types.
	Acquire(layer, e int) (mats [3][]byte, types [3]dtype.Type)
	// Release gives back an acquired expert.
	Release(layer, e int)
	// Ready reports, without waiting, whether expert e of layer is present.
	Ready(layer, e int) bool
}

// RoutingObserver is told every MoE routing decision: the expert cache's
// policy learns from it, and routing traces record it.
type RoutingObserver interface {
	// Route reports the experts a layer chose for n tokens, k per token,
	// best first, with their gate weights.
	Route(layer, n int, experts []int, weights []float32)
	// Guess reports the speculative guess for a layer, k per token: the
	// experts its router picks from the previous layer's output.
	Guess(layer, n int, experts []int)
}

// MoE is a mixture-of-experts feed-forward: a router picks the top experts
// for each token and their SwiGLU outputs are summed, weighted by the router.
// Shared, when present, is an always-on expert scaled by sigmoid(SharedGate x).
type MoE struct {
	Router         Linear
	Gate, Up, Down Experts
	Shared         *FeedForward
	SharedGate     *Linear
}

// speculate guesses the experts layer l will pick by applying its router to
// the hidden state as it leaves layer l-1, and reports the guess.
func (m *Transformer) speculate(l int, x []float32, n int) {
	s := &m.s
	next := m.Layers[l]
	xn := s.specIn[:n*m.Dim]
	rmsNorm(xn, x, next.FFNNorm, m.NormEps)
	k := m.ExpertsUsed
	idx, w := s.specIdx[:n*k], s.specW[:n*k]
	next.MoE.route(m, xn, n, idx, w)
	m.Routing.Guess(l, n, idx)
}

// route picks each token's top experts from the router logits and returns
// their indices and weights, ExpertsUsed per token.
func (e *MoE) route(m *Transformer, xn []float32, n int, idx []int, w []float32) {
	probs := m.s.router[:n*m.Experts]
	e.Router.Forward(m, probs, xn, n)
	k := m.ExpertsUsed
	for i := 0; i < n; i++ {
		p := probs[i*m.Experts : (i+1)*m.Experts]
		softmax(p)
		sel := idx[i*k : (i+1)*k]
		topK(p, sel)
		var sum float32
		for j, ex := range sel {
			w[i*k+j] = p[ex]
			sum += p[ex]
		}
		if m.NormTopK {
			for j := range sel {
				w[i*k+j] /= sum
			}
		}
	}
}

// topK fills sel with the indices of the len(sel) largest values of p,
// largest first; ties go to the lower index.
func topK(p []float32, sel []int) {
	for j := range sel {
		best := -1
		for e, v := range p {
			taken := false
			for _, s := range sel[:j] {
				if s == e {
					taken = true
					break
				}
			}
			if !taken && (best < 0 || v > p[best]) {
				best = e
			}
		}
		sel[j] = best
	}
}

// forward routes each token to its experts, runs every selected expert on the
// tokens that chose it, and sums the weighted outputs (plus the shared
// expert). Experts run in ascending order, one projection at a time (all
// gates, all ups, all downs), the order the schedule streams them in.
func (e *MoE) forward(m *Transformer, l int, out, xn []float32, n int) {
	s := &m.s
	k := m.ExpertsUsed
	idx, weights := s.moeIdx[:n*k], s.moeWeights[:n*k]
	e.route(m, xn, n, idx, weights)
	if m.Routing != nil {
		m.Routing.Route(l, n, idx, weights)
	}

	// Order the (token, choice) slots by expert: a counting sort.
	count := s.moeCount[:m.Experts+1]
	clear(count)
	for _, ex := range idx {
		count[ex+1]++
	}
	for ex := 1; ex <= m.Experts; ex++ {
		count[ex] += count[ex-1]
	}
	order := s.moeOrder[:n*k]
	fill := s.moeFill[:m.Experts]
	copy(fill, count[:m.Experts])
	for slot, ex := range idx {
		order[fill[ex]] = slot
		fill[ex]++
	}
	in := s.moeIn[:n*k*m.Dim]
	for r, slot := range order {
		tok := slot / k
		copy(in[r*m.Dim:(r+1)*m.Dim], xn[tok*m.Dim:(tok+1)*m.Dim])
	}
	hidden := e.Gate.Out()
	gate, up := s.moeGate[:n*k*hidden], s.moeUp[:n*k*hidden]
	res := s.moeOut[:n*k*m.Dim]
	if m.ExpertCache != nil {
		e.runCached(m, l, count, order, weights, in, gate, up, res)
	} else {
		e.runScheduled(m, count, in, gate, up, res)
	}
	clear(out)
	for r, slot := range order {
		tok := slot / k
		axpy(out[tok*m.Dim:(tok+1)*m.Dim], weights[slot], res[r*m.Dim:(r+1)*m.Dim])
	}
	if e.Shared != nil {
		acc := s.moeAcc[:n*m.Dim]
		e.Shared.forward(m, acc, xn, n, nil, nil)
		g := s.router[:n]
		e.SharedGate.Forward(m, g, xn, n)
		for i := 0; i < n; i++ {
			axpy(out[i*m.Dim:(i+1)*m.Dim], sigmoid(g[i]), acc[i*m.Dim:(i+1)*m.Dim])
		}
	}
}

// runScheduled runs the selected experts through the tier's schedule: all
// gates, all ups, all downs, experts in ascending order. count holds the
// expert boundaries of the rows of in (a prefix sum).
func (e *MoE) runScheduled(m *Transformer, count []int, in, gate, up, res []float32) {
	hidden := e.Gate.Out()
	for ex := 0; ex < m.Config.Experts; ex++ {
		if r0, cnt := count[ex], count[ex+1]-count[ex]; cnt > 0 {
			e.Gate.Forward(m, ex, gate[r0*hidden:(r0+cnt)*hidden], in[r0*m.Dim:(r0+cnt)*m.Dim], cnt)
		}
	}
	for ex := 0; ex < m.Config.Experts; ex++ {
		if r0, cnt := count[ex], count[ex+1]-count[ex]; cnt > 0 {
			e.Up.Forward(m, ex, up[r0*hidden:(r0+cnt)*hidden], in[r0*m.Dim:(r0+cnt)*m.Dim], cnt)
		}
	}
	m.swiglu(gate, up)
	for ex := 0; ex < m.Config.Experts; ex++ {
		if r0, cnt := count[ex], count[ex+1]-count[ex]; cnt > 0 {
			e.Down.Forward(m, ex, res[r0*m.Dim:(r0+cnt)*m.Dim], gate[r0*hidden:(r0+cnt)*hidden], cnt)
		}
	}
}

// runCached runs the selected experts from the expert cache, resident ones
// first so that the misses read from disk while they compute.
func (e *MoE) runCached(m *Transformer, l int, count []int, order []int, weights []float32, in, gate, up, res []float32) {
	s := &m.s
	hidden := e.Gate.Out()
	used, top := s.moeUsed[:0], s.moeTop[:0]
	for ex := 0; ex < m.Config.Experts; ex++ {
		if count[ex+1] > count[ex] {
			used = append(used, ex)
			var w float32
			for _, slot := range order[count[ex]:count[ex+1]] {
				w = max(w, weights[slot])
			}
			top = append(top, w)
		}
	}
	s.moeUsed, s.moeTop = used, top
	// Run each expert as soon as it is present: resident ones first (Fetch
	// puts them there), then whichever read finishes next; when none has,
	// wait for the earliest.
	pending := append(s.moePending[:0], m.ExpertCache.Fetch(l, used, top)...)
	s.moePending = pending
	for len(pending) > 0 {
		pick := 0
		for i, ex := range pending {
			if m.ExpertCache.Ready(l, ex) {
				pick = i
				break
			}
		}
		ex := pending[pick]
		pending = append(pending[:pick], pending[pick+1:]...)
		r0, cnt := count[ex], count[ex+1]-count[ex]
		w, types := m.ExpertCache.Acquire(l, ex)
		xs := in[r0*m.Dim : (r0+cnt)*m.Dim]
		gs, us := gate[r0*hidden:(r0+cnt)*hidden], up[r0*hidden:(r0+cnt)*hidden]
		kernels.MatMul(gs, w[0], types[0], xs, cnt)
		kernels.MatMul(us, w[1], types[1], xs, cnt)
		m.swiglu(gs, us)
		kernels.MatMul(res[r0*m.Dim:(r0+cnt)*m.Dim], w[2], types[2], gs, cnt)
		m.ExpertCache.Release(l, ex)
	}
}
