package consolesync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

type reconcileEnv struct {
	env
	okta *oktafake.Fake
}

// startReconcile runs console-sync with Okta as its source of truth.
func startReconcile(t testing.TB, o synctest.Options) reconcileEnv {
	t.Helper()
	of := oktafake.New("okta-token")
	srv := httptest.NewServer(of.Handler())
	t.Cleanup(srv.Close)
	of.SetBaseURL(srv.URL)
	o.Okta = okta.Config{OrgURL: srv.URL, APIToken: config.Secret("okta-token"), Timeout: 5 * time.Second}
	return reconcileEnv{env: start(t, o), okta: of}
}

// person is someone in the Console (platform user) and, unless status is
// "", in Okta with that status; companies are the Console companies they
// are a user of.
func (e reconcileEnv) person(id, status string, companies ...string) {
	e.fake.AddPlatformUser(id, id+"@example.com")
	for _, c := range companies {
		e.fake.BindCompany(c, id, "guest")
	}
	if status != "" {
		e.okta.SetStatus(e.okta.AddUser(id+"@example.com", id, id), status)
	}
}

func describeItems(items []reconcile.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, strings.Join(strings.Fields(fmt.Sprintf("%s %s %s %s %s %s managed=%v %s", it.Op, it.Action, it.Target.Name, it.Person.Email, it.Role, it.RuleID, it.Managed, it.Result)), " "))
	}
	return out
}

func reconcileNow(t testing.TB, e reconcileEnv, req reconcile.Request) reconcile.Report {
	t.Helper()
	// The endpoint is served once the consumer runs, which Start does not
	// wait for: ask again while nobody answers (nothing ran then).
	var rep reconcile.Report
	var err error
	synctest.Eventually(t, "the reconciliation endpoint answers", 20*time.Second, func() bool {
		rep, err = e.h.Reconcile(req)
		return !errors.Is(err, reconcile.ErrNoResponders)
	})
	if err != nil {
		t.Fatalf("reconcile %+v: %v (report error %q)", req, err, rep.Error)
	}
	return rep
}

// TestReconcileFindsAndRepairsDrift: Okta changes whose hook deliveries
// were lost — a user created, a user deactivated, a user deleted after
// idsync added them — are found with the rule that wants each change and
// converged; people idsync does not manage are left alone.
func TestReconcileFindsAndRepairsDrift(t *testing.T) {
	e := startReconcile(t, synctest.Options{})
	e.person("ann", okta.StatusActive)                 // created in Okta: belongs in acme and beta
	e.person("bob", okta.StatusDeprovisioned, "acme")  // deactivated in Okta
	e.person("cat", "", "acme")                        // deleted from Okta; idsync had added them
	e.person("dan", "", "acme")                        // never in Okta, added by hand: not idsync's
	e.person("eve", okta.StatusActive, "acme", "beta") // in place
	e.person("fay", "SUSPENDED")                       // neither in nor out
	e.person("gil", "SUSPENDED", "beta")               // neither in nor out
	if err := e.h.Deps.Ledger.Put(context.Background(), ledger.Grant{Provider: "console", Target: "company:acme", User: "cat@example.com", Role: "guest", RuleID: "join", CompanyID: "acme"}); err != nil {
		t.Fatal(err)
	}

	rep := reconcileNow(t, e, reconcile.Request{})
	want := []string{
		"add company_user.add acme ann@example.com guest join managed=false",
		"remove company_user.remove acme bob@example.com leave managed=false",
		"remove company_user.remove acme cat@example.com leave managed=true",
		"add company_user.add beta ann@example.com developer join managed=false",
	}
	if got := describeItems(rep.Items); !slices.Equal(got, want) {
		t.Fatalf("report items\n%s\nwant\n%s\nnotes %q", strings.Join(got, "\n"), strings.Join(want, "\n"), rep.Stats.Notes)
	}
	if len(rep.Stats.Notes) != 1 || !strings.Contains(rep.Stats.Notes[0], "1 company user(s) match no Okta user") {
		t.Errorf("notes %q, want one about dan", rep.Stats.Notes)
	}
	if rep.Stats.Calls["okta"] == 0 || rep.Stats.Calls["console"] == 0 {
		t.Errorf("calls %v, want Okta and Console calls counted", rep.Stats.Calls)
	}

	rep = reconcileNow(t, e, reconcile.Request{Apply: true})
	if rep.Counts.Applied != 4 || rep.Remaining != 0 {
		t.Fatalf("applied %+v\n%s", rep.Counts, strings.Join(describeItems(rep.Items), "\n"))
	}
	if got := e.fake.Members("acme"); !slices.Equal(got, []string{"ann", "dan", "eve"}) {
		t.Errorf("acme after apply: %v", got)
	}
	if got := e.fake.Members("beta"); !slices.Equal(got, []string{"ann", "eve", "gil"}) {
		t.Errorf("beta after apply: %v", got)
	}
	if slices.Contains(e.fake.CompanyRoles("beta", "ann"), "developer") != true {
		t.Errorf("ann's role in beta: %v, want the rule's developer", e.fake.CompanyRoles("beta", "ann"))
	}
	// What reconciliation adds is idsync's: once deleted in Okta, ann goes.
	if _, managed, _ := e.h.Deps.Ledger.Get(context.Background(), "console", "company:beta", "ann@example.com"); !managed {
		t.Error("the membership reconciliation granted is not in the ledger")
	}
	if _, managed, _ := e.h.Deps.Ledger.Get(context.Background(), "console", "company:acme", "cat@example.com"); managed {
		t.Error("the removed membership is still in the ledger")
	}
	if rep = reconcileNow(t, e, reconcile.Request{}); len(rep.Items) != 0 {
		t.Fatalf("converged, yet: %q", describeItems(rep.Items))
	}
	e.okta.DeleteUser("ann@example.com")
	rep = reconcileNow(t, e, reconcile.Request{Apply: true})
	if got := describeItems(rep.Items); len(got) != 2 || rep.Counts.Applied != 2 {
		t.Fatalf("ann deleted from Okta: %q", got)
	}
}

