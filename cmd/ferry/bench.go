package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"ferry/engine"
	"ferry/kernels"
	"ferry/plan"
	"ferry/sample"
	"ferry/tier"
)

// benchResult is the JSON that ferry bench prints.
type benchResult struct {
	Model         string  `json:"model"`
	Threads       int     `json:"threads"`
	PromptTokens  int     `json:"prompt_tokens"`
	DecodeTokens  int     `json:"decode_tokens"`
	PrefillTokS   float64 `json:"prefill_tok_s"`
	DecodeTokS    float64 `json:"decode_tok_s"`
	BytesPerToken int64   `json:"bytes_per_token"`
	// KVBytesPerToken is the KV cache a decoded token's attention reads,
	// averaged over the decoded tokens (F16 keys and values of every
	// layer at every position attended); the bound counts it with the
	// weights.
	KVBytesPerToken int64   `json:"kv_bytes_per_token"`
	MemBWGBs        float64 `json:"mem_bw_gbs"`
	// MemBWProbeGBs is the probe's bandwidth; MemBWGBs, the bound's, is
	// the larger of it and the rate decode itself read at.
	MemBWProbeGBs   float64 `json:"mem_bw_probe_gbs"`
	DecodeBoundTokS float64 `json:"decode_bound_tok_s"`
	DecodeOfBound   float64 `json:"decode_of_bound"`
	// ComputeBoundTokS is decode's compute bound: the tokens per second
	// the products would reach with their weights in the cores' caches
	// (kernelSampler), and KernelGBs the weights' bytes per second they
	// would then take; DecodeOfComputeBound is decode against it. Only
	// where the weights are all resident and the model has no experts.
	ComputeBoundTokS     float64 `json:"compute_bound_tok_s,omitempty"`
	KernelGBs            float64 `json:"kernel_gbs,omitempty"`
	DecodeOfComputeBound float64 `json:"decode_of_compute_bound,omitempty"`
	// Offload fields, with --mem.
	MemBudget           int64   `json:"mem_budget_bytes,omitempty"`
	ResidentBytes       int64   `json:"resident_bytes,omitempty"`
	StreamedBytes       int64   `json:"streamed_bytes_per_token,omitempty"`
	DiskBWGBs           float64 `json:"disk_bw_gbs,omitempty"`
	DiskBoundTokS       float64 `json:"disk_bound_tok_s,omitempty"`
	DecodeOfDiskBound   float64 `json:"decode_of_disk_bound,omitempty"`
	IOWaitFrac          float64 `json:"io_wait_frac"`
	ReadGBs             float64 `json:"read_gbs,omitempty"`
	Direct              bool    `json:"direct_io"`
	PredictedTokS       float64 `json:"predicted_tok_s,omitempty"`
	PeakRSSBytes        int64   `json:"peak_rss_bytes"`
	BytesReadPerToken   int64   `json:"bytes_read_per_token"`
	SpansSkippedPerTok  float64 `json:"spans_skipped_per_token,omitempty"`
	ContextTokens       int     `json:"context"`
	Temperature         float64 `json:"temperature"`
	FinishReason        string  `json:"finish_reason"`
	PrefillIOWaitFrac   float64 `json:"prefill_io_wait_frac"`
	PrefillBytesPerTok  int64   `json:"prefill_bytes_read_per_token"`
	MemBWProbeMiB       int     `json:"mem_bw_probe_mib"`
	MemBWSamples        int     `json:"mem_bw_samples,omitempty"`
	DiskProbeBytes      int64   `json:"disk_probe_bytes,omitempty"`
	WeightBudget        int64   `json:"weight_budget_bytes,omitempty"`
	KVBytes             int64   `json:"kv_bytes"`
	ExpertHitRate       float64 `json:"expert_hit_rate,omitempty"`
	PrefetchAccuracy    float64 `json:"prefetch_accuracy,omitempty"`
	ExpertSlots         int     `json:"expert_slots,omitempty"`
	ExpertBytesPerToken int64   `json:"expert_bytes_read_per_token,omitempty"`
	ScratchBytes        int64   `json:"scratch_bytes"`
	// PrefetchDistance is where the kernels' tuner left the streaming
	// loops' prefetch distance (bytes ahead) at the end of the run.
	PrefetchDistance int `json:"prefetch_distance_bytes"`
	// PrefetchNonTemporal is the kind of prefetch the tuner left them
	// using: non-temporal (PREFETCHNTA) or not.
	PrefetchNonTemporal bool `json:"prefetch_nontemporal"`
}

