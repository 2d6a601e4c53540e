package gitlabsync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// reconcileRules: developers of a project of company c1 develop its GitLab
// group; Okta users get a GitLab user and are blocked when they leave.
const reconcileRules = `version: 1
rules:
  - id: devs
    scope: {event: console.update.user.permission, companyIds: [c1]}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions: {gitlab: {groups: [{path: "acme/{{projectId}}", role: developer}]}}
  - id: join
    scope: {event: okta.create.user}
    actions: {gitlab: {user: {external: true, skipConfirmation: true, forceRandomPassword: true}}}
  - id: leave
    scope: {event: okta.delete.user}
    actions: {gitlab: {offboard: block}}
`

// world is gitlab-sync with the GitLab, Console and Okta fakes, in sync:
// ann and bob develop p1 of company c1 (in the Console, and in GitLab's
// acme/p1, where idsync granted bob's membership); dave is an Okta and
// GitLab user outside the Console; root owns the parent group acme (an
// inherited member of acme/p1); a bot is a direct member of acme/p1; an
// administrator exists in GitLab only.
type world struct {
	env
	okta *oktafake.Fake
	ids  map[string]int64 // GitLab user ids by name
	okt  map[string]string
}

// startWorld starts the world; noOkta leaves gitlab-sync without Okta as
// a source (the Okta fake still holds the people).
func startWorld(t testing.TB, o synctest.Options, noOkta bool) world {
	t.Helper()
	of := oktafake.New("okta-token")
	osrv := httptest.NewServer(of.Handler())
	t.Cleanup(osrv.Close)
	of.SetBaseURL(osrv.URL)
	if !noOkta {
		o.Okta = okta.Config{OrgURL: osrv.URL, APIToken: config.Secret("okta-token"), Timeout: 5 * time.Second}
	}
	if o.Rules == "" {
		o.Rules = reconcileRules
	}
	w := world{env: start(t, o, false), okta: of, ids: map[string]int64{}, okt: map[string]string{}}
	w.gl.AddGroup("acme/p1")
	w.console.AddProject("c1", "p1", "P1")
	for _, name := range []string{"ann", "bob"} {
		w.person(t, name, true)
		w.console.BindProject("c1", name, "p1", "developer")
		w.gl.SetMember("acme/p1", w.ids[name], gitlabfake.Developer)
	}
	w.grant(t, "bob", "acme/p1")
	w.person(t, "dave", false)
	w.ids["root"] = w.gl.AddUser(gitlabfake.User{Email: "root@example.com"}).ID
	w.gl.SetMember("acme", w.ids["root"], gitlabfake.Owner)
	w.ids["bot"] = w.gl.AddUser(gitlabfake.User{Email: "group_1_bot@noreply.example.com", Bot: true}).ID
	w.gl.SetMember("acme/p1", w.ids["bot"], gitlabfake.Maintainer)
	w.ids["admin"] = w.gl.AddUser(gitlabfake.User{Email: "admin@example.com"}).ID
	return w
}

// person makes name@example.com a user of Okta and GitLab (and of the
// Console when console is set).
func (w world) person(t testing.TB, name string, console bool) {
	t.Helper()
	email := name + "@example.com"
	w.okt[name] = w.okta.AddUser(email, name, "Example")
	w.ids[name] = w.gl.AddUser(gitlabfake.User{Email: email}).ID
	if console {
		w.console.AddPlatformUser(name, email)
	}
}

// grant records in the ledger that idsync granted name developer in group.
func (w world) grant(t testing.TB, name, group string) {
	t.Helper()
	g := ledger.Grant{Provider: "gitlab", Target: "group:" + group, User: key(w.ids[name]), Role: "developer", RuleID: "devs", CompanyID: "c1", ProjectID: "p1"}
	if err := w.h.Deps.Ledger.Put(context.Background(), g); err != nil {
		t.Fatal(err)
	}
}

// run asks gitlab-sync for a reconciliation on its endpoint, as idsync
// reconcile does: the Runner publishes the report event and the outcomes
// as in production.
func (w world) run(t testing.TB, opts reconcile.Options) reconcile.Report {
	t.Helper()
	if w.h.Deps.Reconciler == nil {
		t.Fatal("gitlab-sync registered no reconciler")
	}
	req := reconcile.Request(opts)
	rep, err := w.h.Reconcile(req)
	// The endpoint is subscribed by the goroutine that runs the service,
	// which may not have got there right after the start.
	synctest.Eventually(t, "the reconciliation endpoint", 10*time.Second, func() bool {
		if !errors.Is(err, reconcile.ErrNoResponders) {
			return true
		}
		rep, err = w.h.Reconcile(req)
		return false
	})
	if err != nil {
		t.Fatalf("reconcile: %v (notes %q)", err, rep.Stats.Notes)
	}
	return rep
}

