package oktalog_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/oktahook"
)

// BenchmarkBackfillBacklog: a cold start over a backlog of 10,000 events
// the hooks missed (an outage of a busy org), read in pages of 1,000 under
// a quota of 60 calls a minute on /api/v1/logs. It reports the time until
// every event is in the events stream and the System Log calls it cost.
func BenchmarkBackfillBacklog(b *testing.B) {
	const n = 10000
	for range b.N {
		b.StopTimer()
		h := newHarness(b, 24*time.Hour)
		at := time.Now().UTC().Add(-50 * time.Minute)
		evs := make([]oktafake.LogEvent, n)
		for i := range evs {
			typ := events.OktaUserCreate
			if i%2 == 1 {
				typ = events.OktaUserDeleteInitiated
			}
			evs[i] = lifecycle(fmt.Sprintf("bench-%05d", i), typ, at.Add(time.Duration(i)*200*time.Millisecond))
		}
		h.fake.AppendLog(evs...)
		h.fake.Faults().RateLimit(60, time.Minute)
		cfg := testConfig()
		cfg.PageSize = 1000
		b.StartTimer()
		start := time.Now()
		in := h.start(cfg, oktahook.Routing{})
		for in.events("published") < n {
			time.Sleep(5 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		calls := h.fake.Faults().Count("GET", "/api/v1/logs")
		b.ReportMetric(elapsed.Seconds(), "s/backlog")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(calls), "okta-calls")
		in.stop()
	}
}
