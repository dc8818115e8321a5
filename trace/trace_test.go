package trace

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	o := DefaultSynthOptions()
	o.Tokens, o.Layers, o.Requests, o.SpecAccuracy = 300, 6, 5, 0.7
	tr := Synth(o)
	var buf bytes.Buffer
	if _, err := tr.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Header, tr.Header) {
		t.Fatalf("header %+v, wrote %+v", got.Header, tr.Header)
	}
	if !reflect.DeepEqual(got.Tokens, tr.Tokens) {
		t.Fatal("tokens differ after a round trip")
	}
	if got.Requests() != 5 || !got.HasSpec() || !got.Header.Synthetic {
		t.Fatalf("requests %d, spec %v, synthetic %v", got.Requests(), got.HasSpec(), got.Header.Synthetic)
	}
}

func TestWriterFormat(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Model: "m", Layers: 2, Experts: 8, TopK: 2})
	if err != nil {
		t.Fatal(err)
	}
	tok := Token{Req: 0, Tok: 12, Layers: []Route{{Experts: []int{3, 5}, Weights: []float32{0.61, 0.39}, Spec: []int{3, 1}}, {Experts: []int{0, 7}}}}
	if err := w.Write(tok); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	want := `{"format":"ferry-moe-trace","version":1,"model":"m","layers":2,"experts":8,"top_k":2,"synthetic":false}
{"req":0,"tok":12,"layers":[{"e":[3,5],"w":[0.61,0.39],"spec":[3,1]},{"e":[0,7]}]}
`
	if buf.String() != want {
		t.Fatalf("wrote\n%s\nwant\n%s", buf.String(), want)
	}
	// The writer checks tokens as the reader does.
	if err := w.Write(Token{Req: 0, Tok: 12, Layers: tok.Layers}); err == nil {
		t.Fatal("a repeated tok was written")
	}
	if err := w.Write(Token{Req: 1, Tok: 0, Layers: []Route{{Experts: []int{8}}, {Experts: []int{1}}}}); err == nil {
		t.Fatal("an expert out of range was written")
	}
	if _, err := NewWriter(&buf, Header{Layers: 2, Experts: 8, TopK: 9}); err == nil {
		t.Fatal("top_k above experts accepted")
	}
}

