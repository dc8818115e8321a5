package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"ferry/engine"
)

// modelFlags are the flags every model-using command shares.
type modelFlags struct {
	model      string
	ctx        int
	threads    int
	prompt     string
	promptIDs  string
	promptFile string
	mem        string
	batch      int
	noDirect   bool
	mmap       bool
	readers    int
	policy     string
	lowbit     string
	lowbitT    float64
	slots      int
	noPack     bool
}

func (m *modelFlags) register(fs *flag.FlagSet, withPrompt bool) {
	fs.StringVar(&m.model, "m", "", "GGUF model `file` (default: the embedded stories260k)")
	fs.StringVar(&m.model, "model", "", "same as -m")
	fs.IntVar(&m.ctx, "ctx", 0, "context length in tokens (default: the model's, at most 4096)")
	fs.IntVar(&m.threads, "threads", 0, "threads for the kernels (default: all cores)")
	fs.StringVar(&m.mem, "mem", "", "memory budget, e.g. 512MiB or 2GiB: weights that do not fit stream from disk")
	fs.IntVar(&m.batch, "batch-size", 64, "prompt tokens per forward pass")
	fs.BoolVar(&m.noDirect, "no-direct", false, "read weights through the page cache instead of O_DIRECT")
	fs.IntVar(&m.readers, "io-readers", 4, "disk reads kept in flight when streaming")
	fs.StringVar(&m.policy, "expert-policy", "", "MoE expert cache policy: lru, lfu, activation, speculative, fmoe (default fmoe, and a cache only when the model does not fit)")
	fs.StringVar(&m.lowbit, "expert-lowbit", "", "low-bit expert copies (from ferry quantize --expert-lowbit): misses for experts with a small router weight read these; approximate")
	fs.Float64Var(&m.lowbitT, "expert-lowbit-threshold", 0.25, "router weight below which a missing expert is read from the low-bit copies")
	fs.IntVar(&m.slots, "expert-slots", 0, "experts the MoE cache holds (default: what the budget allows)")
	fs.BoolVar(&m.noPack, "no-pack", false, "keep resident weights in the file's layout instead of the one the kernels read fastest (to compare)")
	fs.BoolVar(&m.mmap, "mmap", false, "map the model file and let the page cache decide residency, as llama.cpp does (a baseline; ignores --mem)")
	if withPrompt {
		fs.StringVar(&m.prompt, "p", "", "prompt `text`")
		fs.StringVar(&m.prompt, "prompt", "", "same as -p")
		fs.StringVar(&m.promptIDs, "prompt-ids", "", "prompt as comma-separated token `ids` (instead of -p)")
		fs.StringVar(&m.promptFile, "f", "", "read the prompt text from this `file` (- for standard input)")
	}
}

func (m *modelFlags) load() (*engine.Engine, error) {
	opts, err := m.options()
	if err != nil {
		return nil, err
	}
	return engine.Load(m.model, opts)
}

// options turns the flags into engine options (and applies --threads).
func (m *modelFlags) options() (engine.Options, error) {
	setThreads(m.threads)
	var mem int64
	if m.mem != "" {
		var err error
		if mem, err = ParseSize(m.mem); err != nil {
			return engine.Options{}, usageError{fmt.Errorf("--mem: %v", err)}
		}
	}
	if m.ctx < 0 {
		return engine.Options{}, usageError{fmt.Errorf("--ctx must not be negative")}
	}
	return engine.Options{
		Context: m.ctx, Mem: mem, Batch: m.batch, NoDirect: m.noDirect, Mmap: m.mmap,
		ExpertPolicy: m.policy, ExpertSlots: m.slots, Readers: m.readers,
		ExpertLowBit: m.lowbit, ExpertLowBitThreshold: float32(m.lowbitT), NoPack: m.noPack,
	}, nil
}

// ParseSize parses a byte count such as 512MiB, 2GiB, 1.5G, 600M or 1048576.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || v*mult > 1<<50 {
		return 0, fmt.Errorf("%q is not a size like 512MiB or 2GiB", s)
	}
	return int64(v * mult), nil
}

// promptTokens returns the prompt as ids: --prompt-ids verbatim, or -p
// tokenized with BOS as the model's metadata says and special tokens parsed.
func (m *modelFlags) promptTokens(e *engine.Engine, required bool) ([]int32, error) {
	if m.promptFile != "" {
		if m.prompt != "" || m.promptIDs != "" {
			return nil, usageError{fmt.Errorf("give one of -p, -f and --prompt-ids")}
		}
		var b []byte
		var err error
		if m.promptFile == "-" {
			b, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
		} else {
			b, err = os.ReadFile(m.promptFile)
		}
		if err != nil {
			return nil, err
		}
		m.prompt = string(b)
	}
	if m.promptIDs != "" && m.prompt != "" {
		return nil, usageError{fmt.Errorf("give -p or --prompt-ids, not both")}
	}
	if m.promptIDs != "" {
		return parseIDs(m.promptIDs)
	}
	if m.prompt == "" && required {
		return nil, usageError{fmt.Errorf("no prompt: give -p TEXT or --prompt-ids 1,2,3")}
	}
	ids := e.Tok.Encode(m.prompt, true, true)
	if len(ids) == 0 {
		return nil, fmt.Errorf("the prompt tokenizes to nothing and the model adds no BOS")
	}
	return ids, nil
}

func parseIDs(s string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, usageError{fmt.Errorf("--prompt-ids: %q is not a token id", f)}
		}
		ids = append(ids, int32(v))
	}
	if len(ids) == 0 {
		return nil, usageError{fmt.Errorf("--prompt-ids is empty")}
	}
	return ids, nil
}
