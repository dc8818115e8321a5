package main

import (
	"encoding/json"
	"ferry/engine"
	"ferry/model"
	"fmt"
	"io"
	"text/tabwriter"
)

type tensorRow struct {
	Name  string   `json:"name"`
	Type  string   `json:"type"`
	Shape []uint64 `json:"shape"`
	Bytes int64    `json:"bytes"`
}

func cmdInspect(args []string, stdout io.Writer) error {
	fs := newFlags("inspect")
	var mf modelFlags
	mf.register(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	path, g, err := engine.OpenHeader(mf.model)
	if err != nil {
		return err
	}
	c, cfgErr := model.ConfigFromGGUF(g)
	var rows []tensorRow
	var total int64
	byType := map[string]int64{}
	var params uint64
	for _, t := range g.Tensors {
		rows = append(rows, tensorRow{t.Name, t.Type.String(), t.Shape, t.Size})
		total += t.Size
		byType[t.Type.String()] += t.Size
		params += t.Elements()
	}
	var hyper map[string]any
	if cfgErr == nil {
		hyper = map[string]any{
			"embedding_length": c.Dim, "block_count": c.Blocks, "head_count": c.Heads,
			"head_count_kv": c.KVHeads, "head_dim": c.HeadDim, "feed_forward_length": c.FFN,
			"vocab_size": c.Vocab, "context_length": c.Context, "rope_freq_base": c.RopeBase,
			"rope_dimension_count": c.RopeDim, "rms_norm_eps": c.NormEps,
		}
	}
	if c.Experts > 0 && hyper != nil {
		hyper["expert_count"] = c.Experts
		hyper["expert_used_count"] = c.ExpertsUsed
		hyper["expert_feed_forward_length"] = c.ExpertFFN
		if c.SharedFFN > 0 {
			hyper["expert_shared_feed_forward_length"] = c.SharedFFN
		}
	}
	name, _ := g.String("general.name")
	if *asJSON {
		b, err := json.MarshalIndent(map[string]any{
			"file": path, "gguf_version": g.Version, "architecture": g.Architecture(), "name": name,
			"hyperparameters": hyper, "tensors": rows, "tensor_count": len(rows),
			"total_bytes": total, "parameters": params, "bytes_by_type": byType,
			"file_bytes": g.FileSize, "metadata_keys": g.Keys(), "supported": cfgErr == nil,
		}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(stdout, "file:         %s (GGUF v%d, %s)\n", path, g.Version, human(g.FileSize))
	fmt.Fprintf(stdout, "architecture: %s", g.Architecture())
	if name != "" {
		fmt.Fprintf(stdout, " (%s)", name)
	}
	fmt.Fprintln(stdout)
	if cfgErr != nil {
		fmt.Fprintf(stdout, "ferry cannot run it: %v\n", cfgErr)
	} else {
		printConfig(stdout, c)
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "name\ttype\tshape\tbytes\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t\n", r.Name, r.Type, r.Shape, r.Bytes)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d tensors, %d parameters, %s of weights", len(rows), params, human(total))
	for _, t := range sortedKeys(byType) {
		fmt.Fprintf(stdout, "; %s %s", t, human(byType[t]))
	}
	fmt.Fprintln(stdout)
	return nil
}

func printConfig(stdout io.Writer, c model.Config) {
	fmt.Fprintf(stdout, "dim %d, %d layers, %d heads (%d KV, head dim %d), ffn %d, vocab %d, context %d\n",
		c.Dim, c.Blocks, c.Heads, c.KVHeads, c.HeadDim, c.FFN, c.Vocab, c.Context)
	fmt.Fprintf(stdout, "rope base %g over %d dims, rms eps %g\n", c.RopeBase, c.RopeDim, c.NormEps)
	if c.Experts > 0 {
		fmt.Fprintf(stdout, "experts: %d, %d used per token, expert ffn %d", c.Experts, c.ExpertsUsed, c.ExpertFFN)
		if c.SharedFFN > 0 {
			fmt.Fprintf(stdout, ", shared expert ffn %d", c.SharedFFN)
		}
		fmt.Fprintln(stdout)
	}
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
