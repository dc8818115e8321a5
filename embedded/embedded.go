// Package embedded carries the default model built into the ferry binary:
// stories260k, Karpathy's llama2.c model trained on TinyStories (260K
// parameters, MIT license), as published in GGUF by the ggml project. It
// lets `ferry run` tell a story on a fresh machine with nothing downloaded.
package embedded

import _ "embed"

// Name is the file name of the embedded model.
const Name = "stories260k.gguf"

// Model holds the bytes of stories260k.gguf
// (sha256 270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d).
//
//go:embed stories260k.gguf
var Model []byte
