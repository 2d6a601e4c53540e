package gitlabsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// BenchmarkThroughput measures okta.create.user events per second through
// one replica (production consumer settings) against the GitLab fake with no
// latency and with 50 ms per call: each event costs three calls (find by
// email, check the username, create), so concurrency is what hides the
// provider's latency.
//
//	go test -run '^$' -bench Throughput -benchtime 2s ./services/gitlab-sync
func BenchmarkThroughput(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			s := synctest.BenchSettings(b).Settings
			e := start(b, synctest.Options{Settings: s, Rules: "version: 1\nrules:\n  - id: join\n    scope: {event: okta.create.user}\n    actions: {gitlab: {user: {forceRandomPassword: true}}}\n"}, false)
			e.gl.Faults().SetLatency(latency)
			n := 0
			for b.Loop() {
				evs := make([]events.Event, 0, synctest.BenchBatch)
				for range synctest.BenchBatch {
					n++
					evs = append(evs, synctest.OktaUserEvent(events.OktaCreateUser, fmt.Sprintf("b%d", n), fmt.Sprintf("00u%d", n), fmt.Sprintf("user%d@example.com", n)))
				}
				e.h.Throughput(b, evs)
			}
			if got := len(e.gl.Users()); got != n {
				b.Fatalf("%d users created, want %d", got, n)
			}
			b.ReportMetric(float64(len(e.gl.Faults().Requests()))/float64(n), "calls/event")
		})
	}
}
