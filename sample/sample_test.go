package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestGreedy(t *testing.T) {
	if got := Greedy([]float32{1, 5, 3, 5}); got != 1 {
		t.Fatalf("Greedy = %d, want 1 (first of the ties)", got)
	}
	s := New(Params{})
	if got := s.Sample([]float32{0.1, -2, 7, 3}); got != 2 {
		t.Fatalf("temperature 0 sampled %d, want the argmax 2", got)
	}
}

// draw samples many times and returns the frequency of each token.
func draw(p Params, logits []float32, n int) []float64 {
	s := New(p)
	freq := make([]float64, len(logits))
	for i := 0; i < n; i++ {
		freq[s.Sample(logits)]++
	}
	for i := range freq {
		freq[i] /= float64(n)
	}
	return freq
}

func TestTemperatureFollowsSoftmax(t *testing.T) {
	logits := []float32{0, 1, 2}
	freq := draw(Params{Temperature: 1, TopP: 1, Seed: 1}, logits, 20000)
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l))
	}
	for i, l := range logits {
		want := math.Exp(float64(l)) / z
		if math.Abs(freq[i]-want) > 0.02 {
			t.Fatalf("token %d: frequency %.3f, softmax %.3f", i, freq[i], want)
		}
	}
}

func TestTopK(t *testing.T) {
	freq := draw(Params{Temperature: 1, TopK: 2, TopP: 1, Seed: 2}, []float32{3, 2.9, 2.8, 0}, 5000)
	if freq[2] != 0 || freq[3] != 0 || freq[0] == 0 || freq[1] == 0 {
		t.Fatalf("top-k 2 frequencies %v", freq)
	}
}

func TestTopP(t *testing.T) {
	// Probabilities about 0.6, 0.3, 0.1 (log-space): top-p 0.8 keeps two.
	l := []float32{float32(math.Log(0.6)), float32(math.Log(0.3)), float32(math.Log(0.1))}
	freq := draw(Params{Temperature: 1, TopP: 0.8, Seed: 3}, l, 5000)
	if freq[2] != 0 || freq[1] == 0 {
		t.Fatalf("top-p 0.8 frequencies %v", freq)
	}
}

func TestMinP(t *testing.T) {
	l := []float32{float32(math.Log(0.5)), float32(math.Log(0.3)), float32(math.Log(0.04))}
	freq := draw(Params{Temperature: 1, TopP: 1, MinP: 0.1, Seed: 4}, l, 5000)
	if freq[2] != 0 || freq[1] == 0 {
		t.Fatalf("min-p 0.1 frequencies %v", freq)
	}
}

func TestSeedReproducible(t *testing.T) {
	l := []float32{1, 1.1, 0.9, 1.05, 0.7}
	a, b, c := New(Params{Temperature: 1, TopP: 1, Seed: 9}), New(Params{Temperature: 1, TopP: 1, Seed: 9}), New(Params{Temperature: 1, TopP: 1, Seed: 10})
	same, diff := true, false
	for i := 0; i < 50; i++ {
		x, y, z := a.Sample(l), b.Sample(l), c.Sample(l)
		same = same && x == y
		diff = diff || x != z
	}
	if !same || !diff {
		t.Fatalf("same seed agrees: %v; other seed differs: %v", same, diff)
	}
}

func TestRepeatPenalty(t *testing.T) {
	s := New(Params{RepeatPenalty: 2, RepeatLastN: 4})
	s.Accept(0)
	s.Accept(0) // a repeated token is penalized once
	// logit 3 for token 0 becomes 1.5, below token 1's 2.
	if got := s.Sample([]float32{3, 2, -1}); got != 1 {
		t.Fatalf("penalized greedy = %d, want 1", got)
	}
	for _, tok := range []int32{5, 6, 7, 8} { // push token 0 out of the window
		s.Accept(tok)
	}
	if got := s.Sample([]float32{3, 2, -1, 0, 0, 0, 0, 0, 0}); got != 0 {
		t.Fatalf("after the window = %d, want 0", got)
	}
}

