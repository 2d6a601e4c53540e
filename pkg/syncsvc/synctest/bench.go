package synctest

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
)

// Throughput measures events/s through the consumer: the clock runs from
// the first publish until the consumer has settled every event. The events
// are published asynchronously (thousands per second, well above any
// consumer's rate), so the figure is the consumer's and not the publisher's:
// a synchronous publish of one event at a time caps it near 1,000/s, and
// publishing before the clock starts would let the consumer work unclocked.
func (h *Harness) Throughput(b *testing.B, evs []events.Event) {
	b.Helper()
	b.StopTimer()
	encoded := make([]*nats.Msg, 0, len(evs))
	for _, ev := range evs {
		m, err := events.Encode(h.NS, ev)
		if err != nil {
			b.Fatal(err)
		}
		encoded = append(encoded, m)
	}
	b.StartTimer()
	start := time.Now()
	for _, m := range encoded {
		if _, err := h.Conn.JS.PublishMsgAsync(m, jetstream.WithMsgID(m.Header.Get(events.HeaderID))); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-h.Conn.JS.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("asynchronous publish not acknowledged within a minute")
	}
	Eventually(b, "consumer settled", 10*time.Minute, h.Settled)
	elapsed := time.Since(start)
	b.ReportMetric(float64(len(evs))/elapsed.Seconds(), "events/s")
}

// BenchSettings are the production defaults of the consumer runtime, so
// that a benchmark measures what a replica does out of the box; the
// IDSYNC_CONSUMER_* environment variables override them as they would a
// service's (IDSYNC_CONSUMER_WORKERS=512 go test -bench …).
func BenchSettings(tb testing.TB) Options {
	tb.Helper()
	var s bus.Settings
	if _, err := config.Load(&s, "bench", nil, os.Getenv, io.Discard); err != nil {
		tb.Fatalf("synctest.BenchSettings: %v", err)
	}
	return Options{Settings: s}
}

// BenchBatch is how many events a throughput benchmark publishes per
// iteration: enough to keep every worker of a replica busy (a batch smaller
// than the workers would measure the batch, not the replica).
const BenchBatch = 1000
