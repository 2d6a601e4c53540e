package githubsync_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/githubfake"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// recRules are orgRules scoped to the company, so that a reconciliation
// knows which Console company to read.
const recRules = `version: 1
rules:
  - id: devs
    scope: {event: console.update.user.permission, companyIds: [acme-co]}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions:
      github:
        organizations: [{name: acme, role: member}]
        teams: [{organization: acme, name: "{{projectId}}", role: member}]
  - id: admins
    scope: {event: console.update.user.permission, companyIds: [acme-co]}
    requirements: {necessaryPermissions: [console.project.users.manage]}
    actions:
      github:
        teams: [{organization: acme, name: "{{projectId}}", role: maintainer}]
  - id: leave
    scope: {event: okta.delete.user}
    actions:
      github:
        organizations: [{name: acme}]
`

// person is someone in the Console (company acme-co), Okta and the
// identity map (unless login is "").
type person struct {
	id, email, login, role string
}

var (
	ann  = person{"u1", "ann@example.com", "ann", "developer"}
	bob  = person{"u2", "bob@example.com", "bob", "developer"}
	dan  = person{"u3", "dan@example.com", "dan", "developer"}
	erin = person{"u4", "erin@example.com", "", "developer"}
)

// converge gives each person their role on p1 in the Console and in Okta,
// lets the event path grant their GitHub memberships (so the ledger holds
// them), and has them accept the invitations.
func (e env) converge(t *testing.T, people ...person) {
	t.Helper()
	for _, p := range people {
		e.join(t, p)
		e.h.Publish(permission("grant-"+p.id, added, p.id, p.email, p.role, "p1"))
	}
	e.settle(t)
	for _, p := range people {
		if p.login != "" {
			e.gh.AcceptInvitation(p.email, p.login)
		}
	}
}

// join puts p in the Console, Okta and the identity map, with no event.
func (e env) join(t testing.TB, p person) {
	t.Helper()
	e.console.AddPlatformUser(p.id, p.email)
	e.console.BindProject(company, p.id, "p1", p.role)
	if p.login != "" {
		e.gh.AddUser(p.login, "")
		e.mapLogin(t, p.email, p.login)
	}
	if e.okta != nil {
		e.okta.AddUser(p.email, p.id, "Test")
	}
}

// reconcile asks github-sync for a reconciliation the way idsync reconcile
// does (a request on <ns>.reconcile.github), waiting for its endpoint.
func (e env) reconcile(t testing.TB, req reconcile.Request) reconcile.Report {
	t.Helper()
	var rep reconcile.Report
	var err error
	synctest.Eventually(t, "the reconciliation endpoint answers", 20*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		rep, err = reconcile.Ask(ctx, e.h.Conn.NC, e.h.NS, events.ProviderGitHub, req, reconcile.RequestOptions{})
		return !errors.Is(err, reconcile.ErrNoResponders)
	})
	if err != nil && !errors.Is(err, guard.ErrPaused) && rep.Error == "" {
		t.Fatalf("reconcile: %v", err)
	}
	return rep
}

// describe renders items as "<op> <action> <target> <person> <role> <rule>
// managed|unmanaged [result]".
func describe(items []reconcile.Item) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		managed := "unmanaged"
		if it.Managed {
			managed = "managed"
		}
		s := fmt.Sprintf("%s %s %s %s %s %s %s", it.Op, it.Action, it.Target.Name, it.Person.ProviderID, it.Role, it.RuleID, managed)
		if it.Result != reconcile.Pending {
			s += " " + string(it.Result)
		}
		out = append(out, s)
	}
	return out
}

