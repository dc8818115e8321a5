package sample

import (
	"math"
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
	var c []candidate
	for i, l := range []float32{0.5, 3, -1, 3, 2, 7, 0, 2.5} {
		c = append(c, candidate{id: int32(i), logit: l})
	}
	top, _ := keepTop(c, 4, nil)
	want := []int32{5, 1, 3, 7} // 7, 3 (id 1 before id 3), 3, 2.5
	for i, w := range want {
		if top[i].id != w {
			t.Fatalf("keepTop = %+v, want ids %v", top, want)
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
