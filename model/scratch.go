package model

import (
	"runtime"

	"ferry/kernels"
)

// scratch holds the activations of one forward pass, sized for a batch.
type scratch struct {
	batch                  int
	ctx                    int // the context the buffers are sized for
	x, xn, q, k, v, att, o []float32
	gate, up               []float32
	hints                  []kernels.Product // willMultiply's
	next                   [3]*Linear        // following's
	scores                 []float32
	router                 []float32
	moeIn, moeGate, moeUp  []float32
	moeOut, moeAcc         []float32
	moeIdx, moeOrder       []int
	moeCount, moeFill      []int
	moeWeights             []float32
	moeUsed, specWant      []int
	moePending             []int
	moeTop                 []float32
	specIdx                []int
	specIn, specW          []float32
	logits                 []float32
	tmp                    []float32
	scoresW                [][]float32 // attention scores, one per kernels.ParallelFor participant
	attnUnit               func(p, u int)
	swigluGate, swigluUp   []float32 // the parallel swiglu's operands
	swigluPartF            func(p, i int)
	products               []kernels.Product
	attn                   attnWork
	rowBuf                 []byte // embedRow's unpacking of a packed row
}

// spanTmp returns scratch for n floats, growing it on first need only.
func (s *scratch) spanTmp(n int) []float32 {
	if len(s.tmp) < n {
		s.tmp = make([]float32, n)
	}
	return s.tmp[:n]
}

// scratchLayout gives the length of each activation buffer for a batch of
// n tokens and a context of ctx; ensureScratch allocates it and
// ScratchBytes sums it, so the two cannot disagree.
func (m *Transformer) scratchLayout(n, ctx int) (floats map[string]int, ints map[string]int) {
	ffn := max(m.FFN, m.ExpertFFN, m.SharedFFN)
	qdim := m.Heads * m.HeadDim
	ek := 0 // expert slots per token
	if m.Experts > 0 {
		ek = m.ExpertsUsed
	}
	floats = map[string]int{
		"x": n * m.Dim, "xn": n * m.Dim, "q": n * qdim, "k": n * m.KVDim(), "v": n * m.KVDim(),
		"att": n * qdim, "o": n * m.Dim, "gate": n * ffn, "up": n * ffn, "scores": m.attnScratch(ctx),
		"router": n * max(m.Experts, 1), "moeIn": n * ek * m.Dim, "moeGate": n * ek * ffn,
		"moeUp": n * ek * ffn, "moeOut": n * ek * m.Dim, "moeAcc": n * m.Dim,
		"moeWeights": n * max(ek, 1), "logits": n * m.Vocab,
		"specIn": n * m.Dim, "specW": n * max(ek, 1),
	}
	ints = map[string]int{"moeIdx": n * max(ek, 1), "moeOrder": n * max(ek, 1), "moeCount": m.Experts + 1, "moeFill": m.Experts,
		"moeUsed": m.Experts, "specWant": m.Experts, "specIdx": n * max(ek, 1)}
	return floats, ints
}

// attnScratch is the scratch one attention unit needs over a context of
// ctx: the scores of a head, or of a group of heads (attnWork.kvHead), and
// for a group scored as a larger one, its queries and sums padded.
func (m *Transformer) attnScratch(ctx int) int {
	g := m.Heads / max(m.KVHeads, 1)
	switch G := scoredGroup(g); {
	case G > g:
		return G*ctx + 2*G*m.HeadDim
	case G > 0:
		return G * ctx
	}
	return ctx
}

func scoresPerWorker(ctx int) [][]float32 {
	w := make([][]float32, runtime.GOMAXPROCS(0))
	for i := range w {
		w[i] = make([]float32, ctx)
	}
	return w
}

// ScratchBytes returns the activation memory a forward pass of n tokens
// over a context of ctx allocates, plus the staging of partial spans (at most
// spanRows rows per input) and the kernels' own scratch (prepared
// activations, kernels.ScratchBytes).
func (m *Transformer) ScratchBytes(n, ctx, spanRows int) int64 {
	f, i := m.scratchLayout(n, ctx)
	var b int64
	for _, v := range f {
		b += 4 * int64(v)
	}
	for _, v := range i {
		b += 8 * int64(v)
	}
	cols := max(m.Dim, m.FFN, m.ExpertFFN, m.SharedFFN, m.Heads*m.HeadDim)
	return b + 4*int64(n)*int64(spanRows) + 4*int64(m.attnScratch(ctx))*int64(runtime.GOMAXPROCS(0)) +
		kernels.ScratchBytes(n, cols) + int64(m.rowBufBytes())
}

// rowBufBytes is the scratch embedRow needs: a packed unit of the
// embedding table, where it is also the output matrix.
func (m *Transformer) rowBufBytes() int {
	if m.Output == nil || m.Output.Weight != m.Embed {
		return 0
	}
	return kernels.RowUnpackBytes(m.Embed.RowBytes())
}

func (m *Transformer) ensureScratch(n, ctx int) {
	s := &m.s
	if s.batch >= n && s.ctx >= ctx {
		return
	}
	f, i := m.scratchLayout(max(n, s.batch), max(ctx, s.ctx))
	*s = scratch{
		batch: max(n, s.batch), ctx: max(ctx, s.ctx), x: make([]float32, f["x"]), xn: make([]float32, f["xn"]),
		q: make([]float32, f["q"]), k: make([]float32, f["k"]), v: make([]float32, f["v"]),
		att: make([]float32, f["att"]), o: make([]float32, f["o"]), gate: make([]float32, f["gate"]),
		up: make([]float32, f["up"]), scores: make([]float32, f["scores"]), router: make([]float32, f["router"]),
		moeIn: make([]float32, f["moeIn"]), moeGate: make([]float32, f["moeGate"]), moeUp: make([]float32, f["moeUp"]),
		moeOut: make([]float32, f["moeOut"]), moeAcc: make([]float32, f["moeAcc"]),
		moeWeights: make([]float32, f["moeWeights"]), logits: make([]float32, f["logits"]),
		moeIdx: make([]int, i["moeIdx"]), moeOrder: make([]int, i["moeOrder"]),
		moeCount: make([]int, i["moeCount"]), moeFill: make([]int, i["moeFill"]), tmp: s.tmp,
		moeUsed: make([]int, 0, i["moeUsed"]), moePending: make([]int, 0, i["moeUsed"]), moeTop: make([]float32, 0, i["moeUsed"]), specWant: make([]int, 0, i["specWant"]), specIdx: make([]int, i["specIdx"]),
		specIn: make([]float32, f["specIn"]), specW: make([]float32, f["specW"]),
		scoresW: scoresPerWorker(f["scores"]), rowBuf: make([]byte, m.rowBufBytes()),
	}
	// Made once: kernels.ParallelFor must not be handed a closure made per call.
	s.attnUnit = func(p, u int) { s.attn.unit(u, s.scoresW[p]) }
	s.swigluPartF = s.swigluPart
}
