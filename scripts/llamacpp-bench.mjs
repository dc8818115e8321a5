// llamacpp-bench.mjs measures llama.cpp on a GGUF file the way `ferry bench`
// measures ferry: a prompt of P tokens evaluated as one batch (prefill),
// then N tokens decoded one at a time, on T CPU threads, no GPU. It runs
// llama.cpp through node-llama-cpp's prebuilt CPU libraries, so that the
// peer is measured on the same machine in the same minutes as ferry.
//
//   npm i -E node-llama-cpp@3.21.1        # once, in the directory of this file or above
//   node scripts/llamacpp-bench.mjs MODEL.gguf [P=64] [N=32] [T=2]
//
// It prints one JSON object: prefill_tok_s, decode_tok_s.
import {getLlama} from "node-llama-cpp";

const [, , modelPath, pArg = "64", nArg = "32", tArg = "2"] = process.argv;
if (!modelPath) {
	console.error("usage: node llamacpp-bench.mjs MODEL.gguf [prompt tokens] [decoded tokens] [threads]");
	process.exit(2);
}
const prompt = Number(pArg), decode = Number(nArg), threads = Number(tArg);

const llama = await getLlama({gpu: false, build: "never"});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
// The context holds the prompt and the decoded tokens (at least 512, as
// before); the prompt goes in batches of up to 512 tokens.
const context = await model.createContext({contextSize: Math.max(512, prompt + decode + 1), threads, batchSize: 512});
const sequence = context.getSequence();

// Token ids spread over the vocabulary; the weights are what is measured.
const tokens = Array.from({length: prompt}, (_, i) => 100 + (i * 37) % 20000);

let start = performance.now();
await sequence.evaluateWithoutGeneratingNewTokens(tokens);
const prefillSeconds = (performance.now() - start) / 1000;

let decoded = 0;
start = performance.now();
for await (const _ of sequence.evaluate([tokens[prompt - 1]], {temperature: 0})) {
	if (++decoded >= decode) break;
}
const decodeSeconds = (performance.now() - start) / 1000;

console.log(JSON.stringify({prefill_tok_s: prompt / prefillSeconds, decode_tok_s: decode / decodeSeconds}));
await context.dispose();
await model.dispose();
