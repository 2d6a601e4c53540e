package consolesync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// BenchmarkReconcile measures how long console-sync takes to detect and to
// repair drift between 10,000 Okta users and a Console company holding
// them (100 created in Okta whose hook deliveries were lost, 100
// deactivated in Okta still in the company), and the calls each costs:
// Okta against the fake's 600 calls a minute, the Console (no documented
// limit) counted.
//
//	go test -run '^$' -bench Reconcile -benchtime 1x ./services/console-sync
func BenchmarkReconcile(b *testing.B) {
	const people, drift = 10000, 100
	rules := `version: 1
rules:
  - {id: join, scope: {event: okta.create.user}, actions: {console: {companies: [{id: acme, role: guest}]}}}
  - {id: leave, scope: {event: okta.delete.user}, actions: {console: {companies: [{id: acme}]}}}
`
	for b.Loop() {
		b.StopTimer()
		o := synctest.BenchSettings(b)
		o.Rules = rules
		e := startReconcile(b, o)
		for i := range people {
			switch id := fmt.Sprintf("u%05d", i); {
			case i%(people/drift) == 0:
				e.person(id, okta.StatusActive) // not in the company yet
			case i%(people/drift) == 1:
				e.person(id, okta.StatusDeprovisioned, "acme")
			default:
				e.person(id, okta.StatusActive, "acme")
			}
		}
		e.okta.Faults().RateLimit(600, time.Minute)
		b.StartTimer()

		e.okta.Faults().ResetLog()
		e.fake.Faults().ResetLog()
		began := time.Now()
		rep := reconcileNow(b, e, reconcile.Request{})
		detect, oktaDetect, consoleDetect := time.Since(began), len(e.okta.Faults().Requests()), len(e.fake.Faults().Requests())
		if len(rep.Items) != 2*drift {
			b.Fatalf("report: %d items, want %d", len(rep.Items), 2*drift)
		}
		e.okta.Faults().ResetLog()
		e.fake.Faults().ResetLog()
		began = time.Now()
		applied := reconcileNow(b, e, reconcile.Request{Apply: true})
		repair, oktaRepair, consoleRepair := time.Since(began), len(e.okta.Faults().Requests()), len(e.fake.Faults().Requests())
		if applied.Counts.Applied != 2*drift {
			b.Fatalf("apply: %+v (%s)", applied.Counts, applied.Error)
		}
		b.StopTimer()
		if again := reconcileNow(b, e, reconcile.Request{}); len(again.Items) != 0 {
			b.Fatalf("not converged: %d items", len(again.Items))
		}
		b.ReportMetric(detect.Seconds(), "detect-s")
		b.ReportMetric(repair.Seconds(), "detect+repair-s")
		b.ReportMetric(float64(oktaDetect), "okta-calls-detect")
		b.ReportMetric(float64(oktaRepair), "okta-calls-detect+repair")
		b.ReportMetric(float64(consoleDetect), "console-calls-detect")
		b.ReportMetric(float64(consoleRepair), "console-calls-detect+repair")
		b.StartTimer()
	}
}
