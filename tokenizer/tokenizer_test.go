package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"ferry/gguf"
)

// fixture returns the path of a shared fixture, skipping the test when the
// fixtures are absent.
func fixture(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "fixtures", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s absent (../shared/fixtures is provided in CI): %v", p, err)
	}
	return p
}

var (
	loadMu sync.Mutex
	loaded = map[string]*Tokenizer{}
)

// load builds (once per test binary) the tokenizer of a fixture vocabulary.
func load(t testing.TB, name string) *Tokenizer {
	t.Helper()
	p := fixture(t, name)
	loadMu.Lock()
	defer loadMu.Unlock()
	if tk := loaded[name]; tk != nil {
		return tk
	}
	tk, err := Load(p)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	loaded[name] = tk
	return tk
}

// vocabCase is one llama.cpp test vector.
type vocabCase struct {
	text string
	want []int32
}

// readVectors reads NAME.gguf.inp and NAME.gguf.out as llama.cpp's
// test-tokenizer-0 does: strings are separated by "\n__ggml_vocab_test__\n",
// expected ids are one line per string.
func readVectors(t testing.TB, name string) []vocabCase {
	t.Helper()
	inp, err := os.ReadFile(fixture(t, "tokenizer/ggml-vocab-"+name+".gguf.inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(fixture(t, "tokenizer/ggml-vocab-"+name+".gguf.out"))
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	lines := strings.Split(string(out), "\n")
	if len(texts) != len(lines) {
		t.Fatalf("%s: %d strings but %d expected-id lines", name, len(texts), len(lines))
	}
	cases := make([]vocabCase, len(texts))
	for i := range texts {
		cases[i].text = texts[i]
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s line %d: %v", name, i+1, err)
			}
			cases[i].want = append(cases[i].want, int32(id))
		}
	}
	return cases
}

var vocabNames = []string{"deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-spm", "mpt", "phi-3", "refact", "starcoder"}

// TestVocabVectors checks every llama.cpp test vector of every vocabulary.
func TestVocabVectors(t *testing.T) {
	for _, name := range vocabNames {
		t.Run(name, func(t *testing.T) {
			tk := load(t, "tokenizer/ggml-vocab-"+name+".gguf")
			cases := readVectors(t, name)
			pass := 0
			for i, c := range cases {
				got := tk.Encode(c.text, false, false)
				if slices.Equal(got, c.want) {
					pass++
					continue
				}
				t.Errorf("case %d %q:\n got  %v\n want %v", i, c.text, got, c.want)
			}
			t.Logf("%s: %d/%d vectors pass", name, pass, len(cases))
		})
	}
}

// TestRoundTrip checks Decode(Encode(s)) == s on the test strings.
func TestRoundTrip(t *testing.T) {
	for _, name := range vocabNames {
		t.Run(name, func(t *testing.T) {
			tk := load(t, "tokenizer/ggml-vocab-"+name+".gguf")
			for i, c := range readVectors(t, name) {
				want := c.text
				if got := tk.Decode(tk.Encode(want, false, false)); got != want {
					t.Errorf("case %d: Decode(Encode(%q)) = %q", i, want, got)
				}
				// With BOS, llama.cpp keeps the space prefix.
				if tk.spm && want != "" {
					ids := tk.Encode(want, true, false)
					if ids[0] != tk.BOS() {
						t.Fatalf("no BOS: %v", ids)
					}
					if got := tk.Decode(ids); got != " "+want {
						t.Errorf("case %d: Decode(BOS+Encode(%q)) = %q", i, want, got)
					}
				}
			}
		})
	}
}

type promptFixture struct {
	Prompt       string  `json:"prompt"`
	PromptTokens []int32 `json:"prompt_tokens"`
}

