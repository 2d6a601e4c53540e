package consolesync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// BenchmarkThroughput measures okta.create.user events/s through one
// replica (production consumer settings) against the Console fake, without and with 50 ms per
// Console API call. Each iteration handles a batch of new users.
func BenchmarkThroughput(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			o := synctest.BenchSettings(b)
			o.Rules = "version: 1\nrules:\n  - id: join\n    scope: {event: okta.create.user}\n    actions: {console: {companies: [{id: acme, role: guest}]}}\n"
			e := start(b, o)
			e.fake.Faults().SetLatency(latency)
			n := 0
			for b.Loop() {
				var evs []events.Event
				for range synctest.BenchBatch {
					n++
					id := fmt.Sprintf("u%06d", n)
					e.fake.AddPlatformUser(id, id+"@example.com")
					evs = append(evs, synctest.OktaUserEvent(events.OktaCreateUser, "ev-"+id, "00"+id, id+"@example.com"))
				}
				e.h.Throughput(b, evs)
				b.ReportMetric(float64(len(e.fake.Faults().Requests()))/float64(n), "calls/event")
			}
		})
	}
}
