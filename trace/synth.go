package trace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SynthOptions shape a synthetic routing trace.
type SynthOptions struct {
	Model   string `json:"model,omitempty"` // header model name (default "synthetic")
	Tokens  int    `json:"tokens"`          // tokens to generate
	Layers  int    `json:"layers"`          // MoE layers
	Experts int    `json:"experts"`         // experts per layer
	TopK    int    `json:"top_k"`           // experts selected per token per layer
	// Skew is the Zipf exponent of expert popularity within a layer: the
	// expert of popularity rank r (0-based) is drawn with weight
	// 1/(r+1)^Skew. 0 is uniform routing.
	Skew float64 `json:"skew"`
	// Locality is the probability that a token's i-th selection at a layer
	// repeats the previous token's i-th selection there (temporal
	// locality); otherwise the expert is drawn by popularity.
	Locality float64 `json:"locality"`
	// Requests splits the tokens into this many requests of near-equal
	// length (at least 1).
	Requests int `json:"requests"`
	// Patterns is the number of distinct request patterns (popularity
	// rankings per layer); request i follows pattern i mod Patterns, with
	// one random swap of adjacent ranks per layer so that requests of one
	// pattern are similar, not equal. 0 means min(Requests, 4).
	Patterns int `json:"patterns"`
	// SpecAccuracy, if positive, adds a speculative guess for the next
	// layer to every layer but the last: each of the next layer's
	// selections is guessed right with this probability, else replaced by
	// an expert it did not select.
	SpecAccuracy float64 `json:"spec_accuracy,omitempty"`
	Seed         uint64  `json:"seed"` // the same options and seed give the same trace
}

// DefaultSynthOptions returns Mixtral's shape (32 layers of 8 experts,
// top-2) with moderate skew and locality: 4096 tokens in 16 requests of 4
// patterns.
func DefaultSynthOptions() SynthOptions {
	return SynthOptions{Model: "synthetic", Tokens: 4096, Layers: 32, Experts: 8, TopK: 2,
		Skew: 1, Locality: 0.6, Requests: 16, Seed: 1}
}

// Check reports options Synth cannot honour.
func (o SynthOptions) Check() error {
	h := Header{Format: Format, Version: Version, Layers: o.Layers, Experts: o.Experts, TopK: o.TopK}
	if err := h.Check(); err != nil {
		return err
	}
	switch {
	case o.Tokens < 0 || o.Tokens > 1<<24:
		return fmt.Errorf("tokens %d is outside [0, %d]", o.Tokens, 1<<24)
	case int64(o.Tokens)*int64(o.Layers)*int64(o.TopK) > 1<<28:
		return fmt.Errorf("%d tokens x %d layers x top-%d is more than %d selections", o.Tokens, o.Layers, o.TopK, 1<<28)
	case !(o.Skew >= 0 && o.Skew <= 16):
		return fmt.Errorf("skew %v is outside [0, 16]", o.Skew)
	case !(o.Locality >= 0 && o.Locality <= 1):
		return fmt.Errorf("locality %v is outside [0, 1]", o.Locality)
	case !(o.SpecAccuracy >= 0 && o.SpecAccuracy <= 1):
		return fmt.Errorf("spec accuracy %v is outside [0, 1]", o.SpecAccuracy)
	case o.Requests < 0 || o.Requests > max(o.Tokens, 1):
		return fmt.Errorf("requests %d is outside [1, tokens=%d]", o.Requests, o.Tokens)
	case o.Patterns < 0 || o.Patterns > 1<<16:
		return fmt.Errorf("patterns %d is outside [0, %d]", o.Patterns, 1<<16)
	case o.Patterns*o.Layers*o.Experts > 1<<26:
		return fmt.Errorf("patterns x layers x experts = %d is too many", o.Patterns*o.Layers*o.Experts)
	}
	return nil
}

