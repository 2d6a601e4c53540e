package oktasync_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// BenchmarkThroughput measures console.update.user.permission events/s
// through one replica (production consumer settings) against the Okta fake, without and with
// 50 ms per Okta API call (the Console fake, read for effective access,
// answers at once). Each event adds a new user to the company group.
func BenchmarkThroughput(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			e := start(b, opts{bench: true})
			e.okta.Faults().SetLatency(latency)
			n := 0
			for b.Loop() {
				var evs []events.Event
				for range synctest.BenchBatch {
					n++
					id := fmt.Sprintf("u%06d", n)
					e.console.AddPlatformUser(id, id+"@example.com")
					e.console.BindCompany("acme", id, "guest")
					e.okta.AddUser(id+"@example.com", id, id)
					evs = append(evs, synctest.PermissionEvent("ev-"+id, added, id, id+"@example.com", "guest", "acme", "", ""))
				}
				e.h.Throughput(b, evs)
				b.ReportMetric(float64(e.okta.Faults().PeakConcurrency()), "peak-concurrency")
				b.ReportMetric(float64(len(e.okta.Faults().Requests()))/float64(n), "calls/event")
			}
		})
	}
}

// BenchmarkRateLimited runs okta-sync against an Okta fake that enforces a
// fixed-window quota with Okta's X-Rate-Limit-* headers — 100 calls per 10 s
// window, Okta's 600 per minute scaled down in time so that a run covers
// several windows in seconds — with a backlog that needs twice the quota of
// the measured windows. It reports the share of each window's quota the
// consumer used (target ≥ 90 %) and the most 429s any window saw (target ≤ 1:
// pacing from the headers, not retries into refusals).
//
//	go test -run '^$' -bench RateLimited -benchtime 1x ./services/okta-sync
func BenchmarkRateLimited(b *testing.B) {
	const (
		limit   = 100
		window  = 10 * time.Second
		windows = 3
	)
	for b.Loop() {
		e := start(b, opts{bench: true})
		var evs []events.Event
		for i := range 2 * limit * windows / 3 { // three calls per event
			id := fmt.Sprintf("r%06d", i)
			e.console.AddPlatformUser(id, id+"@example.com")
			e.console.BindCompany("acme", id, "guest")
			e.okta.AddUser(id+"@example.com", id, id)
			evs = append(evs, synctest.PermissionEvent("ev-"+id, added, id, id+"@example.com", "guest", "acme", "", ""))
		}
		e.okta.Faults().ResetLog()
		begin := time.Now()
		e.okta.Faults().RateLimit(limit, window)
		e.h.Publish(evs...)
		synctest.Eventually(b, "the measured windows", windows*window+time.Minute, func() bool {
			return time.Since(begin) > windows*window+time.Second
		})
		served, refused := make([]int, windows), make([]int, windows)
		for _, r := range e.okta.Faults().Requests() {
			w := int(r.At.Sub(begin) / window)
			if w < 0 || w >= windows {
				continue
			}
			switch {
			case r.Status == http.StatusTooManyRequests:
				refused[w]++
			case r.Status < 300:
				served[w]++
			}
		}
		used, worst := 100.0, 0
		for w := range windows {
			used = min(used, 100*float64(served[w])/limit)
			worst = max(worst, refused[w])
		}
		b.ReportMetric(used, "min-quota-used-%")
		b.ReportMetric(float64(worst), "max-429/window")
		b.Logf("per window: served %v, refused %v (quota %d per %s)", served, refused, limit, window)
	}
}
