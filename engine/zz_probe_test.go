package engine

import (
	"context"
	"testing"
	"time"
)

func TestZZProbe(t *testing.T) {
	path := "/work/shared/fixtures/models/dense-llama-f32.gguf"
	probe, _ := Load(path, Options{PlanOnly: true})
	w := probe.WeightBytesPerToken()
	for _, frac := range []int64{0, 45} {
		opts := Options{Parallel: 8, Context: 256}
		if frac > 0 {
			opts.WeightBudget = w * frac / 100
		}
		e, err := Load(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 8} {
			var reqs []Request
			for range k {
				reqs = append(reqs, Request{Prompt: []int32{1, 2, 3, 4}, MaxTokens: 64, IgnoreEOS: true})
			}
			e.GenerateBatch(context.Background(), reqs[:1])
			io0 := e.Store().Stats()
			start := time.Now()
			_, st, _ := e.GenerateBatch(context.Background(), reqs)
			io := e.Store().Stats().Sub(io0)
			t.Logf("budget %d%% k=%d: %.0f tok/s decode, step %.2fms, wait %.2fms/step, read %.1f MB/step, %v wall", frac, k, st.DecodeTokS(), st.DecodeTime.Seconds()*1000/float64(st.Steps), io.Wait.Seconds()*1000/float64(st.Steps), float64(io.BytesRead)/1e6/float64(st.Steps), time.Since(start))
		}
		e.Close()
	}
}
