package githubsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// BenchmarkThroughput measures events/s through one replica (production
// consumer settings) against the GitHub fake without and with 50 ms of latency
// per call: each event grants an org and a team membership (six calls).
// Concurrency hides the latency. Run with a fixed count, e.g.
//
//	go test -run '^$' -bench Throughput -benchtime 400x .
func BenchmarkThroughput(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			settings := synctest.BenchSettings(b).Settings
			e := start(b, setup{latency: latency, noConsole: true, opts: synctest.Options{Settings: settings}})
			n := 0
			for b.Loop() {
				evs := make([]events.Event, 0, synctest.BenchBatch)
				for range synctest.BenchBatch {
					n++
					login := fmt.Sprintf("user%d", n)
					e.gh.AddUser(login, "")
					e.mapLogin(b, login+"@example.com", login)
					evs = append(evs, permission(fmt.Sprintf("ev%d", n), added, fmt.Sprintf("u%d", n), login+"@example.com", "developer", "p1"))
				}
				e.h.Throughput(b, evs)
			}
			if got := len(e.gh.TeamMembers("acme", "p1")); got != n {
				b.Fatalf("%d team members, want %d", got, n)
			}
			b.ReportMetric(float64(len(e.gh.Faults().Requests()))/float64(n), "calls/event")
			b.ReportMetric(float64(e.gh.Faults().PeakConcurrency()), "peak-concurrency")
		})
	}
}
