package serve

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"ferry/engine"
	"ferry/tier"
)

// metrics are the server's Prometheus series, in a registry of its own.
type metrics struct {
	reg        *prometheus.Registry
	tokS       prometheus.Gauge
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	ttft       *prometheus.HistogramVec
	rejected   *prometheus.CounterVec
	batchSize  prometheus.Histogram
	stop       chan struct{}
	stopOnce   sync.Once
	lastTokens int64
	lastAt     time.Time
}

// newMetrics registers the series reading sched and e (with the expert
// cache's when the model has one), plus extra collectors (the hook for
// further engine-specific series).
func newMetrics(e *engine.Engine, sched *engine.Scheduler, extra []prometheus.Collector) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), stop: make(chan struct{})}
	m.tokS = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ferry_tokens_per_second",
		Help: "Tokens generated per second over the last measurement interval (1 s), all sequences together.",
	})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_requests_total",
		Help: "Generation requests finished, by endpoint and finish reason (stop, length, cancelled, error).",
	}, []string{"endpoint", "finish_reason"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_requests_rejected_total",
		Help: "Requests answered with an error status before generating, by endpoint and HTTP status.",
	}, []string{"endpoint", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ferry_request_duration_seconds",
		Help:    "Time from receiving a generation request to its last byte.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 16),
	}, []string{"endpoint"})
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ferry_time_to_first_token_seconds",
		Help:    "Time from receiving a generation request to its first generated token (queueing and prefill included).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
	}, []string{"endpoint"})
	m.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ferry_batch_sequences",
		Help:    "Sequences in each forward pass of the continuous batch.",
		Buckets: []float64{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64},
	})
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(
		m.tokS, m.requests, m.rejected, m.latency, m.ttft, m.batchSize,
		counter("ferry_tokens_generated_total", "Tokens generated, all requests.", func() float64 { return float64(sched.Stats().Generated) }),
		counter("ferry_prompt_tokens_total", "Prompt tokens evaluated (prefilled).", func() float64 { return float64(sched.Stats().PromptTokens) }),
		counter("ferry_decode_steps_total", "Forward passes of the continuous batch.", func() float64 { return float64(sched.Stats().Steps) }),
		gauge("ferry_queue_depth", "Requests waiting for a free sequence slot.", func() float64 { return float64(sched.Stats().Queued) }),
		gauge("ferry_active_sequences", "Sequences holding a slot (prefilling or decoding).", func() float64 { return float64(sched.Stats().Active) }),
		gauge("ferry_parallel_slots", "Sequence slots (--parallel).", func() float64 { return float64(sched.Slots()) }),
		counter("ferry_disk_read_bytes_total", "Weight bytes streamed from disk (0 when the whole model is resident).", func() float64 { return float64(e.Store().Stats().BytesRead) }),
		gauge("ferry_resident_weight_bytes", "Weight bytes held in memory.", func() float64 { return float64(e.Placement.ResidentBytes) }),
		gauge("ferry_streamed_weight_bytes", "Weight bytes streamed from disk on every pass.", func() float64 { return float64(e.Placement.StreamedBytes) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if e.Experts != nil { // a MoE model whose experts go through the expert cache
		ex := func() tier.ExpertStats { return e.ExpertStats() }
		m.reg.MustRegister(
			counter("ferry_expert_cache_hits_total", "Expert uses served from the expert cache.", func() float64 { return float64(ex().Hits) }),
			counter("ferry_expert_cache_misses_total", "Expert uses that had to read the expert from disk.", func() float64 { return float64(ex().Misses) }),
			gauge("ferry_expert_cache_hit_ratio", "Expert cache hits / (hits + misses) since the start.", func() float64 { return ex().HitRate() }),
			counter("ferry_expert_prefetches_total", "Experts read ahead of use.", func() float64 { return float64(ex().Prefetches) }),
			counter("ferry_expert_prefetch_hits_total", "Prefetched experts that were then used.", func() float64 { return float64(ex().PrefetchHits) }),
			counter("ferry_expert_read_bytes_total", "Expert bytes read from disk.", func() float64 { return float64(ex().BytesRead) }),
		)
	}
	for _, c := range extra {
		m.reg.MustRegister(c)
	}
	m.lastTokens, m.lastAt = sched.Stats().Generated, time.Now()
	go m.rate(sched)
	return m
}

// rate updates the tokens/s gauge every second.
func (m *metrics) rate(sched *engine.Scheduler) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case now := <-t.C:
			n := sched.Stats().Generated
			m.tokS.Set(float64(n-m.lastTokens) / now.Sub(m.lastAt).Seconds())
			m.lastTokens, m.lastAt = n, now
		}
	}
}

func (m *metrics) close() { m.stopOnce.Do(func() { close(m.stop) }) }
