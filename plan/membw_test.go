package plan

import "testing"

func TestMemoryBandwidthPositive(t *testing.T) {
	if bw := MemoryBandwidth(16 << 20); bw < 1e8 {
		t.Fatalf("memory bandwidth %.0f B/s is implausible", bw)
	}
}

func BenchmarkMemoryBandwidth(b *testing.B) {
	for i := 0; i < b.N; i++ {
		bw := MemoryBandwidth(256 << 20)
		b.ReportMetric(bw/1e9, "GB/s")
	}
}
