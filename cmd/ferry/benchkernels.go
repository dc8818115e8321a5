package main

import (
	"time"

	"ferry/dtype"
	"ferry/engine"
	"ferry/kernels"
)

// kernelSampler measures decode's compute bound: the tokens per second the
// model's products would reach were their weights already in the cores'
// caches, so that the kernels' arithmetic is all that is left
// (kernels.CacheRate). Where that bound is near the memory's, decode
// cannot reach the memory's (on a core with one vector integer multiplier
// the K-quant loops come close to it). Like the bandwidth, it is sampled
// in the same moments as decode, every kernelSampleEvery tokens from the
// first, since a shared machine's clock drifts with its bandwidth.
type kernelSampler struct {
	groups []kernelGroup
	tokens int
	// secs sums, over the samples, the time a token's products would
	// take from cache.
	secs    float64
	samples int
	dur     time.Duration
}

// kernelGroup is the weights of one kernel: one layout and row width.
type kernelGroup struct {
	typ   dtype.Type
	cols  int
	bytes int64  // of all its matrices, read once a token
	w     []byte // a resident span of one of them, the one timed
}

// kernelSampleEvery is how many decoded tokens there are for each sample.
const kernelSampleEvery = 8

// newKernelSampler groups the weights of the model's dense products by
// kernel. It samples nothing where the weights are not all resident (a
// budget streams them: the disk's bound is the one that matters) or the
// model has experts (which of them a token reads varies).
func newKernelSampler(e *engine.Engine) *kernelSampler {
	s := &kernelSampler{}
	if e.Opts.Mem != 0 || e.Model.Experts > 0 {
		return s
	}
	for _, t := range e.Model.DenseSchedule() {
		if !t.Resident() {
			return &kernelSampler{}
		}
		for i := range t.Spans() {
			typ, cols := t.SpanType(i), t.Cols()
			r0, r1 := t.SpanRows(i)
			b := int64(r1-r0) * int64(t.RowBytes())
			g := s.group(typ, cols)
			if g == nil {
				w := t.Acquire(i) // resident: its bytes, for the engine's life
				t.Release(i)
				s.groups = append(s.groups, kernelGroup{typ: typ, cols: cols, w: w})
				g = &s.groups[len(s.groups)-1]
			}
			g.bytes += b
		}
	}
	return s
}

// group returns the group of layout typ and rows of cols values, or nil.
func (s *kernelSampler) group(typ dtype.Type, cols int) *kernelGroup {
	for i := range s.groups {
		if g := &s.groups[i]; g.typ == typ && g.cols == cols {
			return g
		}
	}
	return nil
}

// onToken takes a sample every kernelSampleEvery tokens, from the first;
// none after the decoder's flush (tok -1), which comes after decode's time
// is taken.
func (s *kernelSampler) onToken(tok int32) {
	if tok < 0 {
		return
	}
	s.tokens++
	if len(s.groups) == 0 || (s.tokens-1)%kernelSampleEvery != 0 {
		return
	}
	start := time.Now()
	secs := 0.0
	for _, g := range s.groups {
		secs += float64(g.bytes) / kernels.CacheRate(g.typ, g.w, g.cols)
	}
	s.secs += secs
	s.samples++
	s.dur += time.Since(start)
}

// fill records the compute bound in out, beside the memory's.
func (s *kernelSampler) fill(out *benchResult) {
	if s.samples == 0 || s.secs <= 0 {
		return
	}
	perToken := s.secs / float64(s.samples)
	var bytes int64
	for _, g := range s.groups {
		bytes += g.bytes
	}
	out.ComputeBoundTokS = 1 / perToken
	out.KernelGBs = float64(bytes) / perToken / 1e9
	out.DecodeOfComputeBound = out.DecodeTokS / out.ComputeBoundTokS
}