// TestReconcileReadsEveryPage: Okta users and company users over many
// pages; nobody past the first page is missed.
func TestReconcileReadsEveryPage(t *testing.T) {
	e := startReconcile(t, synctest.Options{Rules: `version: 1
rules:
  - {id: join, scope: {event: okta.create.user}, actions: {console: {companies: [{id: acme, role: guest}]}}}
  - {id: leave, scope: {event: okta.delete.user}, actions: {console: {companies: [{id: acme}]}}}
`})
	e.okta.SetPageMax(2)
	e.h.Deps.Console.SetPageSize(3)
	var want []string
	for i := range 13 {
		id := fmt.Sprintf("p%02d", i)
		switch i % 3 {
		case 0:
			e.person(id, okta.StatusActive)
			want = append(want, "add "+id)
		case 1:
			e.person(id, okta.StatusDeprovisioned, "acme")
			want = append(want, "remove "+id)
		default:
			e.person(id, okta.StatusActive, "acme")
		}
	}
	rep := reconcileNow(t, e, reconcile.Request{Apply: true})
	var got []string
	for _, it := range rep.Items {
		got = append(got, string(it.Op)+" "+strings.TrimSuffix(it.Person.Email, "@example.com"))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || rep.Counts.Applied != len(want) {
		t.Fatalf("items %q (%+v), want %q applied", got, rep.Counts, want)
	}
	if rep = reconcileNow(t, e, reconcile.Request{}); len(rep.Items) != 0 {
		t.Fatalf("converged, yet: %q", describeItems(rep.Items))
	}
}

// TestReconcileGuards: the removal threshold stops a mass removal, a
// protected account is never removed, dry-run writes nothing.
func TestReconcileGuards(t *testing.T) {
	for _, tc := range []struct {
		name      string
		o         synctest.Options
		counts    string
		inCompany int
	}{
		{name: "threshold pauses the mass removal", o: synctest.Options{Guard: guard.Config{Threshold: 2, Window: time.Hour}},
			counts: "applied=2 paused=3 skipped=0 planned=0", inCompany: 3},
		{name: "protected account is never removed", o: synctest.Options{Guard: guard.Config{Threshold: 1000, Window: time.Hour, Protected: []string{"u2@example.com"}}},
			counts: "applied=4 paused=0 skipped=1 planned=0", inCompany: 1},
		{name: "dry-run plans and writes nothing", o: synctest.Options{DryRun: true},
			counts: "applied=0 paused=0 skipped=0 planned=5", inCompany: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startReconcile(t, tc.o)
			for i := range 5 { // every one deactivated in Okta; the hook deliveries were lost
				e.person(fmt.Sprintf("u%d", i), okta.StatusDeprovisioned, "acme")
			}
			rep := reconcileNow(t, e, reconcile.Request{Apply: true})
			c := rep.Counts
			if got := fmt.Sprintf("applied=%d paused=%d skipped=%d planned=%d", c.Applied, c.Paused, c.Skipped, c.Planned); got != tc.counts {
				t.Fatalf("%s, want %s\n%s", got, tc.counts, strings.Join(describeItems(rep.Items), "\n"))
			}
			if n := len(e.fake.Members("acme")); n != tc.inCompany {
				t.Errorf("%d left in acme, want %d", n, tc.inCompany)
			}
		})
	}
}

// TestApplyReadsOktaAgain: someone reactivated in Okta between the diff
// and the apply stays in the company.
func TestApplyReadsOktaAgain(t *testing.T) {
	e := startReconcile(t, synctest.Options{})
	e.person("ann", okta.StatusDeprovisioned, "acme")
	items, _, err := e.h.Deps.Reconciler.Diff(context.Background())
	if err != nil || len(items) != 1 {
		t.Fatalf("Diff = %q, %v", describeItems(items), err)
	}
	e.okta.SetStatus("ann@example.com", okta.StatusActive)
	typ, _ := events.Default().Lookup(events.ReconcileReport)
	ev := events.Event{ID: "report-test", Type: typ, Source: "urn:idsync:test", Time: time.Now(), Payload: &eventsv1.ReconcileReport{Id: "report-test"}}
	got, err := e.h.Deps.Reconciler.Apply(context.Background(), ev, items[0], reconcile.Options{Apply: true})
	if err != nil || got.Result != reconcile.Skipped || !strings.Contains(got.Detail, "ACTIVE in Okta again") {
		t.Fatalf("Apply = %+v, %v", got, err)
	}
	if !e.fake.InCompany("acme", "ann") {
		t.Fatal("a reactivated user was removed")
	}
}
