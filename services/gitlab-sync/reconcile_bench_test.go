package gitlabsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// BenchmarkReconcile measures detecting and repairing drift for 10,000
// people: developers of ten Console projects (1,000 each, in ten GitLab
// groups), all Okta and GitLab users. 1 % drifts by hand: 40 members
// removed, 20 roles lowered, 20 strangers added, 20 people deactivated in
// Okta. It reports how long the comparison (a report) and the repair (an
// applied run, with --remove-unmanaged, which compares again and
// converges) take, and what the comparison's listings cost in calls.
//
//	go test -run '^$' -bench Reconcile -benchtime 1x ./services/gitlab-sync
func BenchmarkReconcile(b *testing.B) {
	const people, projects = 10000, 10
	w := startWorld(b, synctest.Options{Guard: guard.Config{Threshold: 1000, Window: time.Hour}}, false)
	var users []int64
	for i := range people {
		name, project := fmt.Sprintf("dev%05d", i), fmt.Sprintf("p%d", i%projects)
		email := name + "@example.com"
		if i < projects {
			w.gl.AddGroup("acme/" + project)
			w.console.AddProject("c1", project, project)
		}
		id := w.gl.AddUser(gitlabfake.User{Email: email}).ID
		users = append(users, id)
		w.gl.SetMember("acme/"+project, id, gitlabfake.Developer)
		w.console.AddPlatformUser(name, email)
		w.console.BindProject("c1", name, project, "developer")
		w.okt[name] = w.okta.AddUser(email, name, "Example")
	}
	for b.Loop() {
		for i := range 40 {
			w.gl.SetMember(fmt.Sprintf("acme/p%d", (i*7)%projects), users[i*7], 0)
		}
		for i := range 20 {
			w.gl.SetMember(fmt.Sprintf("acme/p%d", (1000+i*11)%projects), users[1000+i*11], gitlabfake.Reporter)
			stranger := w.gl.AddUser(gitlabfake.User{Email: fmt.Sprintf("stranger%d-%d@example.com", b.N, i)}).ID
			w.gl.SetMember(fmt.Sprintf("acme/p%d", i%projects), stranger, gitlabfake.Developer)
			w.okta.SetStatus(w.okt[fmt.Sprintf("dev%05d", 5000+i)], okta.StatusDeprovisioned)
		}
		start := time.Now()
		found := w.run(b, reconcile.Options{})
		detect := time.Since(start)
		if found.ItemCount != 100 {
			b.Fatalf("%d items found, want 100 (%v)", found.ItemCount, found.Counts)
		}
		w.gl.Faults().ResetLog()
		start = time.Now()
		applied := w.run(b, reconcile.Options{Apply: true, RemoveUnmanaged: true})
		repair := time.Since(start)
		if applied.Counts.Applied != 100 {
			b.Fatalf("%+v applied", applied.Counts)
		}
		b.ReportMetric(detect.Seconds(), "detect-s")
		b.ReportMetric(repair.Seconds(), "apply-run-s") // compares again, then converges
		b.ReportMetric(float64(found.Stats.Calls["okta"]), "okta-calls")
		b.ReportMetric(float64(found.Stats.Calls["gitlab"]), "gitlab-calls")
		b.ReportMetric(float64(found.Stats.Calls["console"]), "console-calls")
		b.ReportMetric(float64(w.gl.Faults().Writes()), "gitlab-writes")
		if again := w.run(b, reconcile.Options{}); again.ItemCount != 0 {
			b.Fatalf("%d items after the repair", again.ItemCount)
		}
	}
}
