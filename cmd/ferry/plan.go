package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"ferry/engine"
	"ferry/plan"
	"ferry/tier"
)

func cmdPlan(args []string, stdout io.Writer) error {
	fs := newFlags("plan")
	var mf modelFlags
	mf.register(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	verbose := fs.Bool("v", false, "list every weight span and its residency")
	if err := parse(fs, args); err != nil {
		return err
	}
	if mf.mem == "" {
		return usageError{fmt.Errorf("--mem SIZE is required: the plan is for a budget")}
	}
	mem, err := ParseSize(mf.mem)
	if err != nil {
		return usageError{fmt.Errorf("--mem: %v", err)}
	}
	opts, err := mf.options()
	if err != nil {
		return err
	}
	opts.PlanOnly = true
	e, err := engine.Load(mf.model, opts)
	if err != nil {
		return err
	}
	p, b := e.Placement, e.Budget
	if x := e.Experts; x != nil {
		defer fmt.Fprintf(stdout, "experts: %d of %d cached (%s each); expected miss traffic %s per token (uniform routing)\n",
			x.Slots, x.All, engine.MiB(x.SlotBytes), engine.MiB(x.ExpectedMissBytes()))
	}
	units := tier.Units(e.Model.Schedule())
	e.Close()
	hw := plan.Hardware{MemBW: plan.MemoryBandwidth(int(min(128<<20, max(mem/4, 48<<20))))}
	if mf.model != "" {
		if bw, _, err := tier.ProbeDisk(mf.model, 1<<30, 4); err == nil {
			hw.DiskBW = bw
		}
	}
	if x := e.Experts; x != nil {
		p.StreamedBytes += x.ExpectedMissBytes()
	}
	pred := plan.Predict(p, hw, 0)
	// Summarize by tensor kind (the name without the block number).
	type kind struct {
		Kind                    string `json:"kind"`
		ResidentBytes, Streamed int64
	}
	kinds := map[string]*kind{}
	for i, u := range units {
		k := u.Name
		if j := strings.IndexByte(k, '['); j >= 0 {
			k = k[:j]
		}
		if strings.HasPrefix(k, "blk.") {
			parts := strings.SplitN(k, ".", 3)
			k = "blk.*." + parts[2]
		}
		if kinds[k] == nil {
			kinds[k] = &kind{Kind: k}
		}
		if p.Resident[i] {
			kinds[k].ResidentBytes += u.Bytes
		} else {
			kinds[k].Streamed += u.Bytes
		}
	}
	var list []*kind
	for _, k := range kinds {
		list = append(list, k)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Kind < list[j].Kind })
	if *asJSON {
		out := map[string]any{
			"mem_budget_bytes": mem, "kv_bytes": b.KV, "scratch_bytes": b.Scratch, "heap_bytes": b.Heap,
			"weight_budget_bytes": b.Weights, "min_weight_budget_bytes": b.MinWeights, "context": e.Cache0Context(),
			"resident_bytes": p.ResidentBytes, "streamed_bytes_per_token": p.StreamedBytes, "staging_bytes": p.StagingBytes,
			"disk_bw_gbs": hw.DiskBW / 1e9, "mem_bw_gbs": hw.MemBW / 1e9,
			"predicted_tok_s": pred.TokS, "disk_bound_tok_s": pred.DiskBoundTokS, "by_kind": list,
		}
		if *verbose {
			var spans []map[string]any
			for i, u := range units {
				spans = append(spans, map[string]any{"span": u.Name, "bytes": u.Bytes, "resident": p.Resident[i]})
			}
			out["spans"] = spans
		}
		bs, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", bs)
		return nil
	}
	fmt.Fprintf(stdout, "budget %s: KV cache %s (context %d), activations %s, heap %s, weights %s (at least %s)\n",
		engine.MiB(mem), engine.MiB(b.KV), e.Cache0Context(), engine.MiB(b.Scratch), engine.MiB(b.Heap), engine.MiB(b.Weights), engine.MiB(b.MinWeights))
	fmt.Fprintf(stdout, "weights: %s resident, %s streamed per token through %s of staging\n",
		engine.MiB(p.ResidentBytes), engine.MiB(p.StreamedBytes), engine.MiB(p.StagingBytes))
	for _, k := range list {
		fmt.Fprintf(stdout, "  %-28s resident %10s  streamed %10s\n", k.Kind, engine.MiB(k.ResidentBytes), engine.MiB(k.Streamed))
	}
	if *verbose {
		for i, u := range units {
			r := "streamed"
			if p.Resident[i] {
				r = "resident"
			}
			fmt.Fprintf(stdout, "  %-40s %10d  %s\n", u.Name, u.Bytes, r)
		}
	}
	fmt.Fprintf(stdout, "measured: disk %.2f GB/s, memory %.1f GB/s\n", hw.DiskBW/1e9, hw.MemBW/1e9)
	fmt.Fprintf(stdout, "predicted decode: %.2f tok/s (disk %.3f s, compute %.3f s per token; disk bound %.2f tok/s)\n",
		pred.TokS, pred.DiskSeconds, pred.ComputeSeconds, pred.DiskBoundTokS)
	return nil
}
