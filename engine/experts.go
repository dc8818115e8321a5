package engine

import (
	"fmt"

	"ferry/plan"
	"ferry/tier"
)

// ExpertSplit is how a weight budget is divided between the dense weights (attention,
// norms, shared experts, output) and a cache of routed experts.
type ExpertSplit struct {
	Slots       int   // experts the cache holds
	SlotBytes   int64 // bytes per slot
	DenseBudget int64 // for the dense weights: resident plus staging
	RouterBytes int64 // routers held outside the tier
	All         int   // routed experts in the model (layers x experts)
	Layers      int   // MoE layers
	Used        int   // experts chosen per token per layer
	ExpertBytes int64 // bytes of one expert's three matrices
}

// ExpectedMissBytes estimates the expert bytes read per token if routing
// were uniform and independent from token to token: each chosen expert is
// absent with probability 1 - Slots/All. Real routing has locality, so
// measured traffic is usually lower.
func (s *ExpertSplit) ExpectedMissBytes() int64 {
	if s.All == 0 {
		return 0
	}
	miss := 1 - float64(s.Slots)/float64(s.All)
	return int64(float64(s.Layers*s.Used) * miss * float64(s.ExpertBytes))
}

// planExperts decides whether a MoE model runs with an expert cache and how
// big it is. Dense weights are read for every token, an expert only when it
// is chosen, so the dense part is kept resident when the budget allows with
// a useful cache beside it; the cache gets the rest. With less, the cache
// keeps its minimum (room for two layers' worth of chosen experts) and the
// dense part streams.
func (e *Engine) planExperts(weights int64) (ExpertSplit, bool, error) {
	m := e.Model
	var sp ExpertSplit
	if m.Config.Experts == 0 || e.Opts.Mmap {
		return sp, false, nil
	}
	stacks := m.ExpertStacks()
	var expertTotal int64
	layers := 0
	for _, st := range stacks {
		if st[0] == nil {
			continue
		}
		layers++
		for _, t := range st {
			expertTotal += t.Size
		}
	}
	var dense int64
	for _, u := range tier.Units(m.DenseSchedule()) {
		dense += u.Bytes
	}
	for _, l := range m.Layers {
		if l.MoE != nil {
			sp.RouterBytes += l.MoE.Router.Weight.Size
		}
	}
	if e.Opts.ExpertPolicy == "" && e.Opts.ExpertSlots == 0 && (weights <= 0 || dense+expertTotal+sp.RouterBytes <= weights) {
		return sp, false, nil // everything fits: no cache needed
	}
	sp.SlotBytes = tier.ExpertBytes(stacks)
	all := layers * m.Config.Experts
	sp.All, sp.Layers, sp.Used = all, layers, m.ExpertsUsed
	sp.ExpertBytes = expertTotal / int64(all)
	minSlots := min(all, max(2*m.ExpertsUsed+1, 4))
	if weights <= 0 {
		sp.Slots, sp.DenseBudget = all, 0
		if e.Opts.ExpertSlots > 0 {
			sp.Slots = min(e.Opts.ExpertSlots, all)
		}
		return sp, true, nil
	}
	avail := weights - sp.RouterBytes
	switch {
	case e.Opts.ExpertSlots > 0:
		sp.Slots = min(e.Opts.ExpertSlots, all)
		sp.DenseBudget = avail - int64(sp.Slots)*sp.SlotBytes
	case avail-dense >= int64(minSlots)*sp.SlotBytes:
		sp.Slots = int(min(int64(all), (avail-dense)/sp.SlotBytes))
		sp.DenseBudget = avail - int64(sp.Slots)*sp.SlotBytes
	default:
		sp.Slots = minSlots
		sp.DenseBudget = avail - int64(minSlots)*sp.SlotBytes
	}
	if min := plan.MinBudget(tier.Units(m.DenseSchedule())); sp.DenseBudget < min {
		return sp, true, fmt.Errorf("a weight budget of %s cannot hold %d expert slots of %s, the routers (%s) and the smallest staging for the dense weights (%s)",
			MiB(weights), sp.Slots, MiB(sp.SlotBytes), MiB(sp.RouterBytes), MiB(min))
	}
	return sp, true, nil
}
