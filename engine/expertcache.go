package engine

import (
	"ferry/expert"
	"ferry/model"
	"ferry/tier"
)

// DefaultExpertPolicy is the policy used when none is named: it had the
// best hit rate on recorded and synthetic traces (see ferry trace analyze).
const DefaultExpertPolicy = "fmoe"

// speculates reports whether a policy prefetches from the speculative gate's
// guesses (or, for activation, from its own prediction when told one).
func speculates(policy string) bool {
	switch policy {
	case "", "speculative", "fmoe", "activation":
		return true
	}
	return false
}

// newExpertCache returns the cache bookkeeping for policy with slots entries.
func newExpertCache(policy string, slots int, m *model.Transformer) (tier.ExpertCache, error) {
	if policy == "" {
		policy = DefaultExpertPolicy
	}
	p, err := expert.New(policy, len(m.Layers), m.Config.Experts)
	if err != nil {
		return nil, err
	}
	return expert.NewCache(slots, p), nil
}
