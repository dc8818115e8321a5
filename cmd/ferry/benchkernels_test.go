package main

import (
	"testing"

	"ferry/dtype"
)

// TestKernelSampler checks when the compute bound is sampled (the first
// token, then every kernelSampleEvery-th, never the decoder's flush) and
// what fill makes of the samples.
func TestKernelSampler(t *testing.T) {
	const cols = 256
	rb, _ := dtype.F32.RowBytes(cols)
	s := &kernelSampler{groups: []kernelGroup{{typ: dtype.F32, cols: cols, bytes: 64 * int64(rb), w: make([]byte, 64*rb)}}}
	s.onToken(1)
	s.onToken(-1) // the flush
	if s.samples != 1 || s.tokens != 1 {
		t.Fatalf("after a token and the flush: %d samples of %d tokens, want 1 of 1", s.samples, s.tokens)
	}
	for tok := range kernelSampleEvery {
		s.onToken(int32(tok))
	}
	if s.samples != 2 {
		t.Fatalf("after %d tokens: %d samples, want 2", s.tokens, s.samples)
	}
	out := benchResult{DecodeTokS: 10}
	s.fill(&out)
	perToken := s.secs / float64(s.samples)
	bound, gbs := 1/perToken, float64(64*rb)/perToken/1e9
	if out.ComputeBoundTokS != bound || out.KernelGBs != gbs || out.DecodeOfComputeBound != 10/bound {
		t.Errorf("fill gave %v tok/s, %v GB/s, %v of it; want %v, %v, %v",
			out.ComputeBoundTokS, out.KernelGBs, out.DecodeOfComputeBound, bound, gbs, 10/bound)
	}
	var none benchResult
	(&kernelSampler{}).fill(&none)
	if none.ComputeBoundTokS != 0 {
		t.Errorf("no samples: compute bound %v, want none", none.ComputeBoundTokS)
	}
}