// describe renders items as "<op> <action> <target> <email> <rule>
// managed=<bool> <result>".
func describe(items []reconcile.Item) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		res := string(it.Result)
		if res == "" {
			res = "pending"
		}
		out = append(out, fmt.Sprintf("%s %s %s %s %s managed=%v %s", it.Op, it.Action, it.Target.Name, it.Person.Email, it.RuleID, it.Managed, res))
	}
	return out
}

// outcomesOf describes the outcomes whose cause is the report.
func (w world) outcomesOf(rep reconcile.Report) []string {
	out := w.env.outcomesOf(rep.ID)
	slices.Sort(out)
	return out
}

func TestReconcileFindsAndRepairsDrift(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	tests := []struct {
		name      string
		protected []string
		drift     func(t *testing.T, w world)
		opts      reconcile.Options
		// found is the report's items; applied the same items once
		// applied; outcomes what the apply published.
		found, applied, outcomes []string
		// after checks the providers afterwards.
		after func(t *testing.T, w world)
		// remaining is what a second reconciliation still finds.
		remaining []string
	}{
		{name: "in sync: nothing to report"},
		{name: "a member added by hand is reported, and stays without --remove-unmanaged",
			drift: func(t *testing.T, w world) {
				w.ids["mallory"] = w.gl.AddUser(gitlabfake.User{Email: "mallory@example.com"}).ID
				w.gl.SetMember("acme/p1", w.ids["mallory"], gitlabfake.Developer)
			},
			opts:      reconcile.Options{Apply: true},
			found:     []string{"remove group_member.remove acme/p1 mallory@example.com devs managed=false pending"},
			applied:   []string{"remove group_member.remove acme/p1 mallory@example.com devs managed=false skipped"},
			remaining: []string{"remove group_member.remove acme/p1 mallory@example.com devs managed=false pending"},
			after: func(t *testing.T, w world) {
				if _, ok := w.gl.Member("acme/p1", w.ids["mallory"]); !ok {
					t.Error("mallory was removed without --remove-unmanaged")
				}
			}},
		{name: "a member added by hand is removed with --remove-unmanaged",
			drift: func(t *testing.T, w world) {
				w.ids["mallory"] = w.gl.AddUser(gitlabfake.User{Email: "mallory@example.com"}).ID
				w.gl.SetMember("acme/p1", w.ids["mallory"], gitlabfake.Developer)
			},
			opts:     reconcile.Options{Apply: true, RemoveUnmanaged: true},
			found:    []string{"remove group_member.remove acme/p1 mallory@example.com devs managed=false pending"},
			applied:  []string{"remove group_member.remove acme/p1 mallory@example.com devs managed=false applied"},
			outcomes: []string{"group_member.remove revoked acme/p1 developer"},
			after: func(t *testing.T, w world) {
				if _, ok := w.gl.Member("acme/p1", w.ids["mallory"]); ok {
					t.Error("mallory is still a member")
				}
			}},
		{name: "a member removed by hand is added back, and the grant recorded",
			drift:    func(t *testing.T, w world) { w.gl.SetMember("acme/p1", w.ids["ann"], 0) },
			opts:     reconcile.Options{Apply: true},
			found:    []string{"add group_member.add acme/p1 ann@example.com devs managed=false pending"},
			applied:  []string{"add group_member.add acme/p1 ann@example.com devs managed=false applied"},
			outcomes: []string{"group_member.add granted acme/p1 developer"},
			after: func(t *testing.T, w world) {
				if l, _ := w.gl.Member("acme/p1", w.ids["ann"]); l != gitlabfake.Developer {
					t.Errorf("ann holds %d", l)
				}
				if _, ok, err := w.h.Deps.Ledger.Get(context.Background(), "gitlab", "group:acme/p1", key(w.ids["ann"])); !ok || err != nil {
					t.Errorf("ann's grant is not in the ledger (%v)", err)
				}
			}},
		{name: "a role lowered by hand is raised",
			drift:    func(t *testing.T, w world) { w.gl.SetMember("acme/p1", w.ids["bob"], gitlabfake.Reporter) },
			opts:     reconcile.Options{Apply: true},
			found:    []string{"change group_member.update acme/p1 bob@example.com devs managed=false pending"},
			applied:  []string{"change group_member.update acme/p1 bob@example.com devs managed=false applied"},
			outcomes: []string{"group_member.update granted acme/p1 developer"},
		},
		{name: "a role inherited from the parent group covers the rule's: nothing to add",
			drift: func(t *testing.T, w world) {
				w.gl.SetMember("acme/p1", w.ids["ann"], 0)
				w.gl.SetMember("acme", w.ids["ann"], gitlabfake.Maintainer)
			},
			opts: reconcile.Options{Apply: true},
		},
		{name: "a higher role idsync granted is lowered to what the rules want now",
			drift: func(t *testing.T, w world) {
				w.gl.SetMember("acme/p1", w.ids["bob"], gitlabfake.Maintainer)
				g := ledger.Grant{Provider: "gitlab", Target: "group:acme/p1", User: key(w.ids["bob"]), Role: "maintainer", RuleID: "maintainers", CompanyID: "c1", ProjectID: "p1"}
				if err := w.h.Deps.Ledger.Put(context.Background(), g); err != nil {
					t.Fatal(err)
				}
			},
			opts:     reconcile.Options{Apply: true},
			found:    []string{"change group_member.update acme/p1 bob@example.com devs managed=true pending"},
			applied:  []string{"change group_member.update acme/p1 bob@example.com devs managed=true applied"},
			outcomes: []string{"group_member.update revoked acme/p1 developer"},
			after: func(t *testing.T, w world) {
				if l, _ := w.gl.Member("acme/p1", w.ids["bob"]); l != gitlabfake.Developer {
					t.Errorf("bob holds %d", l)
				}
			}},
		{name: "a higher role given by hand is left alone",
			drift: func(t *testing.T, w world) { w.gl.SetMember("acme/p1", w.ids["ann"], gitlabfake.Owner) },
		},
		{name: "a managed member whose access went is removed",
			drift:    func(t *testing.T, w world) { w.console.RemoveUser("c1", "bob") },
			opts:     reconcile.Options{Apply: true},
			found:    []string{"remove group_member.remove acme/p1 bob@example.com devs managed=true pending"},
			applied:  []string{"remove group_member.remove acme/p1 bob@example.com devs managed=true applied"},
			outcomes: []string{"group_member.remove revoked acme/p1 developer"},
		},
		{name: "still active in GitLab after deactivation in Okta: blocked",
			drift:    func(t *testing.T, w world) { w.okta.SetStatus(w.okt["dave"], okta.StatusDeprovisioned) },
			opts:     reconcile.Options{Apply: true},
			found:    []string{"remove user.block dave@example.com dave@example.com leave managed=false pending"},
			applied:  []string{"remove user.block dave@example.com dave@example.com leave managed=false applied"},
			outcomes: []string{"user.block revoked dave@example.com "},
			after: func(t *testing.T, w world) {
				if u, _ := w.gl.User(w.ids["dave"]); u.State != gitlabfake.StateBlocked {
					t.Errorf("dave is %s", u.State)
				}
			}},
		{name: "still active in GitLab after deletion in Okta: managed memberships go, the user is blocked",
			drift: func(t *testing.T, w world) {
				w.gl.SetMember("acme/p1", w.ids["dave"], gitlabfake.Developer)
				w.grant(t, "dave", "acme/p1")
				w.okta.DeleteUser(w.okt["dave"])
			},
			opts: reconcile.Options{Apply: true},
			found: []string{"remove group_member.remove acme/p1 dave@example.com devs managed=true pending",
				"remove user.block dave@example.com dave@example.com leave managed=false pending"},
			applied: []string{"remove group_member.remove acme/p1 dave@example.com devs managed=true applied",
				"remove user.block dave@example.com dave@example.com leave managed=false applied"},
			outcomes: []string{"group_member.remove revoked acme/p1 developer", "user.block revoked dave@example.com "},
			after: func(t *testing.T, w world) {
				if u, _ := w.gl.User(w.ids["dave"]); u.State != gitlabfake.StateBlocked || len(w.gl.Memberships(u.ID)) != 0 {
					t.Errorf("dave is %s, member of %v", u.State, w.gl.Memberships(u.ID))
				}
			}},
		{name: "a protected account is never blocked",
			protected: []string{"dave@example.com"},
			drift:     func(t *testing.T, w world) { w.okta.SetStatus(w.okt["dave"], okta.StatusDeprovisioned) },
			opts:      reconcile.Options{Apply: true},
			found:     []string{"remove user.block dave@example.com dave@example.com leave managed=false skipped"},
			applied:   []string{"remove user.block dave@example.com dave@example.com leave managed=false skipped"},
			remaining: []string{"remove user.block dave@example.com dave@example.com leave managed=false skipped"},
			after: func(t *testing.T, w world) {
				if u, _ := w.gl.User(w.ids["dave"]); u.State != gitlabfake.StateActive {
					t.Errorf("dave is %s", u.State)
				}
			}},
		{name: "a developer deactivated in Okta is wanted in no group, whatever the Console says: out of it, and blocked",
			drift: func(t *testing.T, w world) { w.okta.SetStatus(w.okt["bob"], okta.StatusDeprovisioned) },
			opts:  reconcile.Options{Apply: true},
			found: []string{"remove group_member.remove acme/p1 bob@example.com devs managed=true pending",
				"remove user.block bob@example.com bob@example.com leave managed=false pending"},
			applied: []string{"remove group_member.remove acme/p1 bob@example.com devs managed=true applied",
				"remove user.block bob@example.com bob@example.com leave managed=false applied"},
			outcomes: []string{"group_member.remove revoked acme/p1 developer", "user.block revoked bob@example.com "},
		},
		{name: "a developer deactivated in Okta is not added back to their group",
			drift: func(t *testing.T, w world) {
				w.gl.SetMember("acme/p1", w.ids["ann"], 0)
				w.okta.SetStatus(w.okt["ann"], okta.StatusDeprovisioned)
			},
			opts:     reconcile.Options{Apply: true},
			found:    []string{"remove user.block ann@example.com ann@example.com leave managed=false pending"},
			applied:  []string{"remove user.block ann@example.com ann@example.com leave managed=false applied"},
			outcomes: []string{"user.block revoked ann@example.com "},
			after: func(t *testing.T, w world) {
				if _, ok := w.gl.Member("acme/p1", w.ids["ann"]); ok {
					t.Error("ann, deactivated in Okta, was added back to acme/p1")
				}
			}},
		{name: "someone idsync does not manage is not offboarded when absent from Okta",
			drift: func(t *testing.T, w world) {
				w.ids["eve"] = w.gl.AddUser(gitlabfake.User{Email: "eve@example.com"}).ID
			},
		},
		{name: "a blocked user active in Okta is unblocked",
			drift:    func(t *testing.T, w world) { w.gl.SetState(w.ids["dave"], gitlabfake.StateBlocked) },
			opts:     reconcile.Options{Apply: true},
			found:    []string{"change user.unblock dave@example.com dave@example.com join managed=false pending"},
			applied:  []string{"change user.unblock dave@example.com dave@example.com join managed=false applied"},
			outcomes: []string{"user.unblock granted dave@example.com "},
		},
		{name: "an Okta user without a GitLab user is created",
			drift:    func(t *testing.T, w world) { w.okt["erin"] = w.okta.AddUser("erin@example.com", "Erin", "Example") },
			opts:     reconcile.Options{Apply: true},
			found:    []string{"add user.create erin@example.com erin@example.com join managed=false pending"},
			applied:  []string{"add user.create erin@example.com erin@example.com join managed=false applied"},
			outcomes: []string{"user.create granted erin@example.com "},
			after: func(t *testing.T, w world) {
				if u, ok := w.gl.UserByEmail("erin@example.com"); !ok || !u.External || !u.ForceRandomPassword {
					t.Errorf("erin: %+v %v", u, ok)
				}
			}},
		{name: "a group's last Owner is never removed",
			drift: func(t *testing.T, w world) {
				w.ids["olga"] = w.gl.AddUser(gitlabfake.User{Email: "olga@example.com"}).ID
				w.gl.SetMember("acme/p1", w.ids["olga"], gitlabfake.Owner)
			},
			opts:      reconcile.Options{Apply: true, RemoveUnmanaged: true},
			found:     []string{"remove group_member.remove acme/p1 olga@example.com devs managed=false skipped"},
			applied:   []string{"remove group_member.remove acme/p1 olga@example.com devs managed=false skipped"},
			remaining: []string{"remove group_member.remove acme/p1 olga@example.com devs managed=false skipped"},
		},
		{name: "a report alone changes nothing",
			drift:     func(t *testing.T, w world) { w.gl.SetMember("acme/p1", w.ids["ann"], 0) },
			found:     []string{"add group_member.add acme/p1 ann@example.com devs managed=false pending"},
			applied:   []string{"add group_member.add acme/p1 ann@example.com devs managed=false pending"},
			remaining: []string{"add group_member.add acme/p1 ann@example.com devs managed=false pending"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, synctest.Options{Server: srv, Guard: guard.Config{Protected: tc.protected, Threshold: 100, Window: time.Hour}}, false)
			if tc.drift != nil {
				tc.drift(t, w)
			}
			found := w.run(t, reconcile.Options{})
			if got := describe(found.Items); !equal(got, tc.found) {
				t.Fatalf("found %q, want %q (reasons %q, notes %q)", got, tc.found, reasons(found.Items), found.Stats.Notes)
			}
			if found.Stats.Targets != 1 || found.Stats.Calls["gitlab"] == 0 || found.Stats.Calls["okta"] == 0 || found.Stats.Calls["console"] == 0 {
				t.Errorf("stats %+v", found.Stats)
			}
			w.gl.Faults().ResetLog()
			applied := w.run(t, tc.opts)
			if got := describe(applied.Items); !equal(got, tc.applied) {
				t.Fatalf("applied %q, want %q (details %q)", got, tc.applied, details(applied.Items))
			}
			if got := w.outcomesOf(applied); !equal(got, tc.outcomes) {
				t.Errorf("outcomes %q, want %q", got, tc.outcomes)
			}
			if !tc.opts.Apply && w.gl.Faults().Writes() != 0 {
				t.Errorf("a report wrote %d times", w.gl.Faults().Writes())
			}
			if tc.after != nil {
				tc.after(t, w)
			}
			again := w.run(t, reconcile.Options{})
			if got := describe(again.Items); !equal(got, tc.remaining) {
				t.Errorf("a second run finds %q, want %q (reasons %q)", got, tc.remaining, reasons(again.Items))
			}
		})
	}
}

