package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"ferry/engine"
)

// modelFlags are the flags every model-using command shares.
type modelFlags struct {
	model     string
	ctx       int
	threads   int
	prompt    string
	promptIDs string
}

func (m *modelFlags) register(fs *flag.FlagSet, withPrompt bool) {
	fs.StringVar(&m.model, "m", "", "GGUF model `file` (default: the embedded stories260k)")
	fs.StringVar(&m.model, "model", "", "same as -m")
	fs.IntVar(&m.ctx, "ctx", 0, "context length in tokens (default: the model's, at most 4096)")
	fs.IntVar(&m.threads, "threads", 0, "threads for the kernels (default: all cores)")
	if withPrompt {
		fs.StringVar(&m.prompt, "p", "", "prompt `text`")
		fs.StringVar(&m.prompt, "prompt", "", "same as -p")
		fs.StringVar(&m.promptIDs, "prompt-ids", "", "prompt as comma-separated token `ids` (instead of -p)")
	}
}

func (m *modelFlags) load() (*engine.Engine, error) {
	setThreads(m.threads)
	return engine.Load(m.model, engine.Options{Context: m.ctx})
}

// promptTokens returns the prompt as ids: --prompt-ids verbatim, or -p
// tokenized with BOS as the model's metadata says and special tokens parsed.
func (m *modelFlags) promptTokens(e *engine.Engine, required bool) ([]int32, error) {
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