func TestReconcileFindsAndRepairsDrift(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// people converged through events before the drift.
		people []person
		okta   bool
		// drift changes GitHub (or a source) by hand.
		drift func(t *testing.T, e env)
		// want is the report; applied the results of --apply; left what a
		// report finds after it (what was deliberately left alone).
		want, applied, left []string
		removeUnmanaged     bool
		// after checks the providers once converged.
		after func(t *testing.T, e env)
		// note is part of a note the report must carry.
		note string
	}{
		{name: "in sync", people: []person{ann, bob}, drift: func(*testing.T, env) {}},
		{name: "team member added by hand", people: []person{ann},
			drift: func(_ *testing.T, e env) { e.gh.SetTeamMember("acme", "p1", "carl", "member") },
			want: []string{
				"remove org_member.remove acme carl  devs unmanaged",
				"remove team_member.remove acme/p1 carl  devs unmanaged",
			},
			removeUnmanaged: true,
			applied: []string{
				"remove org_member.remove acme carl  devs unmanaged applied",
				"remove team_member.remove acme/p1 carl  devs unmanaged unchanged",
			},
			after: func(t *testing.T, e env) {
				if _, ok := e.gh.OrgMembership("acme", "carl"); ok {
					t.Error("carl is still in the organization")
				}
			}},
		{name: "added by hand stays without --remove-unmanaged", people: []person{ann},
			drift: func(_ *testing.T, e env) { e.gh.SetTeamMember("acme", "p1", "carl", "member") },
			want: []string{
				"remove org_member.remove acme carl  devs unmanaged",
				"remove team_member.remove acme/p1 carl  devs unmanaged",
			},
			applied: []string{
				"remove org_member.remove acme carl  devs unmanaged skipped",
				"remove team_member.remove acme/p1 carl  devs unmanaged skipped",
			},
			left: []string{
				"remove org_member.remove acme carl  devs unmanaged",
				"remove team_member.remove acme/p1 carl  devs unmanaged",
			},
			after: func(t *testing.T, e env) {
				if _, ok := e.gh.TeamMembership("acme", "p1", "carl"); !ok {
					t.Error("carl was removed without --remove-unmanaged")
				}
			}},
		{name: "team member removed by hand", people: []person{ann, bob},
			drift:   func(_ *testing.T, e env) { e.gh.RemoveTeamMember("acme", "p1", "ann") },
			want:    []string{"add team_member.add acme/p1 ann member devs managed"},
			applied: []string{"add team_member.add acme/p1 ann member devs managed applied"},
			after: func(t *testing.T, e env) {
				if m, ok := e.gh.TeamMembership("acme", "p1", "ann"); !ok || m.State != githubfake.StateActive {
					t.Errorf("ann's team membership %+v %v", m, ok)
				}
			}},
		{name: "org member removed by hand", people: []person{ann, bob},
			drift: func(_ *testing.T, e env) { e.gh.RemoveMember("acme", "bob") },
			want: []string{
				"add org_member.add acme bob member devs managed",
				"add team_member.add acme/p1 bob member devs managed",
			},
			applied: []string{
				"add org_member.add acme bob member devs managed applied",
				"add team_member.add acme/p1 bob member devs managed applied",
			},
			after: func(t *testing.T, e env) {
				// Invited again: pending until bob accepts, which counts.
				if m, ok := e.gh.OrgMembership("acme", "bob"); !ok || m.State != githubfake.StatePending {
					t.Errorf("bob's membership %+v %v", m, ok)
				}
			}},
		{name: "role lowered by hand", people: []person{ann, {bob.id, bob.email, bob.login, "project-admin"}},
			drift:   func(_ *testing.T, e env) { e.gh.SetTeamMember("acme", "p1", "bob", "member") },
			want:    []string{"change team_member.add acme/p1 bob maintainer admins managed"},
			applied: []string{"change team_member.add acme/p1 bob maintainer admins managed applied"}},
		{name: "org member whose Okta user was deleted", people: []person{ann, dan}, okta: true,
			drift: func(t *testing.T, e env) {
				// The hook delivery of the deletion was lost, and the Console
				// forgot dan too.
				if !e.okta.DeleteUser(dan.email) {
					t.Fatal("no such Okta user")
				}
				e.console.RemoveUser(company, dan.id)
			},
			want: []string{
				"remove org_member.remove acme dan  leave managed",
				"remove team_member.remove acme/p1 dan  devs managed",
			},
			applied: []string{
				"remove org_member.remove acme dan  leave managed applied",
				"remove team_member.remove acme/p1 dan  devs managed unchanged",
			},
			after: func(t *testing.T, e env) {
				if _, ok := e.gh.OrgMembership("acme", "dan"); ok {
					t.Error("dan is still in the organization")
				}
			}},
		{name: "deprovisioned in Okta, still in the Console", people: []person{ann, dan}, okta: true,
			drift: func(t *testing.T, e env) {
				if !e.okta.SetStatus(dan.email, "DEPROVISIONED") {
					t.Fatal("no such Okta user")
				}
			},
			want: []string{
				"remove org_member.remove acme dan  leave managed",
				"remove team_member.remove acme/p1 dan  devs managed",
			},
			applied: []string{
				"remove org_member.remove acme dan  leave managed applied",
				"remove team_member.remove acme/p1 dan  devs managed unchanged",
			}},
		{name: "someone without a login joined while the hook was down", people: []person{ann},
			drift: func(t *testing.T, e env) { e.join(t, erin) },
			want: []string{
				"add invitation.create acme email:erin@example.com member devs unmanaged",
				"add invitation.create acme/p1 email:erin@example.com member devs unmanaged",
			},
			applied: []string{
				"add invitation.create acme email:erin@example.com member devs unmanaged applied",
				"add invitation.create acme/p1 email:erin@example.com member devs unmanaged unchanged",
			},
			after: func(t *testing.T, e env) {
				// One invitation carries the organization and the team.
				invs := e.gh.Invitations("acme")
				if len(invs) != 1 || invs[0].Email != erin.email || !slices.Equal(invs[0].TeamIDs, []int64{e.gh.TeamID("acme", "p1")}) {
					t.Errorf("invitations %+v", invs)
				}
			}},
		{name: "invitation no rule wants", people: []person{ann},
			drift:           func(_ *testing.T, e env) { inviteEmail(e.gh, "zed@example.com") },
			want:            []string{"remove invitation.cancel acme email:zed@example.com  devs unmanaged"},
			removeUnmanaged: true,
			applied:         []string{"remove invitation.cancel acme email:zed@example.com  devs unmanaged applied"},
			after: func(t *testing.T, e env) {
				if invs := e.gh.Invitations("acme"); len(invs) != 0 {
					t.Errorf("invitations %+v", invs)
				}
			}},
		{name: "an owner added by hand is left alone", people: []person{ann},
			drift: func(_ *testing.T, e env) { e.gh.SetMember("acme", "olga", "admin") },
			note:  "organization acme: 1 owners no rule names are left alone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, setup{okta: tc.okta, opts: synctest.Options{Rules: recRules}})
			e.converge(t, tc.people...)
			if rep := e.reconcile(t, reconcile.Request{}); len(rep.Items) != 0 {
				t.Fatalf("converged by events, the report finds %q", describe(rep.Items))
			}
			tc.drift(t, e)
			rep := e.reconcile(t, reconcile.Request{})
			if got := describe(rep.Items); !slices.Equal(got, tc.want) {
				t.Fatalf("report %q, want %q (notes %q)", got, tc.want, rep.Stats.Notes)
			}
			if tc.note != "" && !slices.ContainsFunc(rep.Stats.Notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
				t.Errorf("notes %q, want one with %q", rep.Stats.Notes, tc.note)
			}
			if len(tc.want) == 0 {
				return
			}
			applied := e.reconcile(t, reconcile.Request{Apply: true, RemoveUnmanaged: tc.removeUnmanaged})
			if got := describe(applied.Items); !slices.Equal(got, tc.applied) {
				t.Fatalf("applied %q, want %q (error %q)", got, tc.applied, applied.Error)
			}
			var outs []string
			for _, o := range e.h.Outcomes() {
				if o.GetEventId() == applied.ID {
					outs = append(outs, o.GetAction())
				}
			}
			if len(outs) < len(tc.applied) {
				t.Errorf("outcomes of the apply %q, want one per item at least", outs)
			}
			if tc.after != nil {
				tc.after(t, e)
			}
			if again := describe(e.reconcile(t, reconcile.Request{}).Items); !slices.Equal(again, tc.left) {
				t.Fatalf("after --apply the report finds %q, want %q", again, tc.left)
			}
		})
	}
}

