package serve

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ardanlabs/jinja"

	"ferry/gguf"
	"ferry/tokenizer"
)

// Message is one chat message: a role (system, user, assistant, tool) and
// its text.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Fallback formats, used when the model has no chat template or its template
// cannot be rendered by ferry.
const (
	// FallbackChatML is ChatML ("<|im_start|>role\ncontent<|im_end|>\n", then
	// "<|im_start|>assistant\n"), chosen when the vocabulary has <|im_start|>.
	FallbackChatML = "chatml"
	// FallbackTranscript is a plain transcript, one "role: content" line per
	// message, then "assistant:" (for models with neither a template nor
	// ChatML tokens, such as the embedded stories260k).
	FallbackTranscript = "transcript"
)

// ChatTemplate renders chat messages into a prompt: with the model's own
// tokenizer.chat_template (Jinja) when it has one that renders, else with a
// fallback format (FallbackChatML or FallbackTranscript).
type ChatTemplate struct {
	// Source is the model's Jinja template ("" when it has none).
	Source string
	// CompileErr is why Source could not be compiled (nil when it was).
	CompileErr error
	// Fallback names the format used when the template is absent or fails.
	Fallback string
	tmpl     *jinja.Template
	bos, eos string
}

// TemplateError is a deliberate failure of a chat template: the template
// called raise_exception (say, because roles do not alternate). It is the
// caller's error, so no fallback is tried.
type TemplateError struct{ Message string }

// Error returns the template's message.
func (e *TemplateError) Error() string { return "chat template: " + e.Message }

// NewChatTemplate reads the chat template of a model's metadata.
func NewChatTemplate(g *gguf.File, tok *tokenizer.Tokenizer) *ChatTemplate {
	c := &ChatTemplate{Fallback: FallbackTranscript}
	if _, ok := tok.ID("<|im_start|>"); ok {
		if _, ok := tok.ID("<|im_end|>"); ok {
			c.Fallback = FallbackChatML
		}
	}
	if tok.BOS() >= 0 {
		c.bos = tok.Token(tok.BOS())
	}
	if tok.EOS() >= 0 {
		c.eos = tok.Token(tok.EOS())
	}
	if g != nil {
		c.Source, _ = g.String("tokenizer.chat_template")
	}
	if c.Source != "" {
		c.tmpl, c.CompileErr = jinja.Compile(c.Source)
	}
	return c
}

// Render returns the prompt text for msgs, ending with the opening of the
// assistant's reply when addGenerationPrompt. format says what rendered it:
// "template" or the fallback's name. A *TemplateError is returned when the
// model's template raised an exception; any other failure of the model's
// template falls back.
func (c *ChatTemplate) Render(msgs []Message, addGenerationPrompt bool) (text, format string, err error) {
	if c.tmpl != nil {
		text, err = c.renderJinja(msgs, addGenerationPrompt)
		var te *TemplateError
		if err == nil || errors.As(err, &te) {
			return text, "template", err
		}
	}
	return c.renderFallback(msgs, addGenerationPrompt), c.Fallback, nil
}

func (c *ChatTemplate) renderJinja(msgs []Message, addGen bool) (text string, err error) {
	defer func() {
		if r := recover(); r != nil { // a template engine bug must not take the server down
			err = fmt.Errorf("chat template: %v", r)
		}
	}()
	list := make([]any, len(msgs))
	for i, m := range msgs {
		list[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	var raised *TemplateError
	raise := jinja.NewCallable("raise_exception", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		msg := "raise_exception called"
		if len(args) > 0 {
			if args[0].IsString() {
				msg = args[0].AsString()
			} else {
				msg = args[0].String()
			}
		}
		raised = &TemplateError{Message: msg}
		return jinja.Undefined(), raised
	})
	vals := map[string]jinja.Value{
		"messages":              jinja.FromGoValue(list),
		"add_generation_prompt": jinja.FromGoValue(addGen),
		"bos_token":             jinja.FromGoValue(c.bos),
		"eos_token":             jinja.FromGoValue(c.eos),
		"raise_exception":       raise,
	}
	text, err = c.tmpl.RenderValues(vals)
	if err != nil && raised != nil {
		return "", raised
	}
	return text, err
}

func (c *ChatTemplate) renderFallback(msgs []Message, addGen bool) string {
	var b strings.Builder
	switch c.Fallback {
	case FallbackChatML:
		for _, m := range msgs {
			fmt.Fprintf(&b, "<|im_start|>%s\n%s<|im_end|>\n", m.Role, m.Content)
		}
		if addGen {
			b.WriteString("<|im_start|>assistant\n")
		}
	default:
		for _, m := range msgs {
			fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content)
		}
		if addGen {
			b.WriteString("assistant:")
		}
	}
	return b.String()
}

// Tokenize turns a rendered prompt into token ids: special-token texts
// (such as <|user|>) become their tokens, and BOS is prepended when the
// vocabulary asks for it and the text did not already start with it (many
// templates write bos_token themselves).
func Tokenize(tok *tokenizer.Tokenizer, text string) []int32 {
	ids := tok.Encode(text, false, true)
	if tok.AddBOS() && tok.BOS() >= 0 && (len(ids) == 0 || ids[0] != tok.BOS()) {
		ids = append([]int32{tok.BOS()}, ids...)
	}
	return ids
}
