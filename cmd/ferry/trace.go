package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"ferry/expert"
	"ferry/trace"
)

const traceUsage = `Usage: ferry trace analyze FILE --cache N|P% [--policies lru,lfu,...] [--segments 4,8,...] [--json]
       ferry trace synth -o FILE [--tokens N] [--layers L] [--experts E] [--top-k K] [--skew S]
                         [--locality P] [--requests R] [--patterns P] [--spec-accuracy A] [--seed S]

MoE routing traces (JSON lines: which experts each token used at each layer).
analyze replays expert cache policies over a trace and prints their hit rates
beside Belady's optimum, prefetch accuracy, and the local routing consistency
metrics SRP and SCH per segment length. synth writes a synthetic trace.
`

func cmdTrace(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("give a subcommand: analyze or synth (see ferry trace -h)")}
	}
	switch args[0] {
	case "analyze":
		return cmdTraceAnalyze(args[1:], stdout)
	case "synth":
		return cmdTraceSynth(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(os.Stderr, traceUsage)
		return flag.ErrHelp
	}
	return usageError{fmt.Errorf("unknown subcommand %q: give analyze or synth", args[0])}
}

func cmdTraceAnalyze(args []string, stdout io.Writer) error {
	fs := newFlags("trace analyze")
	cache := fs.String("cache", "", "cache size in experts across all layers, or a share of all experts such as 25%")
	policies := fs.String("policies", strings.Join(expert.Names(), ","), "comma-separated `policies` to replay: "+strings.Join(expert.Names(), ", "))
	segments := fs.String("segments", joinInts(trace.DefaultSegments), "comma-separated segment `lengths` (tokens) for SRP and SCH")
	prefetch := fs.Int("prefetch", 0, "most experts a policy may prefetch per layer (default: the trace's top-k)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), traceUsage+"\n")
		fs.PrintDefaults()
	}
	pos, err := traceArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Errorf("give one trace file (or - for standard input), not %d", len(pos))}
	}
	if *cache == "" {
		return usageError{errors.New("no --cache: give the cache size in experts (64) or as a share of all experts (25%)")}
	}
	var names []string
	for _, n := range strings.Split(*policies, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if _, err := expert.New(n, 1, 1); err != nil {
			return usageError{fmt.Errorf("--policies: unknown policy %q (known: %s)", n, strings.Join(expert.Names(), ", "))}
		}
		names = append(names, strings.ToLower(n))
	}
	if len(names) == 0 {
		return usageError{errors.New("--policies is empty")}
	}
	segs, err := parseInts(*segments)
	if err != nil {
		return usageError{fmt.Errorf("--segments: %v", err)}
	}
	if *prefetch < 0 {
		return usageError{errors.New("--prefetch must not be negative")}
	}
	var r io.Reader = os.Stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	tr, err := trace.Read(r)
	if err != nil {
		return fmt.Errorf("%s: %v", pos[0], err)
	}
	all := tr.Header.Layers * tr.Header.Experts
	n, err := parseCache(*cache, all)
	if err != nil {
		return usageError{fmt.Errorf("--cache: %v", err)}
	}
	rep := trace.AnalyzeWith(tr, trace.Options{CacheExperts: n, Policies: names, Segments: segs, Prefetch: *prefetch})
	if *asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(stdout, "trace: %s\n%s", pos[0], rep)
	return err
}

func cmdTraceSynth(args []string, stdout io.Writer) error {
	d := trace.DefaultSynthOptions()
	fs := newFlags("trace synth")
	out := fs.String("o", "", "output trace `file`")
	o := d
	fs.StringVar(&o.Model, "model", d.Model, "model `name` for the header")
	fs.IntVar(&o.Tokens, "tokens", d.Tokens, "tokens to generate")
	fs.IntVar(&o.Layers, "layers", d.Layers, "MoE layers")
	fs.IntVar(&o.Experts, "experts", d.Experts, "experts per layer")
	fs.IntVar(&o.TopK, "top-k", d.TopK, "experts selected per token per layer")
	fs.Float64Var(&o.Skew, "skew", d.Skew, "Zipf exponent of expert popularity within a layer (0: uniform)")
	fs.Float64Var(&o.Locality, "locality", d.Locality, "probability a token repeats the previous token's selection at a layer")
	fs.IntVar(&o.Requests, "requests", d.Requests, "requests the tokens are split into")
	fs.IntVar(&o.Patterns, "patterns", 0, "distinct request patterns, shared by similar requests (default: min(requests, 4))")
	fs.Float64Var(&o.SpecAccuracy, "spec-accuracy", 0, "if above 0, record a speculative guess for the next layer, right with this probability")
	fs.Uint64Var(&o.Seed, "seed", d.Seed, "random `seed`; the same options give the same trace")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), traceUsage+"\n")
		fs.PrintDefaults()
	}
	pos, err := traceArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}
	if *out == "" {
		return usageError{errors.New("no output file: give -o FILE")}
	}
	if err := o.Check(); err != nil {
		return usageError{err}
	}
	tr := trace.Synth(o)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if _, err := tr.WriteTo(f); err != nil {
		f.Close()
		os.Remove(*out)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(*out)
		return err
	}
	spec := "no speculative guesses"
	if o.SpecAccuracy > 0 {
		spec = fmt.Sprintf("guesses %.0f%% right", 100*o.SpecAccuracy)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s: synthetic trace, %d tokens in %d requests, %d layers x %d experts, top-%d, skew %g, locality %g, %s\n",
		*out, len(tr.Tokens), tr.Requests(), o.Layers, o.Experts, o.TopK, o.Skew, o.Locality, spec)
	return err
}

// traceArgs parses flags that may come before or after positional
// arguments and returns the positional ones ("--" ends the flags).
func traceArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseCache parses a cache size: a number of experts, or a percentage of
// all experts.
func parseCache(s string, all int) (int, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v > 0 && v <= 100) {
			return 0, fmt.Errorf("%q is not a percentage in (0, 100]", s)
		}
		return max(1, int(math.Round(v/100*float64(all)))), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a positive number of experts or a percentage such as 25%%", s)
	}
	return n, nil
}

func parseInts(s string) ([]int, error) {
	var v []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 1<<16 {
			return nil, fmt.Errorf("%q is not a length in [1, 65536]", f)
		}
		v = append(v, n)
	}
	return v, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