// Synth generates a synthetic trace; the same options give the same trace.
// Its header says synthetic: true and records the options. Synth panics if
// o.Check fails.
func Synth(o SynthOptions) *Trace {
	if err := o.Check(); err != nil {
		panic("trace: Synth: " + err.Error())
	}
	if o.Model == "" {
		o.Model = "synthetic"
	}
	o.Requests = max(o.Requests, 1)
	if o.Patterns == 0 {
		o.Patterns = min(o.Requests, 4)
	}
	L, E, K := o.Layers, o.Experts, o.TopK
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))

	// Popularity by rank, as a cumulative distribution.
	cdf := make([]float64, E)
	var sum float64
	for r := range cdf {
		sum += math.Pow(float64(r+1), -o.Skew)
		cdf[r] = sum
	}
	for r := range cdf {
		cdf[r] /= sum
	}
	// Each pattern ranks every layer's experts.
	patterns := make([][]int, o.Patterns)
	for p := range patterns {
		perm := make([]int, L*E)
		for l := 0; l < L; l++ {
			row := perm[l*E : (l+1)*E]
			for i := range row {
				row[i] = i
			}
			rng.Shuffle(E, func(i, j int) { row[i], row[j] = row[j], row[i] })
		}
		patterns[p] = perm
	}

	h := o
	tr := &Trace{Header: Header{Format: Format, Version: Version, Model: o.Model, Layers: L, Experts: E, TopK: K,
		Synthetic: true, Generator: &h}}
	tr.Tokens = make([]Token, 0, o.Tokens)
	// One backing array for all selections, weights and guesses.
	sel := make([]int, o.Tokens*L*K)
	wts := make([]float32, o.Tokens*L*K)
	var spec []int
	if o.SpecAccuracy > 0 {
		spec = make([]int, o.Tokens*(L-1)*K)
	}
	routes := make([]Route, o.Tokens*L)
	perm := make([]int, L*E)
	taken := make([]bool, E)
	w := make([]float64, K)
	t := 0
	for r := 0; r < o.Requests; r++ {
		n := o.Tokens / o.Requests
		if r < o.Tokens%o.Requests {
			n++
		}
		copy(perm, patterns[r%o.Patterns])
		if E > 1 {
			for l := 0; l < L; l++ {
				i := l*E + rng.IntN(E-1)
				perm[i], perm[i+1] = perm[i+1], perm[i]
			}
		}
		for i := 0; i < n; i, t = i+1, t+1 {
			tok := Token{Req: r, Tok: i, Layers: routes[t*L : (t+1)*L]}
			for l := 0; l < L; l++ {
				cur := sel[(t*L+l)*K : (t*L+l+1)*K]
				clear(taken)
				for j := range cur {
					e := -1
					if i > 0 && rng.Float64() < o.Locality {
						if p := sel[((t-1)*L+l)*K+j]; !taken[p] {
							e = p
						}
					}
					for try := 0; e < 0 && try < 32; try++ {
						rank, _ := slices.BinarySearch(cdf, rng.Float64())
						if p := perm[l*E+min(rank, E-1)]; !taken[p] {
							e = p
						}
					}
					for rank := 0; e < 0; rank++ { // rare: fall back to the most popular free expert
						if p := perm[l*E+rank]; !taken[p] {
							e = p
						}
					}
					cur[j], taken[e] = e, true
				}
				// Gate weights: normalized exponentials, largest first.
				var ws float64
				for j := range w {
					w[j] = rng.ExpFloat64() + 0.05
					ws += w[j]
				}
				slices.Sort(w)
				cw := wts[(t*L+l)*K : (t*L+l+1)*K]
				for j := range cw {
					cw[j] = float32(w[K-1-j] / ws)
				}
				tok.Layers[l] = Route{Experts: cur, Weights: cw}
			}
			if spec != nil {
				for l := 0; l+1 < L; l++ {
					next := tok.Layers[l+1].Experts
					g := spec[(t*(L-1)+l)*K : (t*(L-1)+l+1)*K]
					clear(taken)
					for _, e := range next {
						taken[e] = true
					}
					used := len(next)
					for j, e := range next {
						if rng.Float64() >= o.SpecAccuracy && used < E {
							for {
								x := rng.IntN(E)
								if !taken[x] {
									e = x
									used++
									break
								}
							}
						}
						g[j], taken[e] = e, true
					}
					tok.Layers[l].Spec = g
				}
			}
			tr.Tokens = append(tr.Tokens, tok)
		}
	}
	return tr
}
