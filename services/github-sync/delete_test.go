package githubsync_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/githubfake"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

func TestOktaDeleteUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		login     string // in the identity map
		protected []string
		setup     func(g *githubfake.Fake)
		dryRun    bool
		want      []string
		reason    string // of the first outcome, when checked
		org       []string
		invites   int
	}{
		{name: "removed from the org and its teams", login: "ann",
			setup: func(g *githubfake.Fake) { g.SetTeamMember("acme", "p1", "ann", "maintainer") },
			want:  []string{"org_member.remove revoked acme "}},
		{name: "pending membership is removed too", login: "ann",
			setup: func(g *githubfake.Fake) { invite(g, "ann") },
			want:  []string{"org_member.remove revoked acme "}},
		{name: "not a member", login: "ann",
			want: []string{"org_member.remove unchanged acme "}},
		{name: "unresolved with a pending invitation: cancelled",
			setup: func(g *githubfake.Fake) { inviteEmail(g, "ann@example.com") },
			want:  []string{"invitation.cancel revoked acme direct_member"}},
		{name: "member and invited by email", login: "ann",
			setup: func(g *githubfake.Fake) { g.SetMember("acme", "ann", "member"); inviteEmail(g, "ann@example.com") },
			want:  []string{"org_member.remove revoked acme ", "invitation.cancel revoked acme direct_member"}},
		{name: "unresolved and no invitation is skipped, not retried",
			want:   []string{"org_member.remove skipped acme "},
			reason: "no GitHub login known for this email (identity map)"},
		{name: "protected account is never removed", login: "ann", protected: []string{"ANN"},
			setup:  func(g *githubfake.Fake) { g.SetMember("acme", "ann", "admin"); inviteEmail(g, "ann@example.com") },
			want:   []string{"org_member.remove skipped acme ", "invitation.cancel skipped acme direct_member"},
			reason: "protected account (IDSYNC_PROTECTED_ACCOUNTS)",
			org:    []string{"ann admin active"}, invites: 1},
		{name: "dry-run plans", login: "ann", dryRun: true,
			setup: func(g *githubfake.Fake) { g.SetMember("acme", "ann", "member") },
			want:  []string{"org_member.remove planned acme "},
			org:   []string{"ann member active"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, setup{opts: synctest.Options{DryRun: tc.dryRun, Guard: guard.Config{Protected: tc.protected, Threshold: 100, Window: time.Hour}}})
			if tc.login != "" {
				e.mapLogin(t, "ann@example.com", tc.login)
			}
			if tc.setup != nil {
				tc.setup(e.gh)
			}
			e.h.Publish(synctest.OktaUserEvent(events.OktaDeleteUser, "del1", "00u1", "ann@example.com"))
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
			if tc.org == nil && len(e.gh.TeamMembers("acme", "p1")) != 0 {
				t.Errorf("team memberships left: %q", e.gh.TeamMembers("acme", "p1"))
			}
			if n := len(e.gh.Invitations("acme")); n != tc.invites {
				t.Errorf("%d invitations left, want %d", n, tc.invites)
			}
			if len(e.h.DeadLetters()) != 0 {
				t.Error("dead letters")
			}
			if n := e.gh.Faults().Count("", "/api/v3/orgs/acme/memberships/"); tc.login == "" && n != 0 {
				t.Errorf("%d membership calls for an unresolved user", n)
			}
		})
	}
}

func invite(g *githubfake.Fake, login string) { g.InviteLogin("acme", login, "member") }

func inviteEmail(g *githubfake.Fake, email string) {
	g.InviteEmail("acme", email, githubfake.InviteMember)
}

func TestRemovalThresholdPausesUntilResumed(t *testing.T) {
	t.Parallel()
	e := start(t, setup{opts: synctest.Options{
		Rules:    "version: 1\nrules:\n  - id: leave\n    scope: {event: okta.delete.user}\n    actions: {github: {organizations: [{name: acme}]}}\n",
		Guard:    guard.Config{Threshold: 3, Window: time.Hour, RetryDelay: 200 * time.Millisecond},
		Settings: synctest.FastSettings(),
	}})
	for i := range 6 {
		login := fmt.Sprintf("u%d", i)
		e.gh.SetMember("acme", login, "member")
		e.mapLogin(t, login+"@example.com", login)
	}
	for i := range 6 {
		id := fmt.Sprintf("u%d", i)
		e.h.Publish(synctest.OktaUserEvent(events.OktaDeleteUser, "del-"+id, "00"+id, id+"@example.com"))
	}
	synctest.Eventually(t, "the guard trips", 20*time.Second, func() bool { return len(e.h.Alerts()) == 1 })
	e.h.WaitEachHandled() // the paused guard's verdicts, not a race, decide what is left
	if left := len(e.gh.Members("acme")); left != 3 {
		t.Fatalf("%d members left, want 3 (the threshold stops the fourth removal)", left)
	}
	if a := e.h.Alerts()[0]; !a.GetPaused() || a.GetThreshold() != 3 {
		t.Fatalf("alert %+v", a)
	}
	if err := e.h.Deps.Guard.Resume(context.Background(), "test-operator"); err != nil {
		t.Fatal(err)
	}
	synctest.Eventually(t, "removals resume", 20*time.Second, func() bool { return len(e.gh.Members("acme")) == 0 })
}