// TestReconcileRemovalThresholdStopsAMassRemoval: six members added by
// hand, removal of unmanaged members asked for, a threshold of three: the
// guard lets three go, pauses the consumer and every later removal waits.
func TestReconcileRemovalThresholdStopsAMassRemoval(t *testing.T) {
	t.Parallel()
	e := start(t, setup{opts: synctest.Options{Rules: recRules, Guard: guard.Config{Threshold: 3, Window: time.Hour}}})
	e.converge(t, ann)
	for i := range 6 {
		e.gh.SetMember("acme", fmt.Sprintf("hand%d", i), "member")
	}
	rep := e.reconcile(t, reconcile.Request{Apply: true, RemoveUnmanaged: true})
	results := map[reconcile.Result]int{}
	for _, it := range rep.Items {
		results[it.Result]++
	}
	if len(rep.Items) != 6 || results[reconcile.Applied] != 3 || results[reconcile.Paused] != 3 {
		t.Fatalf("items %q", describe(rep.Items))
	}
	if left := e.gh.Members("acme"); len(left) != 4 { // ann and three hand-added
		t.Fatalf("members left %q", left)
	}
	revoked := 0
	for _, o := range e.h.Outcomes() {
		if o.GetEventId() == rep.ID && synctest.Describe([]*eventsv1.Outcome{o})[0] == "org_member.remove revoked acme member" {
			revoked++
		}
	}
	if revoked != 3 {
		t.Fatalf("%d revoked outcomes, want one per person removed (3)", revoked)
	}
	synctest.Eventually(t, "the guard alert", 10*time.Second, func() bool { return len(e.h.Alerts()) == 1 })
	if st, err := e.h.Deps.Guard.State(context.Background()); err != nil || !st.Paused {
		t.Fatalf("guard state %+v %v", st, err)
	}
}

