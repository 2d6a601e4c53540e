package githubsync_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/githubfake"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

func TestConsoleUpdateUserPermission(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		role    string // the user's role on the project, bound in the Console
		project string
		email   string
		login   string // in the identity map ("" = unresolved)
		setup   func(g *githubfake.Fake)
		dryRun  bool
		want    []string
		// GitHub afterwards
		org, team   []string // members of acme and of acme/<project>
		invitations []githubfake.Invitation
		reason      string // reason of the first outcome, when checked
	}{
		{name: "developer joins the org and the project's team", role: "developer", login: "ann",
			want: []string{"org_member.add granted acme member", "team_member.add granted acme/p1 member"},
			org:  []string{"ann member pending"}, team: []string{"ann member pending"}},
		{name: "project admin maintains the team", role: "project-admin", login: "ann",
			want: []string{"org_member.add granted acme member", "team_member.add granted acme/p1 maintainer"},
			org:  []string{"ann member pending"}, team: []string{"ann maintainer pending"}},
		{name: "org admin is left alone when the rule grants member", role: "developer", login: "ann",
			setup: func(g *githubfake.Fake) { g.SetMember("acme", "ann", "admin") },
			want:  []string{"org_member.add unchanged acme member", "team_member.add granted acme/p1 member"},
			org:   []string{"ann admin active"}, team: []string{"ann member active"}},
		{name: "existing membership with the same role is unchanged", role: "developer", login: "ann",
			setup: func(g *githubfake.Fake) { g.SetTeamMember("acme", "p1", "ann", "member") },
			want:  []string{"org_member.add unchanged acme member", "team_member.add unchanged acme/p1 member"},
			org:   []string{"ann member active"}, team: []string{"ann member active"}},
		{name: "guest is granted nothing", role: "guest", login: "ann",
			want: []string{"rule.evaluate unchanged  "}},
		{name: "a team that does not exist is skipped", role: "developer", login: "ann", project: "p9",
			want: []string{"org_member.add granted acme member", "team_member.add skipped acme/p9 member"},
			org:  []string{"ann member pending"}},
		{name: "unresolved user is invited by email", role: "developer",
			want:        []string{"invitation.create granted acme member", "invitation.create granted acme/p1 member"},
			invitations: []githubfake.Invitation{{Email: "ann@example.com", Role: "direct_member", TeamIDs: []int64{-1}}}},
		{name: "unresolved project admin: the invitation carries the team", role: "project-admin",
			want:        []string{"invitation.create granted acme member", "invitation.create granted acme/p1 maintainer"},
			invitations: []githubfake.Invitation{{Email: "ann@example.com", Role: "direct_member", TeamIDs: []int64{-1}}}},
		{name: "no email to resolve", role: "developer", email: "-",
			want: []string{"user.resolve skipped  "}, reason: "no email to resolve a GitHub login"},
		{name: "dry-run plans and writes nothing", role: "developer", login: "ann", dryRun: true,
			want: []string{"org_member.add planned acme member", "team_member.add planned acme/p1 member"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, setup{opts: synctest.Options{DryRun: tc.dryRun}})
			if tc.project == "" {
				tc.project = "p1"
			}
			if tc.email == "" {
				tc.email = "ann@example.com"
			} else if tc.email == "-" {
				tc.email = ""
			}
			if tc.login != "" {
				e.mapLogin(t, "ann@example.com", tc.login)
			}
			if tc.setup != nil {
				tc.setup(e.gh)
			}
			e.console.BindProject(company, "u1", tc.project, tc.role)
			e.h.Publish(permission("ev1", added, "u1", tc.email, tc.role, tc.project))
			e.settle(t)
			outs := e.h.Outcomes()
			if got := synctest.Describe(outs); !slices.Equal(got, tc.want) {
				t.Fatalf("outcomes %q, want %q", got, tc.want)
			}
			if tc.reason != "" && outs[0].GetReason() != tc.reason {
				t.Errorf("reason %q, want %q", outs[0].GetReason(), tc.reason)
			}
			if got := e.gh.Members("acme"); !slices.Equal(got, tc.org) {
				t.Errorf("org members %q, want %q", got, tc.org)
			}
			if got := e.gh.TeamMembers("acme", tc.project); !slices.Equal(got, tc.team) {
				t.Errorf("team members %q, want %q", got, tc.team)
			}
			for i := range tc.invitations {
				tc.invitations[i].TeamIDs = []int64{e.gh.TeamID("acme", tc.project)}
			}
			if got := invitations(e.gh); !slices.EqualFunc(got, tc.invitations, sameInvitation) {
				t.Errorf("invitations %+v, want %+v", got, tc.invitations)
			}
			if tc.dryRun && e.gh.Faults().Writes() != 0 {
				t.Errorf("%d writes in dry-run", e.gh.Faults().Writes())
			}
			if len(e.h.DeadLetters()) != 0 {
				t.Errorf("dead letters")
			}
		})
	}
}

// invitations lists acme's invitations by email (inviting a login to a
// team or the org also shows as an invitation, of the login).
func invitations(g *githubfake.Fake) []githubfake.Invitation {
	return slices.DeleteFunc(g.Invitations("acme"), func(i githubfake.Invitation) bool { return i.Email == "" })
}

