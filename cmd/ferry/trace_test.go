package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTraceSynthAnalyze(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	code, out, errs := ferry(t, "trace", "synth", "-o", path, "--tokens", "600", "--layers", "8", "--spec-accuracy", "0.8", "--seed", "3")
	if code != 0 || !strings.Contains(out, "synthetic trace, 600 tokens") {
		t.Fatalf("synth: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = ferry(t, "trace", "analyze", path, "--cache", "25%", "--segments", "4,8")
	if code != 0 {
		t.Fatalf("analyze: exit %d\n%s", code, errs)
	}
	for _, want := range []string{"synthetic trace", "BELADY", "lru", "lfu", "activation", "speculative", "fmoe", "SRP", "SCH", "cache: 16 experts (25.0% of 64)"} {
		if !strings.Contains(out, want) {
			t.Errorf("analyze output lacks %q:\n%s", want, out)
		}
	}
	// Flags after the file, JSON.
	code, out, errs = ferry(t, "trace", "analyze", "--json", path, "--cache", "20", "--policies", "lru,fmoe")
	if code != 0 {
		t.Fatalf("analyze --json: exit %d\n%s", code, errs)
	}
	var rep struct {
		Synthetic    bool    `json:"synthetic"`
		CacheExperts int     `json:"cache_experts"`
		Belady       float64 `json:"belady_hit_rate"`
		Policies     []struct {
			Name             string  `json:"name"`
			HitRate          float64 `json:"hit_rate"`
			PrefetchAccuracy float64 `json:"prefetch_accuracy"`
		} `json:"policies"`
		Segments []struct {
			Length int     `json:"length"`
			SRP    float64 `json:"srp"`
			SCH    float64 `json:"sch"`
		} `json:"segments"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !rep.Synthetic || rep.CacheExperts != 20 || len(rep.Policies) != 2 || rep.Policies[1].Name != "fmoe" ||
		len(rep.Segments) != 5 || rep.Belady <= 0 || rep.Policies[0].HitRate <= 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestTraceErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"format":"ferry-moe-trace","version":1,"layers":1,"experts":4,"top_k":1}`+"\n"+`{"req":0,"tok":0,"layers":[{"e":[7]}]}`+"\n"), 0o644)
	good := filepath.Join(dir, "good.jsonl")
	if code, _, errs := ferry(t, "trace", "synth", "-o", good, "--tokens", "50"); code != 0 {
		t.Fatal(errs)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"trace"}, 2, "analyze or synth"},
		{[]string{"trace", "replay"}, 2, `unknown subcommand "replay"`},
		{[]string{"trace", "analyze", good}, 2, "no --cache"},
		{[]string{"trace", "analyze", good, "--cache", "0"}, 2, "--cache"},
		{[]string{"trace", "analyze", good, "--cache", "150%"}, 2, "--cache"},
		{[]string{"trace", "analyze", good, "--cache", "8", "--policies", "lru,arc"}, 2, "lru, lfu, activation, speculative, fmoe"},
		{[]string{"trace", "analyze", good, "--cache", "8", "--segments", "4,x"}, 2, "--segments"},
		{[]string{"trace", "analyze", "--cache", "8"}, 2, "one trace file"},
		{[]string{"trace", "analyze", filepath.Join(dir, "missing"), "--cache", "8"}, 1, "no such file"},
		{[]string{"trace", "analyze", bad, "--cache", "8"}, 1, "line 2: layer 0: expert 7 is outside [0, 4)"},
		{[]string{"trace", "synth"}, 2, "-o FILE"},
		{[]string{"trace", "synth", "-o", good, "--top-k", "9"}, 2, "top_k 9"},
		{[]string{"trace", "synth", "-o", good, "--locality", "2"}, 2, "locality"},
	}
	for _, c := range cases {
		code, _, errs := ferry(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("ferry %v: exit %d, %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}