// TestReconcileNeverRemovesAProtectedAccount: a protected account is
// reported but never removed — neither added by hand nor deleted in Okta.
func TestReconcileNeverRemovesAProtectedAccount(t *testing.T) {
	t.Parallel()
	e := start(t, setup{okta: true, opts: synctest.Options{Rules: recRules,
		Guard: guard.Config{Protected: []string{"carl", dan.email}, Threshold: 100, Window: time.Hour}}})
	e.converge(t, ann, dan)
	e.gh.SetMember("acme", "carl", "member")
	e.okta.DeleteUser(dan.email)
	e.console.RemoveUser(company, dan.id)
	rep := e.reconcile(t, reconcile.Request{Apply: true, RemoveUnmanaged: true})
	want := []string{
		"remove org_member.remove acme carl  devs unmanaged skipped",
		"remove org_member.remove acme dan  leave managed skipped",
		"remove team_member.remove acme/p1 dan  devs managed skipped",
	}
	if got := describe(rep.Items); !slices.Equal(got, want) {
		t.Fatalf("items %q, want %q", got, want)
	}
	for _, it := range rep.Items {
		if !strings.Contains(it.Detail, "IDSYNC_PROTECTED_ACCOUNTS") {
			t.Errorf("%s: detail %q", it.Person.ProviderID, it.Detail)
		}
	}
	if got := e.gh.Members("acme"); !slices.Equal(got, []string{"ann member active", "carl member active", "dan member active"}) {
		t.Fatalf("members %q", got)
	}
}

