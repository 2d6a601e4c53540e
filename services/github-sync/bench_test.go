package githubsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/reconcile"
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

// BenchmarkReconcile measures a reconciliation of 10,000 Console users
// against the GitHub fake: a report with nothing to do, then, after 1 %
// drift made by hand (50 people taken out of the team, 50 strangers added
// to it), a run that finds and repairs it. Run it once:
//
//	go test -run '^$' -bench Reconcile -benchtime 1x .
func BenchmarkReconcile(b *testing.B) {
	const n, drift = 10000, 50
	e := start(b, setup{opts: synctest.Options{Rules: recRules}})
	for i := range n {
		p := person{fmt.Sprintf("u%d", i), fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("p%d", i), "developer"}
		e.join(b, p)
		e.gh.SetTeamMember("acme", "p1", p.login, "member")
	}
	for b.Loop() {
		clean := e.reconcile(b, reconcile.Request{})
		if len(clean.Items) != 0 {
			b.Fatalf("in sync, the report finds %d items", len(clean.Items))
		}
		for i := range drift {
			e.gh.RemoveTeamMember("acme", "p1", fmt.Sprintf("p%d", i*n/drift))
			e.gh.SetTeamMember("acme", "p1", fmt.Sprintf("stranger%d", i), "member")
		}
		repaired := e.reconcile(b, reconcile.Request{Apply: true, RemoveUnmanaged: true})
		if repaired.Counts.Applied+repaired.Counts.Unchanged != 3*drift || repaired.Error != "" {
			b.Fatalf("repair: %s", repaired.Summary())
		}
		b.ReportMetric(clean.Finished.Sub(clean.Started).Seconds(), "s/report")
		b.ReportMetric(repaired.Finished.Sub(repaired.Started).Seconds(), "s/repair")
		b.ReportMetric(float64(clean.Stats.Calls[events.ProviderGitHub])/n, "github-calls/person")
		b.ReportMetric(float64(clean.Stats.Calls[events.ProviderGitHub]), "github-calls/report")
		b.ReportMetric(float64(repaired.Stats.Calls[events.ProviderConsole]), "console-calls/report")
	}
}
