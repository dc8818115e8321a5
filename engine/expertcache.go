package engine

import (
	"ferry/expert"
	"ferry/model"
	"ferry/tier"
)

// speculates reports whether a policy prefetches from the speculative gate's
// guesses (or, for activation, from its own prediction when told one).
func speculates(policy string) bool {
	return policy == "speculative" || policy == "fmoe" || policy == "activation"
}

// newExpertCache returns the cache bookkeeping for policy with slots entries.
func newExpertCache(policy string, slots int, m *model.Transformer) (tier.ExpertCache, error) {
	if policy == "" {
		policy = "lru"
	}
	p, err := expert.New(policy, len(m.Layers), m.Config.Experts)
	if err != nil {
		return nil, err
	}
	return expert.NewCache(slots, p), nil
}