// TestModelPrompts checks the text prompts of the model fixtures.
func TestModelPrompts(t *testing.T) {
	for _, name := range []string{"text-llama-spm-f16", "stories260k"} {
		t.Run(name, func(t *testing.T) {
			tk := load(t, "models/"+name+".gguf")
			raw, err := os.ReadFile(fixture(t, "models/"+name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var fx promptFixture
			if err := json.Unmarshal(raw, &fx); err != nil {
				t.Fatal(err)
			}
			if !tk.AddBOS() {
				t.Errorf("AddBOS false for an SPM vocabulary")
			}
			got := tk.Encode(fx.Prompt, true, false)
			if !slices.Equal(got, fx.PromptTokens) {
				t.Fatalf("Encode(%q):\n got  %v\n want %v", fx.Prompt, got, fx.PromptTokens)
			}
			if d := tk.Decode(got); d != " "+fx.Prompt {
				t.Errorf("Decode = %q", d)
			}
			if d := tk.Decode(got[1:]); d != fx.Prompt {
				t.Errorf("Decode without BOS = %q", d)
			}
		})
	}
}

// TestStreamingDecoder checks the decoder holds back split characters and
// never emits invalid UTF-8.
func TestStreamingDecoder(t *testing.T) {
	tk := load(t, "tokenizer/ggml-vocab-llama-spm.gguf")
	// 🦙 is not a token: it is spelled with four byte tokens.
	ids := tk.Encode("a 🦙 b", false, false)
	var llama []int // positions of the byte tokens
	for i, id := range ids {
		if p := tk.Piece(id); len(p) == 1 && p[0] >= 0x80 {
			llama = append(llama, i)
		}
	}
	if len(llama) != 4 {
		t.Fatalf("expected the llama to take 4 byte tokens, ids %v", ids)
	}
	d := tk.NewDecoder()
	var all []byte
	for i, id := range ids {
		out := d.Add(id)
		if !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 %q after %d", out, id)
		}
		switch {
		case i >= llama[0] && i < llama[3] && len(out) != 0:
			t.Fatalf("token %d: partial character emitted: %q", i, out)
		case i == llama[3] && string(out) != "🦙":
			t.Fatalf("token %d: got %q, want the llama", i, out)
		}
		all = append(all, out...)
	}
	all = append(all, d.Flush()...)
	if string(all) != " a 🦙 b" {
		t.Fatalf("streamed %q", all)
	}

	// Broken sequences come out as U+FFFD, never as invalid bytes.
	lead, _ := tk.ID("<0xF0>")
	cont, _ := tk.ID("<0x9F>")
	x, _ := tk.ID("x")
	d = tk.NewDecoder()
	var got []byte
	for _, id := range []int32{lead, cont, x, cont, lead} {
		out := d.Add(id)
		if !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 %q", out)
		}
		got = append(got, out...)
	}
	got = append(got, d.Flush()...)
	if string(got) != "\uFFFD\uFFFDx\uFFFD\uFFFD" {
		t.Fatalf("got %q", got)
	}

	// Streaming with StripPrefixSpace gives exactly Decode's text.
	for _, name := range vocabNames {
		tk := load(t, "tokenizer/ggml-vocab-"+name+".gguf")
		for _, c := range readVectors(t, name) {
			for _, bos := range []bool{false, true} {
				ids := tk.Encode(c.text, bos, false)
				d := tk.NewDecoder().StripPrefixSpace()
				var all []byte
				for _, id := range ids {
					out := d.Add(id)
					if !utf8.Valid(out) {
						t.Fatalf("%s: invalid UTF-8 %q", name, out)
					}
					all = append(all, out...)
				}
				all = append(all, d.Flush()...)
				if want := tk.Decode(ids); string(all) != want {
					t.Errorf("%s: streamed %q, Decode %q", name, all, want)
				}
			}
		}
	}
}

