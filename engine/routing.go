package engine

import (
	"fmt"
	"io"

	"ferry/model"
	"ferry/trace"
)

// routers fans routing decisions out to several observers (the expert
// cache's policy and a trace recorder).
type routers []model.RoutingObserver

func (r routers) Route(layer, n int, experts []int, weights []float32) {
	for _, o := range r {
		o.Route(layer, n, experts, weights)
	}
}

func (r routers) Guess(layer, n int, experts []int) {
	for _, o := range r {
		o.Guess(layer, n, experts)
	}
}

// recorder writes a routing trace: per token, each MoE layer's chosen
// experts, their gate weights and the speculative guess made for it.
type recorder struct {
	w      *trace.Writer
	k      int
	layer  []int // model layer -> MoE layer index, -1 for dense
	rows   []rowOwner
	tokens []trace.Token
	err    error
}

// rowOwner says which request and position a row of a forward pass is.
type rowOwner struct{ req, pos int }

func newRecorder(w io.Writer, m *model.Transformer, name string) (*recorder, error) {
	r := &recorder{k: m.ExpertsUsed}
	moe := 0
	for _, l := range m.Layers {
		if l.MoE != nil {
			r.layer = append(r.layer, moe)
			moe++
		} else {
			r.layer = append(r.layer, -1)
		}
	}
	if moe == 0 {
		return nil, fmt.Errorf("--trace-routing: the model has no MoE layers")
	}
	tw, err := trace.NewWriter(w, trace.Header{Model: name, Layers: moe, Experts: m.Config.Experts, TopK: m.ExpertsUsed})
	if err != nil {
		return nil, err
	}
	r.w = tw
	return r, nil
}

// begin starts a forward pass whose rows belong to rows.
func (r *recorder) begin(rows []rowOwner) {
	r.rows = append(r.rows[:0], rows...)
	r.tokens = r.tokens[:0]
	for _, o := range rows {
		r.tokens = append(r.tokens, trace.Token{Req: o.req, Tok: o.pos, Layers: make([]trace.Route, 0, len(r.layer))})
	}
}

func (r *recorder) Route(layer, n int, experts []int, weights []float32) {
	if n != len(r.tokens) || r.layer[layer] < 0 {
		return
	}
	for i := range r.tokens {
		t := &r.tokens[i]
		for len(t.Layers) <= r.layer[layer] {
			t.Layers = append(t.Layers, trace.Route{})
		}
		rt := &t.Layers[r.layer[layer]]
		rt.Experts = append([]int(nil), experts[i*r.k:(i+1)*r.k]...)
		rt.Weights = append([]float32(nil), weights[i*r.k:(i+1)*r.k]...)
	}
}

// Guess records the guess for layer as the spec of the layer before it.
func (r *recorder) Guess(layer, n int, experts []int) {
	if n != len(r.tokens) || layer == 0 || r.layer[layer-1] < 0 {
		return
	}
	for i := range r.tokens {
		t := &r.tokens[i]
		if l := r.layer[layer-1]; l < len(t.Layers) {
			t.Layers[l].Spec = append([]int(nil), experts[i*r.k:(i+1)*r.k]...)
		}
	}
}

// end writes the pass's tokens.
func (r *recorder) end() {
	for _, t := range r.tokens {
		if r.err == nil {
			r.err = r.w.Write(t)
		}
	}
}

// Close flushes the trace.
func (r *recorder) Close() error {
	if r.err != nil {
		return r.err
	}
	return r.w.Flush()
}
