package serve

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/ardanlabs/jinja"

	"ferry/gguf"
	"ferry/internal/fixtures"
	"ferry/tokenizer"
)

// TestPhi3Template renders Phi-3's own tokenizer.chat_template and checks
// the text and tokens against what the template and llama.cpp produce.
func TestPhi3Template(t *testing.T) {
	path := filepath.Join(fixtures.Dir(t), "tokenizer", "ggml-vocab-phi-3.gguf")
	g, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tokenizer.VocabFromGGUF(g)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	c := NewChatTemplate(g, tok)
	if c.Source == "" || c.CompileErr != nil {
		t.Fatalf("template %q: %v", c.Source, c.CompileErr)
	}
	msgs := []Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hello"}, {Role: "assistant", Content: "Hi there."}, {Role: "user", Content: "What is 2+2?"}}
	text, format, err := c.Render(msgs, true)
	if err != nil || format != "template" {
		t.Fatalf("render: %v (%s)", err, format)
	}
	// Phi-3's template drops system messages and always opens the reply.
	want := "<s><|user|>\nHello<|end|>\n<|assistant|>\nHi there.<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n"
	if text != want {
		t.Fatalf("rendered %q, want %q", text, want)
	}
	ids := Tokenize(tok, text)
	user, _ := tok.ID("<|user|>")
	end, _ := tok.ID("<|end|>")
	asst, _ := tok.ID("<|assistant|>")
	// As in llama.cpp, Phi-3's special tokens strip the white space after
	// them, so the prompt ends with <|assistant|>.
	if ids[0] != tok.BOS() || ids[1] != user || ids[len(ids)-1] != asst {
		t.Fatalf("tokens %v (BOS %d, <|user|> %d, <|assistant|> %d)", ids, tok.BOS(), user, asst)
	}
	n := 0
	for _, id := range ids {
		if id == end {
			n++
		}
	}
	if n != 3 || !tok.IsEOG(end) {
		t.Fatalf("%d <|end|> tokens in %v; <|end|> ends generation: %v", n, ids, tok.IsEOG(end))
	}
}

func TestTemplateFallbacks(t *testing.T) {
	msgs := []Message{{Role: "system", Content: "S"}, {Role: "user", Content: "U"}}
	chatml := &ChatTemplate{Fallback: FallbackChatML}
	if text, format, _ := chatml.Render(msgs, true); format != FallbackChatML ||
		text != "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n" {
		t.Fatalf("chatml %q (%s)", text, format)
	}
	plain := &ChatTemplate{Fallback: FallbackTranscript}
	if text, _, _ := plain.Render(msgs, false); text != "system: S\nuser: U\n" {
		t.Fatalf("transcript %q", text)
	}

	// A template that fails to render for a reason of its own falls back...
	broken, _ := jinja.Compile("{{ messages[0].content | nosuchfilter }}")
	c := &ChatTemplate{Source: "x", Fallback: FallbackTranscript, tmpl: broken}
	if text, format, err := c.Render(msgs, true); err != nil || format != FallbackTranscript || text == "" {
		t.Fatalf("broken template: %q %s %v", text, format, err)
	}
	// ...but raise_exception is the caller's error.
	strict, err := jinja.Compile("{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with a user message') }}{% endif %}{{ bos_token }}{{ messages[0].content }}{{ eos_token }}")
	if err != nil {
		t.Fatal(err)
	}
	c = &ChatTemplate{Source: "x", Fallback: FallbackTranscript, tmpl: strict, bos: "<s>", eos: "</s>"}
	_, _, err = c.Render(msgs, true)
	var te *TemplateError
	if !errors.As(err, &te) || te.Message != "Conversation must start with a user message" {
		t.Fatalf("raise_exception: %v", err)
	}
	if text, format, err := c.Render(msgs[1:], true); err != nil || format != "template" || text != "<s>U</s>" {
		t.Fatalf("strict template: %q %s %v", text, format, err)
	}
}