func TestKeepTop(t *testing.T) {
	top, _ := topK([]float32{0.5, 3, -1, 3, 2, 7, 0, 2.5}, 4, nil, nil)
	want := []int32{5, 1, 3, 7} // 7, 3 (id 1 before id 3), 3, 2.5
	for i, w := range want {
		if top[i].id != w {
			t.Fatalf("topK = %+v, want ids %v", top, want)
		}
	}
}

// TestNonFiniteLogits: NaN and infinite logits (a corrupt model) never
// crash the sampler, and NaN is never chosen.
func TestNonFiniteLogits(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, p := range []Params{{Temperature: 1, TopP: 1, Seed: 1}, Defaults(), {Temperature: 0.7, TopK: 2, TopP: 0.5, MinP: 0.5, Seed: 3}} {
		s := New(p)
		if got := s.Sample([]float32{nan, nan, 1, nan}); got != 2 {
			t.Fatalf("%+v: sampled %d among NaNs, want 2", p, got)
		}
		if got := s.Sample([]float32{nan, nan, nan}); got < 0 || got > 2 {
			t.Fatalf("all NaN: %d", got)
		}
		if got := s.Sample([]float32{0, inf, 1}); got != 1 {
			t.Fatalf("+Inf logit not chosen: %d", got)
		}
	}
}

// randomLogits returns n logits, Gaussian times scale, every fifth one
// rounded to make ties.
func randomLogits(seed uint64, n int, scale float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	l := make([]float32, n)
	for i := range l {
		l[i] = float32(r.NormFloat64() * scale)
		if i%5 == 0 {
			l[i] = float32(math.Round(float64(l[i])))
		}
	}
	return l
}

// sortedIDs returns the ids of l by byLogit: the order a full sort gives.
func sortedIDs(l []float32) []int32 {
	c := make([]candidate, len(l))
	for i, v := range l {
		c[i] = candidate{id: int32(i), logit: v}
	}
	slices.SortFunc(c, byLogit)
	ids := make([]int32, len(c))
	for i, x := range c {
		ids[i] = x.id
	}
	return ids
}

// TestTopMatchesSort: the bounded-heap selection (and the sort it falls
// back to for large k) gives a full sort's first k, ties by id.
func TestTopMatchesSort(t *testing.T) {
	l := randomLogits(1, 4000, 2)
	l[17], l[18] = float32(math.Inf(-1)), float32(math.Inf(-1))
	want := sortedIDs(l)
	s := New(Params{Temperature: 1})
	for _, k := range []int{1, 5, 40, 999, 1000, 3999, 4000} {
		got := s.top(l, k)
		if len(got) != k {
			t.Fatalf("k=%d: %d candidates", k, len(got))
		}
		for i := range got {
			if got[i].id != want[i] {
				t.Fatalf("k=%d: candidate %d is %d, a full sort has %d", k, i, got[i].id, want[i])
			}
		}
	}
}

// TestNucleusMatchesSort: top-p without top-k keeps the same tokens as
// sorting the whole vocabulary and cutting where the float64 cumulative
// probability reaches P (within one token where the two roundings meet),
// for nuclei of a few tokens (peaked logits) to thousands (flat ones).
func TestNucleusMatchesSort(t *testing.T) {
	for _, scale := range []float64{0.3, 2, 6} {
		l := randomLogits(2, 3000, scale)
		order := sortedIDs(l)
		m := l[order[0]]
		var total float64
		for _, v := range l {
			total += math.Exp(float64(v - m))
		}
		for _, p := range []float32{0.3, 0.9, 0.95} {
			var cum float64
			cut := len(order)
			for i, id := range order {
				cum += math.Exp(float64(l[id]-m)) / total
				if cum >= float64(p) {
					cut = i + 1
					break
				}
			}
			s := New(Params{Temperature: 1, TopP: p})
			got := s.nucleus(s.penalized(l), m)
			if d := len(got) - cut; d < -1 || d > 1 {
				t.Fatalf("scale %v top-p %v: nucleus of %d tokens, the full sort's is %d", scale, p, len(got), cut)
			}
			rank := make(map[int32]int, len(order))
			for i, id := range order {
				rank[id] = i
			}
			seen := make([]bool, len(got))
			var sum float64
			for _, x := range got {
				// The nucleus is a set: its tokens may come in any order,
				// but they must be the full sort's first len(got).
				if r := rank[x.id]; r >= len(got) || seen[r] {
					t.Fatalf("scale %v top-p %v: token %d (rank %d) in a nucleus of %d", scale, p, x.id, r, len(got))
				} else {
					seen[r] = true
				}
				want := math.Exp(float64(l[x.id]-m)) / total
				if math.Abs(float64(x.p)-want) > 1e-5*want+1e-9 {
					t.Fatalf("scale %v top-p %v: p(%d) = %v, want %v", scale, p, x.id, x.p, want)
				}
				sum += float64(x.p)
			}
			if sum < float64(p)-1e-4 {
				t.Fatalf("scale %v top-p %v: the nucleus holds %v", scale, p, sum)
			}
		}
	}
}

