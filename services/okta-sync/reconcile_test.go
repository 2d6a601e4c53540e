package oktasync_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// describeItems is one line per item: op, action, target, person, rule,
// whether idsync manages it, and the result.
func describeItems(items []reconcile.Item) []string {
	var out []string
	for _, it := range items {
		who := it.Person.Email
		if who == "" {
			who = it.Person.Login
		}
		out = append(out, strings.Join(strings.Fields(fmt.Sprintf("%s %s %s %s %s managed=%v %s", it.Op, it.Action, it.Target.Name, who, it.RuleID, it.Managed, it.Result)), " "))
	}
	return out
}

// grant records a membership as idsync's own, as the event path does when
// it grants one.
func grant(t testing.TB, e env, group, oktaID, rule string) {
	t.Helper()
	g := ledger.Grant{Provider: "okta", Target: "group:" + group, User: oktaID, Role: "member", RuleID: rule, CompanyID: "acme"}
	if err := e.h.Deps.Ledger.Put(context.Background(), g); err != nil {
		t.Fatal(err)
	}
}

// member puts an Okta user in a group by hand.
func member(e env, group, oktaID string) {
	gid, _ := e.okta.GroupID(group)
	e.okta.AddMember(gid, oktaID)
}

func reconcileNow(t testing.TB, e env, req reconcile.Request) reconcile.Report {
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

// TestReconcileFindsAndRepairsDrift: changes made by hand in Okta and
// Console changes whose events were lost are found with the rule that
// wants each change; applying converges (idsync's own memberships, the
// missing ones, the project's missing group), leaves a member added by hand
// until removing those is asked for, and then nothing is left.
func TestReconcileFindsAndRepairsDrift(t *testing.T) {
	e := start(t, opts{})
	c := e.console
	c.BindCompany("acme", "ann", "guest")
	c.BindProject("acme", "ann", "p1", "developer")
	for _, u := range []string{"bob", "cat"} {
		c.AddPlatformUser(u, u+"@example.com")
	}
	c.BindCompany("acme", "bob", "guest")
	c.AddProject("acme", "p2", "Checkout")
	c.BindProject("acme", "bob", "p2", "guest") // p2 has no Okta group yet
	bob := e.okta.AddUser("bob@example.com", "Bob", "Lee")
	cat := e.okta.AddUser("cat@example.com", "Cat", "Lee")
	eve := e.okta.AddUser("eve@example.com", "Eve", "Lee")
	member(e, "console-acme", bob)
	grant(t, e, "console-acme", bob, "company-members")
	member(e, "console-acme", cat) // idsync granted it; cat has left the company since (the event was lost)
	grant(t, e, "console-acme", cat, "company-members")
	member(e, "console-acme", eve) // added by hand

	rep := reconcileNow(t, e, reconcile.Request{})
	want := []string{
		"add group.create console-acme-p2-devs project-groups managed=false",
		"add group_member.add console-acme ann@example.com company-members managed=false",
		"remove group_member.remove console-acme cat@example.com company-members managed=true",
		"remove group_member.remove console-acme eve@example.com company-members managed=false",
		"add group_member.add console-acme-p1-devs ann@example.com project-devs managed=false",
	}
	if got := describeItems(rep.Items); !slices.Equal(got, want) {
		t.Fatalf("report items\n%s\nwant\n%s\nnotes %q", strings.Join(got, "\n"), strings.Join(want, "\n"), rep.Stats.Notes)
	}
	if rep.Stats.People != 2 || rep.Stats.Targets != 3 || rep.Stats.Calls["okta"] == 0 || rep.Stats.Calls["console"] == 0 {
		t.Errorf("stats %+v: want 2 people (ann, bob), 3 groups listed, Okta and Console calls counted", rep.Stats)
	}
	if w := e.okta.Faults().Writes(); w != 0 {
		t.Fatalf("a report wrote %d times to Okta", w)
	}

	rep = reconcileNow(t, e, reconcile.Request{Apply: true})
	want = []string{
		"add group.create console-acme-p2-devs project-groups managed=false applied",
		"add group_member.add console-acme ann@example.com company-members managed=false applied",
		"remove group_member.remove console-acme cat@example.com company-members managed=true applied",
		"remove group_member.remove console-acme eve@example.com company-members managed=false skipped",
		"add group_member.add console-acme-p1-devs ann@example.com project-devs managed=false applied",
	}
	if got := describeItems(rep.Items); !slices.Equal(got, want) {
		t.Fatalf("applied items\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := e.okta.Members("console-acme"); !slices.Equal(got, []string{"ann@example.com", "bob@example.com", "eve@example.com"}) {
		t.Errorf("console-acme after apply: %v", got)
	}
	if got := e.okta.Members("console-acme-p1-devs"); !slices.Equal(got, []string{"ann@example.com"}) {
		t.Errorf("console-acme-p1-devs after apply: %v", got)
	}
	if _, ok := e.okta.GroupID("console-acme-p2-devs"); !ok {
		t.Error("the project's group was not created")
	}
	var outcomes []string
	for _, o := range e.h.Outcomes() {
		if o.GetEventId() == rep.ID {
			outcomes = append(outcomes, o.GetAction()+" "+o.GetResult().String())
		}
	}
	if len(outcomes) != 5 {
		t.Errorf("outcomes of the applied report %q, want one per item", outcomes)
	}
	// ann's new memberships are idsync's now: the event path may revoke them.
	if _, managed, _ := e.h.Deps.Ledger.Get(context.Background(), "okta", "group:console-acme-p1-devs", e.ann); !managed {
		t.Error("the membership reconciliation granted is not in the ledger")
	}

	rep = reconcileNow(t, e, reconcile.Request{})
	if got := describeItems(rep.Items); !slices.Equal(got, []string{"remove group_member.remove console-acme eve@example.com company-members managed=false"}) {
		t.Fatalf("after apply, left: %q (only the member added by hand should remain)", got)
	}
	rep = reconcileNow(t, e, reconcile.Request{Apply: true, RemoveUnmanaged: true})
	if rep.Counts.Applied != 1 || len(rep.Items) != 1 {
		t.Fatalf("removing unmanaged members: %q", describeItems(rep.Items))
	}
	if rep = reconcileNow(t, e, reconcile.Request{}); len(rep.Items) != 0 {
		t.Fatalf("converged, yet: %q", describeItems(rep.Items))
	}
	if n := len(e.h.Reports()); n != 5 {
		t.Errorf("%d report events, want one per run (5)", n)
	}
}

// TestReconcileReadsEveryPage: group members and Console users over many
// pages; nobody past the first page is missed (which would add them again,
// or remove them).
func TestReconcileReadsEveryPage(t *testing.T) {
	e := start(t, opts{})
	e.okta.SetPageMax(2)
	e.h.Deps.Console.SetPageSize(3)
	var want []string
	for i := range 11 {
		u := fmt.Sprintf("p%02d", i)
		e.console.AddPlatformUser(u, u+"@example.com")
		e.console.BindCompany("acme", u, "guest")
		id := e.okta.AddUser(u+"@example.com", u, u)
		if i%3 != 0 {
			member(e, "console-acme", id)
			grant(t, e, "console-acme", id, "company-members")
		} else {
			want = append(want, "add group_member.add console-acme "+u+"@example.com company-members managed=false")
		}
	}
	for i := range 5 { // left the company (lost events), still in the group
		u := fmt.Sprintf("q%02d", i)
		id := e.okta.AddUser(u+"@example.com", u, u)
		member(e, "console-acme", id)
		grant(t, e, "console-acme", id, "company-members")
		want = append(want, "remove group_member.remove console-acme "+u+"@example.com company-members managed=true")
	}
	rep := reconcileNow(t, e, reconcile.Request{})
	if got := describeItems(rep.Items); !slices.Equal(got, want) {
		t.Fatalf("items\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rep = reconcileNow(t, e, reconcile.Request{Apply: true})
	if rep.Counts.Applied != len(want) {
		t.Fatalf("applied %+v, want %d", rep.Counts, len(want))
	}
	if rep = reconcileNow(t, e, reconcile.Request{}); len(rep.Items) != 0 {
		t.Fatalf("converged, yet: %q", describeItems(rep.Items))
	}
	if n := len(e.okta.Members("console-acme")); n != 11 {
		t.Fatalf("console-acme has %d members, want the 11 company users", n)
	}
}

// TestReconcileGuards: the removal threshold stops a mass removal (the
// rest is paused, and an alert raised), a protected account is reported and
// never removed, and dry-run writes nothing.
func TestReconcileGuards(t *testing.T) {
	for _, tc := range []struct {
		name      string
		o         opts
		results   map[string]int
		remaining int // members of console-acme afterwards
		alerts    int
	}{
		{name: "threshold pauses the mass removal", o: opts{threshold: 2},
			results: map[string]int{"applied": 2, "paused": 3}, remaining: 3, alerts: 1},
		{name: "protected account is never removed", o: opts{protected: []string{"u2@example.com"}},
			results: map[string]int{"applied": 4, "skipped": 1}, remaining: 1},
		{name: "dry-run plans and writes nothing", o: opts{dryRun: true},
			results: map[string]int{"planned": 5}, remaining: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, tc.o)
			for i := range 5 { // every one left the company; the events were lost
				id := e.okta.AddUser(fmt.Sprintf("u%d@example.com", i), "U", fmt.Sprint(i))
				member(e, "console-acme", id)
				grant(t, e, "console-acme", id, "company-members")
			}
			rep := reconcileNow(t, e, reconcile.Request{Apply: true})
			got := map[string]int{}
			for _, it := range rep.Items {
				got[string(it.Result)]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.results) {
				t.Fatalf("results %v, want %v\n%s", got, tc.results, strings.Join(describeItems(rep.Items), "\n"))
			}
			if n := len(e.okta.Members("console-acme")); n != tc.remaining {
				t.Errorf("%d members left, want %d", n, tc.remaining)
			}
			if n := len(e.h.Alerts()); n != tc.alerts {
				t.Errorf("%d guard alerts, want %d", n, tc.alerts)
			}
			if tc.o.dryRun && e.okta.Faults().Writes() != 0 {
				t.Errorf("dry-run wrote %d times to Okta", e.okta.Faults().Writes())
			}
		})
	}
}

// TestReconcileWithoutSources: without the Console API the desired state
// is unknown — a note, no items, never a removal of everyone.
func TestReconcileWithoutSources(t *testing.T) {
	e := start(t, opts{noConsole: true})
	member(e, "console-acme", e.ann)
	rep := reconcileNow(t, e, reconcile.Request{Apply: true})
	if len(rep.Items) != 0 || len(rep.Stats.Notes) != 1 || !strings.Contains(rep.Stats.Notes[0], "Console API is not configured") {
		t.Fatalf("items %q notes %q", describeItems(rep.Items), rep.Stats.Notes)
	}
	if n := len(e.h.Reports()); n != 1 {
		t.Errorf("%d report events, want 1", n)
	}
}

// TestReconcileDeprovisionedInOkta: someone Okta deprovisioned whom the
// Console still lists (the deprovisioning was lost, and console-sync has
// not removed them from the company yet) is wanted in no group, as
// github-sync and gitlab-sync want them nowhere: their memberships are
// removed now, not after the Console has caught up, and a missing one is
// not granted back.
func TestReconcileDeprovisionedInOkta(t *testing.T) {
	e := start(t, opts{})
	c := e.console
	c.AddPlatformUser("bob", "bob@example.com")
	for _, u := range []string{"ann", "bob"} {
		c.BindCompany("acme", u, "guest")
		c.BindProject("acme", u, "p1", "developer")
	}
	bob := e.okta.AddUser("bob@example.com", "Bob", "Lee")
	member(e, "console-acme", e.ann)
	member(e, "console-acme-p1-devs", e.ann)
	member(e, "console-acme", bob)
	member(e, "console-acme-p1-devs", bob)
	if rep := reconcileNow(t, e, reconcile.Request{}); len(rep.Items) != 0 {
		t.Fatalf("in sync, the report finds %q", describeItems(rep.Items))
	}
	gid, _ := e.okta.GroupID("console-acme-p1-devs")
	e.okta.RemoveMember(gid, bob)
	e.okta.SetStatus(e.ann, "DEPROVISIONED")
	e.okta.SetStatus(bob, "DEPROVISIONED")

	rep := reconcileNow(t, e, reconcile.Request{Apply: true, RemoveUnmanaged: true})
	want := []string{
		"remove group_member.remove console-acme ann@example.com company-members managed=false applied",
		"remove group_member.remove console-acme bob@example.com company-members managed=false applied",
		"remove group_member.remove console-acme-p1-devs ann@example.com project-devs managed=false applied",
	}
	if got := describeItems(rep.Items); !slices.Equal(got, want) {
		t.Fatalf("applied items\n%s\nwant\n%s\nnotes %q", strings.Join(got, "\n"), strings.Join(want, "\n"), rep.Stats.Notes)
	}
	for _, g := range []string{"console-acme", "console-acme-p1-devs"} {
		if got := e.okta.Members(g); len(got) != 0 {
			t.Errorf("%s after apply: %v", g, got)
		}
	}
	if again := reconcileNow(t, e, reconcile.Request{}); len(again.Items) != 0 {
		t.Errorf("after the apply the report finds %q", describeItems(again.Items))
	}
}
