package oktasync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// BenchmarkThroughput measures console.update.user.permission events/s
// through one replica (64 workers) against the Okta fake, without and with
// 50 ms per Okta API call (the Console fake, read for effective access,
// answers at once). Each event adds a new user to the company group.
func BenchmarkThroughput(b *testing.B) {
	const batch = 200
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			e := start(b, opts{bench: true})
			e.okta.Faults().SetLatency(latency)
			n := 0
			for b.Loop() {
				var evs []events.Event
				for range batch {
					n++
					id := fmt.Sprintf("u%06d", n)
					e.console.AddPlatformUser(id, id+"@example.com")
					e.console.BindCompany("acme", id, "guest")
					e.okta.AddUser(id+"@example.com", id, id)
					evs = append(evs, synctest.PermissionEvent("ev-"+id, added, id, id+"@example.com", "guest", "acme", "", ""))
				}
				e.h.Throughput(b, evs)
				b.ReportMetric(float64(e.okta.Faults().PeakConcurrency()), "peak-concurrency")
			}
		})
	}
}