func cmdBench(args []string, stdout io.Writer) error {
	fs := newFlags("bench")
	var mf modelFlags
	mf.register(fs, false)
	p := fs.Int("p", 64, "prompt tokens to prefill")
	n := fs.Int("n", 32, "tokens to decode")
	temp := fs.Float64("temp", 0, "sampling temperature for decode (0: greedy; use 1 for MoE, so routing varies)")
	seed := fs.Uint64("seed", 1, "seed for the prompt and sampling")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this `file` (go tool pprof)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *p < 1 || *n < 1 {
		return usageError{fmt.Errorf("-p and -n must be at least 1")}
	}
	e, err := mf.load()
	if err != nil {
		return err
	}
	if *p+*n > e.Cache.Context {
		e.Close()
		return fmt.Errorf("-p %d + -n %d exceed the context of %d (raise --ctx)", *p, *n, e.Cache.Context)
	}
	rng := rand.New(rand.NewPCG(*seed, 7))
	prompt := make([]int32, *p)
	for i := range prompt {
		prompt[i] = int32(3 + rng.IntN(e.Model.Vocab-3))
	}
	if bos := e.Tok.BOS(); bos >= 0 {
		prompt[0] = bos
	}
	sampler, kern := newBandwidthSampler(e), newKernelSampler(e)
	res, err := e.Generate(context.Background(), engine.Request{
		Prompt: prompt, MaxTokens: *n, IgnoreEOS: true,
		Sampling: sample.Params{Temperature: float32(*temp), TopK: 0, TopP: 1, Seed: *seed, RepeatPenalty: 1},
		OnToken: func(tok int32, piece []byte) bool {
			kern.onToken(tok)
			return sampler.onToken(tok, piece)
		},
	})
	if err != nil {
		e.Close()
		return err
	}
	// The samples ran inside the decode loop: take their time out of it.
	res.GenerateTime -= sampler.dur + kern.dur
	out := measure(e, res, mf.model, true, sampler)
	kern.fill(&out)
	out.Threads, out.PromptTokens, out.Temperature = runtime.GOMAXPROCS(0), *p, *temp
	if *asJSON {
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(stdout, "model:    %s (%d threads)\n", out.Model, out.Threads)
	fmt.Fprintf(stdout, "prefill:  %d tokens at %.1f tok/s\n", out.PromptTokens, out.PrefillTokS)
	fmt.Fprintf(stdout, "decode:   %d tokens at %.2f tok/s\n", out.DecodeTokens, out.DecodeTokS)
	how := "measured after the run"
	if out.MemBWSamples > 0 {
		how = fmt.Sprintf("reading %d MiB of the weights between decode steps", out.MemBWProbeMiB)
	}
	if out.MemBWGBs > out.MemBWProbeGBs {
		how += fmt.Sprintf(", %.1f GB/s; decode itself read faster", out.MemBWProbeGBs)
	}
	fmt.Fprintf(stdout, "memory:   %.1f GB/s (%s); %s of weights and %s of KV cache per token; bound %.2f tok/s; decode at %.0f%% of it\n",
		out.MemBWGBs, how, engine.MiB(out.BytesPerToken), engine.MiB(out.KVBytesPerToken), out.DecodeBoundTokS, 100*out.DecodeOfBound)
	if out.ComputeBoundTokS > 0 {
		fmt.Fprintf(stdout, "kernels:  %.1f GB/s with the weights in cache; compute bound %.2f tok/s; decode at %.0f%% of it\n",
			out.KernelGBs, out.ComputeBoundTokS, 100*out.DecodeOfComputeBound)
	}
	if out.MemBudget > 0 {
		fmt.Fprintf(stdout, "offload:  budget %s: %s resident, %s streamed per token\n",
			engine.MiB(out.MemBudget), engine.MiB(out.ResidentBytes), engine.MiB(out.StreamedBytes))
		fmt.Fprintf(stdout, "disk:     %.2f GB/s measured (direct I/O %v); disk bound %.2f tok/s; decode at %.0f%% of it; predicted %.2f tok/s\n",
			out.DiskBWGBs, out.Direct, out.DiskBoundTokS, 100*out.DecodeOfDiskBound, out.PredictedTokS)
		fmt.Fprintf(stdout, "io:       %.1f MiB read per token at %.2f GB/s, waiting %.0f%% of decode time\n",
			float64(out.BytesReadPerToken)/(1<<20), out.ReadGBs, 100*out.IOWaitFrac)
	}
	if out.ExpertSlots > 0 {
		fmt.Fprintf(stdout, "experts:  %d cached; hit rate %.1f%%, prefetch accuracy %.1f%%, %.1f MiB of experts read per token\n",
			out.ExpertSlots, 100*out.ExpertHitRate, 100*out.PrefetchAccuracy, float64(out.ExpertBytesPerToken)/(1<<20))
	}
	fmt.Fprintf(stdout, "peak RSS: %s\n", engine.MiB(out.PeakRSSBytes))
	return nil
}

// bandwidthSampler measures the memory bandwidth in the same moments as
// decode: this machine's bandwidth drifts by a factor of two within minutes
// (other tenants), so a probe taken before or after the run can describe
// another machine. After each generated token it reads a window of the
// model's own resident weights (the pages decode reads, no allocation) on
// the threads the products run on (the kernels' pool, which is spinning
// for its next job: a probe on goroutines of its own would wait for it to
// park); the bound is those bytes over that time. The window sits in
// the middle of the weights, so the cache it leaves behind is flushed long
// before decode reaches those weights again.
type bandwidthSampler struct {
	window  []byte
	bytes   int64
	dur     time.Duration
	samples int
}

// samplerWindow is the size of each bandwidth sample: four times a 32 MiB
// last-level cache.
const samplerWindow = 128 << 20

func newBandwidthSampler(e *engine.Engine) *bandwidthSampler {
	p := &bandwidthSampler{}
	// Only when the weights are in memory (no budget): with a budget the
	// bound that matters is the disk's, and the arena may be small.
	if mem := e.Store().ResidentMemory(); e.Opts.Mem == 0 && len(mem) >= 2*samplerWindow {
		mid := len(mem) / 2
		p.window = mem[mid-samplerWindow/2 : mid+samplerWindow/2]
	}
	return p
}

// onToken samples after each generated token; not after the decoder's
// flush (tok -1), which comes after decode's time is taken.
func (p *bandwidthSampler) onToken(tok int32, _ []byte) bool {
	if p.window != nil && tok >= 0 {
		p.dur += plan.TimeRead(p.window)
		p.bytes += int64(len(p.window))
		p.samples++
	}
	return true
}

// measure gathers a generation's speeds, I/O accounting and bounds. It
// closes e first so that its probes (memory bandwidth, and with a budget the
// disk) neither share memory with the model nor count in its peak RSS.
// With memProbe the decode bound uses the bandwidth sampled during decode
// when sampled holds samples, else a probe after the run.
func measure(e *engine.Engine, res *engine.Result, path string, memProbe bool, sampled *bandwidthSampler) benchResult {
	out := benchResult{
		Model: e.Path, DecodeTokens: res.DecodedTokens,
		PrefillTokS: res.PrefillTokS(), DecodeTokS: res.DecodeTokS(), BytesPerToken: e.WeightBytesPerToken(),
		PeakRSSBytes: tier.PeakRSS(), ContextTokens: e.Cache.Context, FinishReason: res.FinishReason,
		KVBytes: e.Budget.KV, ScratchBytes: e.Budget.Scratch, Direct: e.Store().Direct(),
		PrefetchDistance: kernels.PrefetchDistance(), PrefetchNonTemporal: kernels.PrefetchNonTemporal(),
	}
	pl := e.Store().Placement()
	if e.Experts != nil {
		out.ExpertSlots = e.Experts.Slots
		out.ExpertHitRate = res.DecodeExperts.HitRate()
		out.PrefetchAccuracy = res.DecodeExperts.PrefetchAccuracy()
		if res.DecodedTokens > 0 {
			out.ExpertBytesPerToken = res.DecodeExperts.BytesRead / int64(res.DecodedTokens)
			out.BytesReadPerToken += out.ExpertBytesPerToken
		}
	}
	if n := int64(res.DecodedTokens); n > 0 {
		// Decode step t attends PromptTokens+t+1 positions.
		attended := n*int64(res.PromptTokens) + n*(n+1)/2
		out.KVBytesPerToken = attended * int64(e.Model.Blocks) * int64(e.Model.KVDim()) * 2 * 2 / n
	}
	if res.DecodedTokens > 0 {
		d := res.DecodeIO
		out.BytesReadPerToken += d.BytesRead / int64(res.DecodedTokens)
		out.IOWaitFrac = (d.Wait + res.DecodeExperts.Wait).Seconds() / res.GenerateTime.Seconds()
		out.ReadGBs = float64(d.BytesRead+res.DecodeExperts.BytesRead) / res.GenerateTime.Seconds() / 1e9
		out.SpansSkippedPerTok = float64(d.SpansSkipped) / float64(res.DecodedTokens)
	}
	if res.PromptTime > 0 {
		out.PrefillIOWaitFrac = res.PrefillIO.Wait.Seconds() / res.PromptTime.Seconds()
		out.PrefillBytesPerTok = res.PrefillIO.BytesRead / int64(max(res.PromptTokens, 1))
	}
	opts, budget := e.Opts, e.Budget
	e.Close()
	var bw float64
	switch {
	case memProbe && sampled != nil && sampled.samples > 0:
		out.MemBWProbeMiB = len(sampled.window) >> 20
		out.MemBWSamples = sampled.samples
		bw = float64(sampled.bytes) / sampled.dur.Seconds()
	case memProbe:
		// Well above the last-level cache, and small enough to fit a budget.
		probe := 128 << 20
		if opts.Mem > 0 {
			probe = int(min(int64(probe), max(opts.Mem/4, 48<<20)))
		}
		out.MemBWProbeMiB = probe >> 20
		bw = plan.MemoryBandwidth(probe)
	}
	if bw > 0 {
		out.MemBWProbeGBs = bw / 1e9
		// Decode itself read its weights and KV cache this fast: where
		// that beats the probe, the probe undershot (on a Zen 1 the
		// products' non-temporal prefetches stream faster than its plain
		// loads), so take the larger, and the bound is never flattering
		// (as for the disk's, below).
		if r := out.DecodeTokS * float64(out.BytesPerToken+out.KVBytesPerToken); opts.Mem == 0 && r > bw {
			bw = r
		}
		out.MemBWGBs = bw / 1e9
		out.DecodeBoundTokS = bw / float64(out.BytesPerToken+out.KVBytesPerToken)
		out.DecodeOfBound = out.DecodeTokS / out.DecodeBoundTokS
	}
	if opts.Mem > 0 {
		out.MemBudget = opts.Mem
		out.WeightBudget = budget.Weights
		out.ResidentBytes = pl.ResidentBytes
		out.StreamedBytes = pl.StreamedBytes
		if path != "" {
			const probeBytes = 1 << 30
			if dbw, _, err := tier.ProbeDisk(path, probeBytes, 4); err == nil {
				// The streaming run itself read at ReadGBs while also computing:
				// if that beats the probe, the probe undershot; take the larger,
				// so the bound is never flattering.
				dbw = max(dbw, out.ReadGBs*1e9)
				out.DiskProbeBytes = probeBytes
				out.DiskBWGBs = dbw / 1e9
				if e.Experts != nil && out.BytesReadPerToken > 0 {
					// MoE: the bytes that must be read are the dense streamed
					// weights plus the measured expert miss traffic.
					out.DiskBoundTokS = dbw / float64(out.BytesReadPerToken)
					out.DecodeOfDiskBound = out.DecodeTokS / out.DiskBoundTokS
				} else if pl.StreamedBytes > 0 {
					out.DiskBoundTokS = dbw / float64(pl.StreamedBytes)
					out.DecodeOfDiskBound = out.DecodeTokS / out.DiskBoundTokS
				}
				pp := pl
				if e.Experts != nil {
					pp.StreamedBytes += e.Experts.ExpectedMissBytes()
				}
				out.PredictedTokS = plan.Predict(pp, plan.Hardware{DiskBW: dbw, MemBW: bw}, 0).TokS
			}
		}
	}
	return out
}
