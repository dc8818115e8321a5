package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"ferry/sample"
)

// maxStops bounds the stop sequences of one request.
const maxStops = 16

// stringList is a JSON string or array of strings (OpenAI's "stop").
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*l = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = stringList{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return fmt.Errorf("expected a string or an array of strings")
	}
	*l = ss
	return nil
}

// stops validates stop sequences.
func stops(l []string) ([]string, *apiError) {
	if len(l) > maxStops {
		return nil, badRequest("stop", "at most %d stop sequences are supported, got %d", maxStops, len(l))
	}
	var out []string
	for _, s := range l {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// promptField is OpenAI's completion prompt: a string, an array of one
// string, an array of token ids, or an array of one array of token ids.
type promptField struct {
	text   string
	tokens []int32
	isText bool
	set    bool
	many   int // number of prompts when an array of several was given
}

func (p *promptField) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	p.set = true
	if len(b) > 0 && b[0] == '"' {
		p.isText = true
		return json.Unmarshal(b, &p.text)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("expected a string, an array of strings or an array of token ids")
	}
	if len(raw) == 0 {
		p.isText = true
		return nil
	}
	first := bytes.TrimSpace(raw[0])
	switch {
	case first[0] == '"' || first[0] == '[':
		p.many = len(raw)
		if len(raw) != 1 {
			return nil
		}
		return p.UnmarshalJSON(first)
	}
	var ids []int32
	if err := json.Unmarshal(b, &ids); err != nil {
		return fmt.Errorf("expected a string, an array of strings or an array of token ids")
	}
	p.tokens = ids
	return nil
}

// sampling holds the sampling fields shared by the endpoints, already
// defaulted per API.
type sampling struct {
	temperature   float64
	topP          float64
	topK          int
	minP          float64
	repeatPenalty float64
	repeatLastN   int
	seed          *int64
}

// params validates s and returns the sampler's parameters.
func (s sampling) params() (sample.Params, *apiError) {
	switch {
	case s.temperature < 0:
		return sample.Params{}, badRequest("temperature", "temperature must not be negative, got %g", s.temperature)
	case s.topP < 0 || s.topP > 1:
		return sample.Params{}, badRequest("top_p", "top_p must be between 0 and 1, got %g", s.topP)
	case s.topK < 0:
		return sample.Params{}, badRequest("top_k", "top_k must not be negative, got %d", s.topK)
	case s.minP < 0 || s.minP > 1:
		return sample.Params{}, badRequest("min_p", "min_p must be between 0 and 1, got %g", s.minP)
	case s.repeatPenalty < 0:
		return sample.Params{}, badRequest("repeat_penalty", "repeat_penalty must not be negative, got %g", s.repeatPenalty)
	}
	p := sample.Params{
		Temperature: float32(s.temperature), TopP: float32(s.topP), TopK: s.topK, MinP: float32(s.minP),
		RepeatPenalty: float32(s.repeatPenalty), RepeatLastN: s.repeatLastN,
	}
	if s.topP == 0 {
		p.Temperature = 0 // only the most likely token survives
	}
	if p.RepeatPenalty == 0 {
		p.RepeatPenalty = 1
	}
	if s.seed != nil && *s.seed >= 0 {
		p.Seed = uint64(*s.seed)
	} else {
		p.Seed = rand.Uint64()
	}
	return p, nil
}

func orFloat(p *float64, def float64) float64 {
	if p != nil {
		return *p
	}
	return def
}

func orInt(p *int, def int) int {
	if p != nil {
		return *p
	}
	return def
}

// truthy reports whether a raw JSON value is set to something other than
// null, false, 0 or "".
func truthy(b json.RawMessage) bool {
	s := strings.TrimSpace(string(b))
	return s != "" && s != "null" && s != "false" && s != "0" && s != `""` && s != "[]"
}
