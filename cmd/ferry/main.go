// Command ferry runs GGUF language models, including models larger than the
// memory they must run in.
//
// Usage:
//
//	ferry run      [-m MODEL] [-p TEXT | --prompt-ids 1,2,3] [-n N] [sampling flags] [--json]
//	ferry eval     [-m MODEL] (-p TEXT | --prompt-ids ...) --logits OUT.f32
//	ferry tokenize [-m MODEL] [--no-bos] [--parse-special] [--] TEXT
//	ferry inspect  [-m MODEL] [--json]
//
// Without -m, ferry uses its embedded default model, stories260k.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var commands = map[string]command{
	"run":      {"generate text from a prompt", cmdRun},
	"eval":     {"evaluate a prompt and write the logits of every position", cmdEval},
	"tokenize": {"print the token ids of a text", cmdTokenize},
	"inspect":  {"print a model's architecture, hyper-parameters and tensors", cmdInspect},
	"batch":    {"generate for many prompts at once, one pass of the weights per step", cmdBatch},
	"plan":     {"show where each weight lives under a memory budget and the predicted speed", cmdPlan},
	"demo":     {"synthesize a model four times a memory budget and run it within the budget", cmdDemo},
	"bench":    {"measure prefill and decode speed against the memory and disk bounds", cmdBench},
	"synth":    {"write a random-weight model at a real model's shape", cmdSynth},
	"quantize": {"convert a model's weights to another type (Q8_0, Q4_K_M, ...)", cmdQuantize},
	"serve":    {"serve the model over HTTP (OpenAI and Ollama APIs, continuous batching)", cmdServe},
	"trace":    {"analyse MoE routing traces (expert cache policies vs Belady, SRP, SCH) or synthesize one", cmdTrace},
}

// usageError marks errors in the command line (exit status 2).
type usageError struct{ error }

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs ferry with args and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ferry: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(args[1:], stdout)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "ferry %s: %v\n", args[0], err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "ferry runs GGUF language models, even ones larger than memory.\n\nUsage: ferry COMMAND [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nWithout -m, ferry uses its embedded default model (stories260k).\nRun 'ferry COMMAND -h' for a command's flags.\n")
}

// newFlags returns a flag set for a subcommand whose errors are returned, not printed and exited.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ferry "+name, flag.ContinueOnError)
	return fs
}

// parse parses args, wrapping errors as usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

// setThreads applies --threads.
func setThreads(n int) {
	if n > 0 {
		runtime.GOMAXPROCS(n)
	}
}