// TestParseSpecial checks special-token parsing on and off.
func TestParseSpecial(t *testing.T) {
	tk := load(t, "tokenizer/ggml-vocab-phi-3.gguf")
	user, _ := tk.ID("<|user|>")
	end, _ := tk.ID("<|end|>")
	if user < 0 || end < 0 {
		t.Fatal("phi-3 special tokens missing")
	}
	text := "<|user|>\nHi<|end|>"
	on := tk.Encode(text, true, true)
	off := tk.Encode(text, true, false)
	if on[0] != tk.BOS() || on[1] != user || on[len(on)-1] != end {
		t.Errorf("parseSpecial=true: %v", on)
	}
	if slices.Contains(off, end) {
		t.Errorf("parseSpecial=false produced <|end|>: %v", off)
	}
	if got := tk.Decode(off[1:]); got != text {
		t.Errorf("parseSpecial=false does not round-trip: %q", got)
	}
	if !tk.IsEOG(end) || !tk.IsEOG(tk.EOS()) {
		t.Errorf("<|end|> and EOS should end generation")
	}
	if len(tk.Piece(end)) != 0 || string(tk.TokenPiece(end, true)) != "<|end|>" {
		t.Errorf("control piece: %q / %q", tk.Piece(end), tk.TokenPiece(end, true))
	}

	bpe := load(t, "tokenizer/ggml-vocab-gpt-2.gguf")
	eot, ok := bpe.ID("<|endoftext|>")
	if !ok || !bpe.IsEOG(eot) || bpe.EOT() != eot {
		t.Fatalf("gpt-2 <|endoftext|>: id %d eog %v eot %d", eot, bpe.IsEOG(eot), bpe.EOT())
	}
	s := "a<|endoftext|>b"
	if got := bpe.Encode(s, false, true); !slices.Equal(got, []int32{64, eot, 65}) {
		t.Errorf("parseSpecial=true: %v", got)
	}
	if got := bpe.Encode(s, false, false); slices.Contains(got, eot) || bpe.Decode(got) != s {
		t.Errorf("parseSpecial=false: %v", got)
	}
	if bpe.AddBOS() {
		t.Errorf("gpt-2 should not add BOS")
	}
}

// TestUserDefinedAlwaysParsed checks that user-defined tokens are split out
// even without parseSpecial, and get llama.cpp's space prefix after them.
func TestUserDefinedAlwaysParsed(t *testing.T) {
	v := tinySPM()
	v.Tokens = append(v.Tokens, "<tag>")
	v.Scores = append(v.Scores, 0)
	v.Types = append(v.Types, TypeUserDefined)
	tk, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	tag := int32(len(v.Tokens) - 1)
	got := tk.Encode("ab<tag>ab", false, false)
	ab, _ := tk.ID("▁ab")
	if !slices.Equal(got, []int32{ab, tag, ab}) {
		t.Fatalf("got %v", got)
	}
}

// tinySPM is a small hand-built SentencePiece vocabulary.
func tinySPM() *Vocab {
	v := &Vocab{Model: ModelSPM, BOS: 1, EOS: 2, UNK: 0, PAD: -1, EOT: -1, AddBOS: true, AddSpacePrefix: true}
	add := func(s string, score float32, typ int32) {
		v.Tokens = append(v.Tokens, s)
		v.Scores = append(v.Scores, score)
		v.Types = append(v.Types, typ)
	}
	add("<unk>", 0, TypeUnknown)
	add("<s>", 0, TypeControl)
	add("</s>", 0, TypeControl)
	for b := 0; b < 256; b++ {
		add(fmt.Sprintf("<0x%02X>", b), 0, TypeByte)
	}
	add("▁", -1, TypeNormal)
	add("a", -2, TypeNormal)
	add("b", -2, TypeNormal)
	add("ab", -3, TypeNormal)
	add("▁a", -4, TypeNormal)
	add("▁ab", -5, TypeNormal)
	return v
}

// TestSPMMergeOrder checks the score-driven merge order on a tiny vocabulary.
func TestSPMMergeOrder(t *testing.T) {
	v := tinySPM()
	tk, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	// "▁ab": "ab" (-3) merges before "▁a" (-4), leaving "▁"+"ab" = "▁ab".
	if got := tk.Encode("ab", false, false); len(got) != 1 || tk.Token(got[0]) != "▁ab" {
		t.Fatalf("got %v", got)
	}
	// Characters that are not tokens fall back to byte tokens.
	got := tk.Encode("é", false, false)
	space, _ := tk.ID("▁")
	c3, _ := tk.ID("<0xC3>")
	a9, _ := tk.ID("<0xA9>")
	if want := []int32{space, c3, a9}; !slices.Equal(got, want) {
		t.Fatalf("é: got %v want %v", got, want)
	}
}

