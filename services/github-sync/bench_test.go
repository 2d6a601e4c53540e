package githubsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// BenchmarkThroughput measures events/s through one replica (64 workers,
// the default) against the GitHub fake without and with 50 ms of latency
// per call: each event grants an org and a team membership (six calls).
// Concurrency hides the latency. Run with a fixed count, e.g.
//
//	go test -run '^$' -bench Throughput -benchtime 400x .
func BenchmarkThroughput(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			settings := synctest.FastSettings()
			settings.Workers, settings.MaxAckPending, settings.AckWait = 64, 512, 30*time.Second
			e := start(b, setup{latency: latency, noConsole: true, opts: synctest.Options{Settings: settings}})
			evs := make([]events.Event, b.N)
			for i := range b.N {
				login := fmt.Sprintf("user%d", i)
				e.gh.AddUser(login, "")
				e.mapLogin(b, login+"@example.com", login)
				evs[i] = permission(fmt.Sprintf("ev%d", i), added, fmt.Sprintf("u%d", i), login+"@example.com", "developer", "p1")
			}
			b.ResetTimer()
			begin := time.Now()
			e.h.Publish(evs...)
			e.settle(b)
			elapsed := time.Since(begin)
			b.StopTimer()
			if n := len(e.gh.TeamMembers("acme", "p1")); n != b.N {
				b.Fatalf("%d team members, want %d", n, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}