// TestDrawAllFollowsSoftmax: temperature sampling over a vocabulary of
// several blocks draws each of the likely tokens as often as softmax(l/T)
// says (within five standard deviations), and with min-p never a token
// below its cut.
func TestDrawAllFollowsSoftmax(t *testing.T) {
	l := randomLogits(3, 1500, 1)
	for i := 0; i < 1500; i += 97 {
		l[i] += 6 // a few likely tokens spread over the blocks
	}
	for _, p := range []Params{{Temperature: 0.7, TopP: 1, Seed: 5}, {Temperature: 1.3, TopP: 1, MinP: 0.2, Seed: 6}} {
		m := slices.Max(l)
		cut := math.Inf(-1)
		if p.MinP > 0 {
			cut = float64(m) + math.Log(float64(p.MinP))
		}
		want := make([]float64, len(l))
		var z float64
		for i, v := range l {
			if float64(v) >= cut {
				want[i] = math.Exp(float64(v-m) / float64(p.Temperature))
				z += want[i]
			}
		}
		const n = 100000
		freq := draw(p, l, n)
		for i := range want {
			want[i] /= z
			if want[i] == 0 && freq[i] != 0 {
				t.Fatalf("%+v: token %d (logit %v, below the min-p cut %v) drawn", p, i, l[i], cut)
			}
			if sd := math.Sqrt(want[i] * (1 - want[i]) / n); math.Abs(freq[i]-want[i]) > 5*sd+1e-4 {
				t.Fatalf("%+v: token %d drawn %.4f of the time, softmax %.4f", p, i, freq[i], want[i])
			}
		}
	}
}

// TestExtremeLogits: a corrupt model's huge logits, and a temperature so
// low that scaled logits overflow, still draw a sensible token.
func TestExtremeLogits(t *testing.T) {
	l := randomLogits(4, 2000, 1)
	l[7] = -1e30
	l[1234] = 50
	for _, p := range []Params{{Temperature: 1, TopP: 1, Seed: 1}, {Temperature: 1, TopP: 0.9, Seed: 2}, {Temperature: 1e-30, TopP: 1, Seed: 3}} {
		s := New(p)
		for range 20 {
			if got := s.Sample(l); got != 1234 {
				t.Fatalf("%+v: sampled %d (logit %v), want the dominant 1234", p, got, l[got])
			}
		}
	}
}

// BenchmarkSample is one token's sampling over a 32000-token vocabulary:
// llama.cpp's defaults (top-k 40, top-p, min-p) with a repetition
// penalty, top-p alone (what OpenAI clients send) and temperature alone
// (the OpenAI endpoint's default).
func BenchmarkSample(b *testing.B) {
	l := randomLogits(7, 32000, 3)
	for _, c := range []struct {
		name string
		p    Params
	}{
		{"defaults", Params{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.1, RepeatLastN: 64, Seed: 1}},
		{"top-p", Params{Temperature: 0.8, TopP: 0.95, Seed: 1}},
		{"temperature", Params{Temperature: 1, TopP: 1, Seed: 1}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := New(c.p)
			for i := range 64 {
				s.Accept(int32(i * 13))
			}
			for b.Loop() {
				s.Sample(l)
			}
		})
	}
}