func sameInvitation(a, b githubfake.Invitation) bool {
	return a.Email == b.Email && a.Login == b.Login && a.Role == b.Role && slices.Equal(a.TeamIDs, b.TeamIDs)
}

// TestConsoleRemovalRevokesOnlyWhatTheLedgerHolds: the team idsync granted
// goes when the access goes; a team and an org membership made by hand stay.
func TestConsoleRemovalRevokesOnlyWhatTheLedgerHolds(t *testing.T) {
	t.Parallel()
	e := start(t, setup{opts: synctest.Options{Rules: teamRules}})
	e.mapLogin(t, "ann@example.com", "ann")
	e.gh.SetMember("acme", "ann", "member")
	e.gh.SetTeamMember("acme", "p2", "ann", "member") // by hand, not idsync's
	e.console.BindProject(company, "u1", "p1", "developer")
	e.h.Publish(permission("grant", added, "u1", "ann@example.com", "developer", "p1"))
	e.settle(t)
	if _, ok := e.gh.TeamMembership("acme", "p1", "ann"); !ok {
		t.Fatal("not granted")
	}
	e.console.UnbindProject(company, "u1", "p1")
	e.h.Publish(permission("revoke", removed, "u1", "ann@example.com", "", "p1"))
	e.settle(t)
	var got []string
	for _, o := range e.h.Outcomes() {
		if o.GetEventId() == "revoke" {
			got = append(got, synctest.Describe([]*eventsv1.Outcome{o})...)
		}
	}
	if want := []string{"team_member.remove revoked acme/p1 member"}; !slices.Equal(got, want) {
		t.Fatalf("outcomes %q, want %q", got, want)
	}
	if _, ok := e.gh.TeamMembership("acme", "p2", "ann"); !ok {
		t.Error("the team made by hand was revoked")
	}
	if _, ok := e.gh.OrgMembership("acme", "ann"); !ok {
		t.Error("the org membership was revoked")
	}
}

// TestInvitationFollowsTheUnresolvedUsersAccess: the invitation by email
// gains a team when the user gains a project (sent again: GitHub cannot
// edit one), is cancelled when the access goes, and once the invitee
// accepted and the identity map knows the login the memberships are theirs.
func TestInvitationFollowsTheUnresolvedUsersAccess(t *testing.T) {
	t.Parallel()
	e := start(t, setup{opts: synctest.Options{Rules: teamRules}})
	p1, p2 := e.gh.TeamID("acme", "p1"), e.gh.TeamID("acme", "p2")
	e.console.BindProject(company, "u1", "p1", "developer")
	e.h.Publish(permission("one", added, "u1", "ann@example.com", "developer", "p1"))
	e.settle(t)
	if got := invitations(e.gh); len(got) != 1 || !slices.Equal(got[0].TeamIDs, []int64{p1}) {
		t.Fatalf("after p1: %+v", got)
	}
	e.console.BindProject(company, "u1", "p2", "developer")
	e.h.Publish(permission("two", edited, "u1", "ann@example.com", "developer", "p2"))
	e.settle(t)
	if got := invitations(e.gh); len(got) != 1 || !slices.Equal(got[0].TeamIDs, []int64{p1, p2}) {
		t.Fatalf("after p2: %+v", got)
	}
	if w := e.gh.Faults().Writes(); w != 3 {
		t.Errorf("%d writes, want 3 (invite; cancel and invite again)", w)
	}
	e.console.UnbindProject(company, "u1", "p1")
	e.h.Publish(permission("three", edited, "u1", "ann@example.com", "", "p1"))
	e.settle(t)
	if got := invitations(e.gh); len(got) != 1 || !slices.Equal(got[0].TeamIDs, []int64{p2}) {
		t.Fatalf("after losing p1: %+v", got)
	}
	// Ann accepts and tells us her login.
	e.gh.AcceptInvitation("ann@example.com", "ann")
	e.mapLogin(t, "ann@example.com", "ann")
	e.h.Publish(permission("four", edited, "u1", "ann@example.com", "developer", "p2"))
	e.settle(t)
	var last []string
	for _, o := range e.h.Outcomes() {
		if o.GetEventId() == "four" {
			last = append(last, synctest.Describe([]*eventsv1.Outcome{o})...)
		}
	}
	if want := []string{"team_member.add unchanged acme/p2 member"}; !slices.Equal(last, want) {
		t.Fatalf("with the login known: %q, want %q", last, want)
	}
	// The access goes: the login's membership (not an invitation) is revoked.
	e.console.UnbindProject(company, "u1", "p2")
	e.h.Publish(permission("five", removed, "u1", "ann@example.com", "", "p2"))
	e.settle(t)
	if got := e.gh.TeamMembers("acme", "p2"); len(got) != 0 {
		t.Fatalf("p2 members %q", got)
	}
	for _, o := range e.h.Outcomes() {
		if o.GetEventId() == "five" && !strings.HasPrefix(synctest.Describe([]*eventsv1.Outcome{o})[0], "team_member.remove revoked acme/p2") {
			t.Errorf("outcome %q", synctest.Describe([]*eventsv1.Outcome{o}))
		}
	}
}