func TestErrors(t *testing.T) {
	v := tinySPM()
	v.Scores = v.Scores[:3]
	if _, err := New(v); err == nil || !strings.Contains(err.Error(), "scores") {
		t.Errorf("mismatched scores: %v", err)
	}
	v = tinySPM()
	v.Types = append(v.Types, 1)
	if _, err := New(v); err == nil || !strings.Contains(err.Error(), "types") {
		t.Errorf("mismatched types: %v", err)
	}
	v = tinySPM()
	v.BOS = int32(len(v.Tokens))
	if _, err := New(v); err == nil {
		t.Errorf("out-of-range BOS accepted")
	}
	v = tinySPM()
	v.Tokens[5] = v.Tokens[6]
	if _, err := New(v); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate token: %v", err)
	}
	if _, err := New(&Vocab{Model: "bert", Tokens: []string{"a"}, BOS: -1, EOS: -1, UNK: -1, PAD: -1, EOT: -1}); err == nil {
		t.Errorf("unknown model accepted")
	}
	bpe := &Vocab{Model: ModelBPE, Pre: "no-such-pre", Tokens: []string{"a", "b"}, BOS: -1, EOS: -1, UNK: -1, PAD: -1, EOT: -1}
	if _, err := New(bpe); err == nil || !strings.Contains(err.Error(), "no-such-pre") {
		t.Errorf("unknown pre-tokenizer: %v", err)
	}
}