func reasons(items []reconcile.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Reason)
	}
	return out
}

func details(items []reconcile.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Detail)
	}
	return out
}

// TestReconcileThresholdStopsMassRemoval: Okta deactivated five people at
// once; the removal threshold (2) lets two be blocked, then pauses the
// consumer: the third and every later removal are Paused, not blocked.
func TestReconcileThresholdStopsMassRemoval(t *testing.T) {
	t.Parallel()
	w := startWorld(t, synctest.Options{Guard: guard.Config{Threshold: 2, Window: time.Hour}}, false)
	names := []string{"leaver1", "leaver2", "leaver3", "leaver4", "leaver5"}
	for _, n := range names {
		w.person(t, n, false)
		w.okta.SetStatus(w.okt[n], okta.StatusDeprovisioned)
	}
	rep := w.run(t, reconcile.Options{Apply: true})
	var got []string
	for _, it := range rep.Items {
		got = append(got, string(it.Result))
	}
	if want := []string{"applied", "applied", "paused", "paused", "paused"}; !equal(got, want) {
		t.Fatalf("results %q, want %q (%q)", got, want, describe(rep.Items))
	}
	blocked := 0
	for _, n := range names {
		if u, _ := w.gl.User(w.ids[n]); u.State == gitlabfake.StateBlocked {
			blocked++
		}
	}
	if blocked != 2 {
		t.Errorf("%d blocked, want 2", blocked)
	}
	if st, err := w.h.Deps.Guard.State(context.Background()); err != nil || !st.Paused {
		t.Errorf("guard %+v (%v)", st, err)
	}
}