func TestReadErrors(t *testing.T) {
	const head = `{"format":"ferry-moe-trace","version":1,"model":"m","layers":2,"experts":4,"top_k":2}` + "\n"
	tok := func(s string) string { return head + s + "\n" }
	cases := []struct{ in, want string }{
		{"", "no header"},
		{"\n\n", "no header"},
		{"nonsense\n", "line 1: header"},
		{`{"format":"other","version":1,"layers":2,"experts":4,"top_k":2}`, `format is "other"`},
		{`{"format":"ferry-moe-trace","version":2,"layers":2,"experts":4,"top_k":2}`, "version 2"},
		{`{"format":"ferry-moe-trace","version":1,"layers":1000000000,"experts":4,"top_k":2}`, "layers 1000000000"},
		{`{"format":"ferry-moe-trace","version":1,"layers":2,"experts":0,"top_k":1}`, "experts 0"},
		{`{"format":"ferry-moe-trace","version":1,"layers":4096,"experts":4096,"top_k":1}`, "layers x experts"},
		{`{"format":"ferry-moe-trace","version":1,"layers":2,"experts":4,"top_k":5}`, "top_k 5"},
		{`{"format":"ferry-moe-trace","version":1,"layers":"2","experts":4,"top_k":2}`, `field "layers"`},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[1]}]}`), "line 2: 1 layers, the header says 2"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[1]},{"e":[4]}]}`), "line 2: layer 1: expert 4 is outside [0, 4)"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[-1]},{"e":[0]}]}`), "expert -1 is outside"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[1,1]},{"e":[0]}]}`), "expert 1 appears twice"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[]},{"e":[0]}]}`), "0 experts selected"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[0,1,2]},{"e":[0]}]}`), "3 experts selected"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[0],"w":[0.5,0.5]},{"e":[0]}]}`), "2 weights for 1 experts"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[0]},{"e":[0],"spec":[1]}]}`), "last but has a spec"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[0],"spec":[9]},{"e":[0]}]}`), "spec expert 9"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[1.5]},{"e":[0]}]}`), "line 2:"},
		{tok(`{"req":-1,"tok":0,"layers":[{"e":[1]},{"e":[0]}]}`), "negative"},
		{tok(`[1,2]`), "line 2: not a JSON object"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[1]},{"e":[0]}]`), "line 2:"},
		{tok(`{"req":0,"tok":3,"layers":[{"e":[1]},{"e":[0]}]}` + "\n" + `{"req":0,"tok":3,"layers":[{"e":[1]},{"e":[0]}]}`), "line 3: request 0: tok 3 does not follow tok 3"},
		{tok(`{"req":0,"tok":0,"layers":[{"e":[1]},{"e":[0]}]}` + "\n" + `{"req":1,"tok":0,"layers":[{"e":[1]},{"e":[0]}]}` + "\n" + `{"req":0,"tok":1,"layers":[{"e":[1]},{"e":[0]}]}`), "line 4: request 0 resumes"},
	}
	for _, c := range cases {
		_, err := Read(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read(%.80q): error %v, want one containing %q", c.in, err, c.want)
		}
	}
	// Blank lines and unknown fields are fine.
	tr, err := Read(strings.NewReader("\n" + head + "\n" + `{"req":7,"tok":0,"layers":[{"e":[1],"x":1},{"e":[0,3],"w":[0.9,0.1]}],"note":"hi"}` + "\n\n"))
	if err != nil || len(tr.Tokens) != 1 || tr.Tokens[0].Req != 7 {
		t.Fatalf("Read of a valid trace: %v", err)
	}
}

func TestSynthDeterministicAndChecked(t *testing.T) {
	o := DefaultSynthOptions()
	o.Tokens, o.SpecAccuracy = 200, 0.5
	a, b := Synth(o), Synth(o)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same options gave different traces")
	}
	o.Seed++
	if reflect.DeepEqual(a.Tokens, Synth(o).Tokens) {
		t.Fatal("a different seed gave the same trace")
	}
	bad := []func(*SynthOptions){
		func(o *SynthOptions) { o.TopK = 9 },
		func(o *SynthOptions) { o.Locality = 1.5 },
		func(o *SynthOptions) { o.Skew = -1 },
		func(o *SynthOptions) { o.SpecAccuracy = 2 },
		func(o *SynthOptions) { o.Requests = o.Tokens + 1 },
		func(o *SynthOptions) { o.Layers = 0 },
	}
	for i, f := range bad {
		o := DefaultSynthOptions()
		f(&o)
		if o.Check() == nil {
			t.Errorf("bad option %d accepted", i)
		}
	}
	// Every generated token is valid, with exactly top_k experts, and the
	// guess is right about as often as asked.
	o = DefaultSynthOptions()
	o.Tokens, o.Experts, o.TopK, o.SpecAccuracy = 2000, 3, 2, 0.75
	tr := Synth(o)
	ck := newChecker(tr.Header)
	right, all := 0, 0
	for i, tok := range tr.Tokens {
		if err := ck.check(&tok); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		for l, r := range tok.Layers {
			if len(r.Experts) != o.TopK {
				t.Fatalf("token %d layer %d: %d experts", i, l, len(r.Experts))
			}
			if l+1 < o.Layers {
				for j, e := range r.Spec {
					all++
					if e == tok.Layers[l+1].Experts[j] {
						right++
					}
				}
			}
		}
	}
	if acc := float64(right) / float64(all); acc < 0.72 || acc > 0.85 {
		t.Fatalf("guess accuracy %.3f, asked 0.75 (3 experts: wrong guesses can only be the unused one)", acc)
	}
}

// FuzzRead checks that Read never panics and that what it accepts writes
// back in a form it reads to the same trace.
func FuzzRead(f *testing.F) {
	const head = `{"format":"ferry-moe-trace","version":1,"model":"m","layers":2,"experts":4,"top_k":2}`
	f.Add(head + "\n" + `{"req":0,"tok":0,"layers":[{"e":[1,2],"w":[0.7,0.3],"spec":[0]},{"e":[3]}]}`)
	f.Add(head + "\n" + `{"req":0,"tok":0,"layers":[{"e":[1]},{"e":[0]}]}` + "\n" + `{"req":1,"tok":5,"layers":[{"e":[2,3]},{"e":[0,1],"w":[1e-7,3]}]}`)
	f.Add(head + "\n" + `{"req":0,"tok":0,"layers":[{"e":[5]},{"e":[0]}]}`)
	f.Add(`{"format":"ferry-moe-trace","version":1,"layers":1,"experts":1,"top_k":1,"synthetic":true,"generator":{"tokens":1}}` + "\n" + `{"req":0,"tok":0,"layers":[{"e":[0]}]}`)
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := Read(strings.NewReader(in))
		if err != nil {
			return
		}
		var a, b bytes.Buffer
		if _, err := tr.WriteTo(&a); err != nil {
			t.Fatalf("WriteTo of an accepted trace: %v", err)
		}
		tr2, err := Read(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatalf("Read of a written trace: %v\n%s", err, a.String())
		}
		if _, err := tr2.WriteTo(&b); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("round trip changed the trace:\n%s\n%s", a.String(), b.String())
		}
		// Analysis of any valid trace must not panic either.
		if tr.Header.Layers*tr.Header.Experts <= 4096 {
			AnalyzeWith(tr, Options{CacheExperts: 2, Segments: []int{1, 2}})
		}
	})
}