// TestGGUFErrors checks VocabFromGGUF's errors on bad metadata.
func TestGGUFErrors(t *testing.T) {
	build := func(kv ...gguf.KV) *gguf.File {
		t.Helper()
		var buf bytes.Buffer
		w, err := gguf.NewWriter(&buf, kv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Parse(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	toks := gguf.KV{Key: keyTokens, Value: gguf.ArrayOf(gguf.TypeString, []string{"a", "b", "c"})}
	merges := gguf.KV{Key: keyMerges, Value: gguf.ArrayOf(gguf.TypeString, []string{"a b"})}
	cases := []struct {
		name string
		kv   []gguf.KV
		want string
	}{
		{"no model", []gguf.KV{toks}, keyModel},
		{"unknown model", []gguf.KV{{Key: keyModel, Value: gguf.String("t5x")}, toks}, "t5x"},
		{"unknown pre", []gguf.KV{{Key: keyModel, Value: gguf.String("gpt2")}, {Key: keyPre, Value: gguf.String("mystery-bpe")}, toks, merges}, "mystery-bpe"},
		{"no merges", []gguf.KV{{Key: keyModel, Value: gguf.String("gpt2")}, {Key: keyPre, Value: gguf.String("gpt-2")}, toks}, keyMerges},
		{"no tokens", []gguf.KV{{Key: keyModel, Value: gguf.String("llama")}}, keyTokens},
		{"score length", []gguf.KV{{Key: keyModel, Value: gguf.String("llama")}, toks, {Key: keyScores, Value: gguf.ArrayOf(gguf.TypeFloat32, []float32{1, 2})}}, keyScores},
		{"type length", []gguf.KV{{Key: keyModel, Value: gguf.String("llama")}, toks, {Key: keyTypes, Value: gguf.ArrayOf(gguf.TypeInt32, []int32{1, 1, 1, 1})}}, keyTypes},
	}
	for _, c := range cases {
		_, err := VocabFromGGUF(build(c.kv...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
	// A good one, with a bad special id ignored as llama.cpp ignores it.
	v, err := VocabFromGGUF(build(gguf.KV{Key: keyModel, Value: gguf.String("gpt2")}, gguf.KV{Key: keyPre, Value: gguf.String("qwen2")}, toks, merges,
		gguf.KV{Key: keyEOS, Value: gguf.Uint32(1)}, gguf.KV{Key: keyPAD, Value: gguf.Uint32(0xFFFFFFFF)}))
	if err != nil {
		t.Fatal(err)
	}
	if v.EOS != 1 || v.BOS != -1 || v.PAD != -1 || v.AddBOS {
		t.Errorf("vocab %+v", v)
	}
}

// TestPreTokenizers checks the pre-tokenizer scanners on strings whose
// splits follow from the expressions.
func TestPreTokenizers(t *testing.T) {
	split := func(name, s string) []string {
		p, err := lookupPre(name)
		if err != nil {
			t.Fatal(err)
		}
		cps := []rune(s)
		var out []string
		start := 0
		for _, n := range p.split(cps) {
			out = append(out, string(cps[start:start+n]))
			start += n
		}
		return out
	}
	cases := []struct {
		pre, in string
		want    []string
	}{
		{"gpt-2", "Hello world's  end!!\n\n 123", []string{"Hello", " world", "'s", " ", " end", "!!", "\n\n", " 123"}},
		{"llama3", "I'M 12345 ok?\n\n  x", []string{"I", "'M", " ", "123", "45", " ok", "?\n\n", " ", " x"}},
		{"qwen2", "ab 123", []string{"ab", " ", "1", "2", "3"}},
		{"gpt-4o", "HelloWORLD isn't", []string{"Hello", "WORLD", " isn't"}},
		{"gpt-4o", "ÉCOLEécole", []string{"ÉCOLEécole"}},
		{"tekken", "HelloWORLD", []string{"Hello", "WORLD"}},
		{"falcon", "a+b 12345", []string{"a", "+", "b", " ", "123", "45"}},
		{"starcoder", "x 12", []string{"x", " ", "1", "2"}},
		{"deepseek-coder", "ab\ncd 12", []string{"ab", "\n", "cd", " ", "1", "2"}},
		{"deepseek-llm", "Hi there  ", []string{"Hi", " there", "  "}},
		{"deepseek-llm", "“Hi”…", []string{"“", "Hi", "”", "…"}},
		{"deepseek-llm", "\u1f7d\u212a\u3000。", []string{"\u1f7d\u212a", "\u3000", "。"}},
		{"deepseek-v3", "x.foo 1234 中文", []string{"x", ".foo", " ", "123", "4", " ", "中文"}},
		{"poro-chat", "Hei, maailma!", []string{"Hei", ",", " maailma", "!"}},
	}
	for _, c := range cases {
		if got := split(c.pre, c.in); !slices.Equal(got, c.want) {
			t.Errorf("%s %q:\n got  %q\n want %q", c.pre, c.in, got, c.want)
		}
	}
	if len(PreTokenizers()) < 40 {
		t.Errorf("only %d pre-tokenizers", len(PreTokenizers()))
	}
}

// TestDetokenizeClean checks llama_detokenize's clean-up for GPT-2.
func TestDetokenizeClean(t *testing.T) {
	bpe := load(t, "tokenizer/ggml-vocab-gpt-2.gguf")
	s := "Hello , world ! It 's ' ok ' ."
	ids := bpe.Encode(s, false, false)
	if got := bpe.Decode(ids); got != s {
		t.Errorf("Decode = %q", got)
	}
	if got, want := bpe.Detokenize(ids, false, false), "Hello, world! It's'ok '."; got != want {
		t.Errorf("Detokenize = %q, want %q", got, want)
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, name := range []string{"gpt-2", "llama-spm"} {
		b.Run(name, func(b *testing.B) {
			tk := load(b, "tokenizer/ggml-vocab-"+name+".gguf")
			var sb strings.Builder
			for _, c := range readVectors(b, name) {
				sb.WriteString(c.text)
			}
			text := strings.Repeat(sb.String(), 2)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tk.Encode(text, false, false)
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	f, err := gguf.Open(fixture(b, "tokenizer/ggml-vocab-deepseek-llm.gguf"))
	if err != nil {
		b.Fatal(err)
	}
	v, err := VocabFromGGUF(f)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := New(v); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzEncode checks that any input tokenizes without panicking and that
// valid UTF-8 comes back as valid UTF-8.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "Hello world", "🦙\n\t 12345 'll", "\xff\xfe", "<|endoftext|>a", "ied 4 ½ months"} {
		f.Add(s)
	}
	spm := load(f, "tokenizer/ggml-vocab-llama-spm.gguf")
	bpe := load(f, "tokenizer/ggml-vocab-gpt-2.gguf")
	ds := load(f, "tokenizer/ggml-vocab-deepseek-llm.gguf")
	f.Fuzz(func(t *testing.T, s string) {
		for _, tk := range []*Tokenizer{spm, bpe, ds} {
			for _, special := range []bool{false, true} {
				ids := tk.Encode(s, true, special)
				for _, id := range ids {
					if id < 0 || int(id) >= tk.NVocab() {
						t.Fatalf("id %d out of range", id)
					}
				}
				d := tk.NewDecoder()
				var streamed []byte
				for _, id := range ids {
					streamed = append(streamed, d.Add(id)...)
				}
				streamed = append(streamed, d.Flush()...)
				if !utf8.Valid(streamed) {
					t.Fatalf("decoder emitted invalid UTF-8 %q", streamed)
				}
				if utf8.ValidString(s) && tk == bpe {
					if got := tk.Decode(ids); !utf8.ValidString(got) || (!special && got != s) {
						t.Fatalf("Decode(Encode(%q)) = %q", s, got)
					}
				}
			}
		}
	})
}