// TestReconcileReadsEveryPage: acme/p1 has 252 direct members (three pages
// of GitLab's 100), the Console lists 250 developers over three pages, and
// a member added by hand has the highest id (the last page): exactly that
// member is found, and nobody past the first page is reported missing.
func TestReconcileReadsEveryPage(t *testing.T) {
	t.Parallel()
	w := startWorld(t, synctest.Options{}, false)
	w.h.Deps.Console.SetPageSize(100)
	for i := range 248 {
		name := fmt.Sprintf("dev%03d", i)
		email := name + "@example.com"
		id := w.gl.AddUser(gitlabfake.User{Email: email}).ID
		w.gl.SetMember("acme/p1", id, gitlabfake.Developer)
		w.console.AddPlatformUser(name, email)
		w.console.BindProject("c1", name, "p1", "developer")
		w.okta.AddUser(email, name, "Example")
	}
	mallory := w.gl.AddUser(gitlabfake.User{Email: "mallory@example.com"}).ID
	w.gl.SetMember("acme/p1", mallory, gitlabfake.Developer)
	if n := len(w.gl.Members("acme/p1")); n != 252 {
		t.Fatalf("%d members", n)
	}
	w.gl.Faults().ResetLog()
	rep := w.run(t, reconcile.Options{})
	want := []string{"remove group_member.remove acme/p1 mallory@example.com devs managed=false pending"}
	if got := describe(rep.Items); !equal(got, want) {
		t.Fatalf("found %q, want %q (notes %q)", got, want, rep.Stats.Notes)
	}
	if n := w.gl.Faults().Count("GET", "/api/v4/groups/acme/p1/members"); n != 3 {
		t.Errorf("%d member pages read, want 3", n)
	}
	if rep.Stats.People < 250 {
		t.Errorf("desired state of %d people", rep.Stats.People)
	}
}