// TestReconcileReadsEveryPage: with two members per page, the members
// past the first page are found (none is reported missing) and one added
// by hand on the last page is found too.
func TestReconcileReadsEveryPage(t *testing.T) {
	t.Parallel()
	e := start(t, setup{pageSize: 2, opts: synctest.Options{Rules: recRules}})
	for i := range 7 {
		p := person{fmt.Sprintf("u%d", i), fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("p%d", i), "developer"}
		e.join(t, p)
		e.gh.SetTeamMember("acme", "p1", p.login, "member")
	}
	e.gh.SetTeamMember("acme", "p1", "zz-by-hand", "member") // sorted last: on the last page
	rep := e.reconcile(t, reconcile.Request{})
	want := []string{
		"remove org_member.remove acme zz-by-hand  devs unmanaged",
		"remove team_member.remove acme/p1 zz-by-hand  devs unmanaged",
	}
	if got := describe(rep.Items); !slices.Equal(got, want) {
		t.Fatalf("report %q, want %q", got, want)
	}
	// Eight members of each: four pages of members, one (empty) of
	// admins or maintainers.
	for path, n := range map[string]int{"/api/v3/orgs/acme/members": 5, "/api/v3/orgs/acme/teams/p1/members": 5} {
		if got := e.gh.Faults().Count("GET", path); got != n {
			t.Errorf("%d listing calls on %s, want %d", got, path, n)
		}
	}
}

// TestReconcileCallsPerPerson measures what a Diff costs GitHub: the
// listings, by role, of the organization and the team, every page, and
// the invitations — not one call per person.
func TestReconcileCallsPerPerson(t *testing.T) {
	t.Parallel()
	const n = 300
	e := start(t, setup{opts: synctest.Options{Rules: recRules}})
	for i := range n {
		p := person{fmt.Sprintf("u%d", i), fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("p%d", i), "developer"}
		e.join(t, p)
		e.gh.SetTeamMember("acme", "p1", p.login, "member")
	}
	begin := time.Now()
	rep := e.reconcile(t, reconcile.Request{})
	took := time.Since(begin)
	if len(rep.Items) != 0 {
		t.Fatalf("in sync, the report finds %d items: %q", len(rep.Items), describe(rep.Items)[:min(5, len(rep.Items))])
	}
	calls := rep.Stats.Calls[events.ProviderGitHub]
	// org: 3 pages of members + 1 of admins + 1 of invitations; team: 3 + 1.
	if calls != 9 || int64(e.gh.Faults().Count("GET", "/api/v3/orgs/acme")) != calls {
		t.Fatalf("%d GitHub calls counted, %d made; want 9", calls, e.gh.Faults().Count("GET", "/api/v3/orgs/acme"))
	}
	t.Logf("diff of %d people: %d GitHub calls (%.3f per person), %s, stats %+v", n, calls, float64(calls)/n, took.Round(time.Millisecond), rep.Stats)
}

// TestReconcileWaitsForOktaQuota: the other sync consumers spend Okta's
// quota too; a comparison that finds it spent waits for the reset rather
// than skip looking for the people Okta deprovisioned.
func TestReconcileWaitsForOktaQuota(t *testing.T) {
	t.Parallel()
	e := start(t, setup{okta: true, opts: synctest.Options{Rules: recRules}})
	e.converge(t, ann, dan)
	if !e.okta.SetStatus(dan.email, "DEPROVISIONED") {
		t.Fatal("no such Okta user")
	}
	// Okta's users are two listings (then the DEPROVISIONED ones): the
	// second meets a spent quota.
	e.okta.Faults().RateLimit(1, 2*time.Second)
	rep := e.reconcile(t, reconcile.Request{})
	want := []string{
		"remove org_member.remove acme dan  leave managed",
		"remove team_member.remove acme/p1 dan  devs managed",
	}
	if got := describe(rep.Items); !slices.Equal(got, want) {
		t.Fatalf("report %q, want %q (notes %q)", got, want, rep.Stats.Notes)
	}
}
