package oktasync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/reconcile"
)

// BenchmarkReconcile measures how long okta-sync takes to detect and to
// repair drift in a company of 10,000 Console users (all in the company's
// Okta group, 1 % of them removed from it by hand, and 100 more members
// who left the company while their events were lost), and the Okta and
// Console calls each costs, against the Okta fake enforcing 600 calls a
// minute (the last published quota of /api/v1/users, the tightest it
// meets) with Okta's page sizes.
//
//	go test -run '^$' -bench Reconcile -benchtime 1x ./services/okta-sync
func BenchmarkReconcile(b *testing.B) {
	const people, drift = 10000, 100
	for b.Loop() {
		b.StopTimer()
		e := start(b, opts{bench: true})
		gid, _ := e.okta.GroupID("console-acme")
		for i := range people {
			u := fmt.Sprintf("u%05d", i)
			e.console.AddPlatformUser(u, u+"@example.com")
			e.console.BindCompany("acme", u, "guest")
			id := e.okta.AddUser(u+"@example.com", u, u)
			if i%(people/drift) != 0 {
				e.okta.AddMember(gid, id)
			}
		}
		for i := range drift {
			u := fmt.Sprintf("gone%03d", i)
			id := e.okta.AddUser(u+"@example.com", u, u)
			e.okta.AddMember(gid, id)
			grant(b, e, "console-acme", id, "company-members")
		}
		e.okta.Faults().RateLimit(600, time.Minute)
		b.StartTimer()

		e.okta.Faults().ResetLog()
		began := time.Now()
		rep := reconcileNow(b, e, reconcile.Request{})
		detect, detectCalls := time.Since(began), len(e.okta.Faults().Requests())
		if len(rep.Items) != 2*drift {
			b.Fatalf("report: %d items, want %d", len(rep.Items), 2*drift)
		}
		e.okta.Faults().ResetLog()
		began = time.Now()
		applied := reconcileNow(b, e, reconcile.Request{Apply: true})
		repair, repairCalls := time.Since(began), len(e.okta.Faults().Requests())
		if applied.Counts.Applied != 2*drift {
			b.Fatalf("apply: %+v (%s)", applied.Counts, applied.Error)
		}
		b.StopTimer()
		if again := reconcileNow(b, e, reconcile.Request{}); len(again.Items) != 0 {
			b.Fatalf("not converged: %d items", len(again.Items))
		}
		b.ReportMetric(detect.Seconds(), "detect-s")
		b.ReportMetric(repair.Seconds(), "detect+repair-s")
		b.ReportMetric(float64(detectCalls), "okta-calls-detect")
		b.ReportMetric(float64(repairCalls), "okta-calls-detect+repair")
		b.ReportMetric(float64(rep.Stats.Calls["console"]), "console-calls-detect")
		b.StartTimer()
	}
}
