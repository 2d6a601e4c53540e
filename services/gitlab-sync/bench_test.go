package gitlabsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// BenchmarkThroughput measures okta.create.user events per second through
// one replica (64 workers, the default) against the GitLab fake with no
// latency and with 50 ms per call: each event costs three calls (find by
// email, check the username, create), so concurrency is what hides the
// provider's latency.
//
//	go test -run '^$' -bench Throughput -benchtime 2s ./services/gitlab-sync
func BenchmarkThroughput(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			s := synctest.FastSettings()
			s.Workers, s.MaxAckPending, s.AckWait = 64, 512, 30*time.Second
			e := start(b, synctest.Options{Settings: s, Rules: "version: 1\nrules:\n  - id: join\n    scope: {event: okta.create.user}\n    actions: {gitlab: {user: {forceRandomPassword: true}}}\n"}, false)
			e.gl.Faults().SetLatency(latency)
			evs := make([]events.Event, b.N)
			for i := range evs {
				evs[i] = synctest.OktaUserEvent(events.OktaCreateUser, fmt.Sprintf("b%d", i), fmt.Sprintf("00u%d", i), fmt.Sprintf("user%d@example.com", i))
			}
			b.ResetTimer()
			begin := time.Now()
			e.h.Publish(evs...)
			e.settle(b)
			elapsed := time.Since(begin)
			b.StopTimer()
			if n := len(e.gl.Users()); n != b.N {
				b.Fatalf("%d users created, want %d", n, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}
