package synctest

import (
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
)

// Throughput publishes evs, waits until the consumer has settled them and
// reports events/s for the benchmark (the publish is outside the timer).
func (h *Harness) Throughput(b *testing.B, evs []events.Event) {
	b.Helper()
	b.StopTimer()
	h.Publish(evs...)
	b.StartTimer()
	start := time.Now()
	Eventually(b, "consumer settled", 10*time.Minute, h.Settled)
	elapsed := time.Since(start)
	b.ReportMetric(float64(len(evs))/elapsed.Seconds(), "events/s")
}

// BenchSettings are the production defaults: 64 workers per replica.
func BenchSettings() Options {
	s := FastSettings()
	s.Workers, s.MaxAckPending = 64, 512
	s.AckWait = 30 * time.Second
	return Options{Settings: s}
}