// TestReconcileDryRun: in dry-run the apply plans and writes nothing.
func TestReconcileDryRun(t *testing.T) {
	t.Parallel()
	w := startWorld(t, synctest.Options{DryRun: true}, false)
	w.gl.SetMember("acme/p1", w.ids["ann"], 0)
	w.okta.SetStatus(w.okt["dave"], okta.StatusDeprovisioned)
	w.gl.Faults().ResetLog()
	rep := w.run(t, reconcile.Options{Apply: true, RemoveUnmanaged: true})
	want := []string{"add group_member.add acme/p1 ann@example.com devs managed=false planned",
		"remove user.block dave@example.com dave@example.com leave managed=false planned"}
	if got := describe(rep.Items); !equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if n := w.gl.Faults().Writes(); n != 0 {
		t.Errorf("%d writes in dry-run", n)
	}
}

// TestReconcileWithoutOkta: without Okta, or with Okta failing, lifecycle
// drift is a note, not a guess, and group members are still compared.
func TestReconcileWithoutOkta(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	tests := []struct {
		name   string
		noOkta bool
		fail   bool
		note   string
	}{
		{name: "not configured", noOkta: true, note: "Okta is not configured"},
		{name: "failing", fail: true, note: "Okta's users cannot be read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, synctest.Options{Server: srv}, tc.noOkta)
			w.gl.SetMember("acme/p1", w.ids["ann"], 0)
			w.okta.SetStatus(w.okt["dave"], okta.StatusDeprovisioned)
			if tc.fail {
				w.okta.Faults().FailNext(10, 500, "GET", "/api/v1/users", 0)
			}
			rep := w.run(t, reconcile.Options{})
			want := []string{"add group_member.add acme/p1 ann@example.com devs managed=false pending"}
			if got := describe(rep.Items); !equal(got, want) {
				t.Fatalf("got %q, want %q (notes %q)", got, want, rep.Stats.Notes)
			}
			if !slices.ContainsFunc(rep.Stats.Notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
				t.Errorf("notes %q", rep.Stats.Notes)
			}
		})
	}
}

// TestReconcileWaitsForOktaQuota: the other sync consumers spend Okta's
// quota too; a comparison that finds it spent waits for the reset rather
// than skip the comparison with Okta (and the offboarding it finds).
func TestReconcileWaitsForOktaQuota(t *testing.T) {
	t.Parallel()
	w := startWorld(t, synctest.Options{Server: bustest.Start(t)}, false)
	w.okta.SetStatus(w.okt["dave"], okta.StatusDeprovisioned)
	// Okta's users are two listings (then the DEPROVISIONED ones): the
	// second meets a spent quota.
	w.okta.Faults().RateLimit(1, 2*time.Second)
	rep := w.run(t, reconcile.Options{})
	want := []string{"remove user.block dave@example.com dave@example.com leave managed=false pending"}
	if got := describe(rep.Items); !equal(got, want) {
		t.Fatalf("found %q, want %q (notes %q)", got, want, rep.Stats.Notes)
	}
}
