package gitlabsync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

func TestOktaCreateUser(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	tests := []struct {
		name     string
		login    string
		existing *gitlabfake.User
		dryRun   bool
		noGitLab bool
		want     []string
		state    string // ann's state afterwards ("" = absent)
	}{
		{name: "an absent user is created with the rule's options", login: "ann@example.com",
			want: []string{"user.create granted ann@example.com "}, state: gitlabfake.StateActive},
		{name: "a blocked user is unblocked", login: "ann@example.com",
			existing: &gitlabfake.User{Email: "ann@example.com", State: gitlabfake.StateBlocked},
			want:     []string{"user.unblock granted ann@example.com "}, state: gitlabfake.StateActive},
		{name: "an active user is left alone", login: "ANN@example.com",
			existing: &gitlabfake.User{Email: "ann@example.com"},
			want:     []string{"user.create unchanged ANN@example.com "}, state: gitlabfake.StateActive},
		{name: "an LDAP-blocked user is an outcome", login: "ann@example.com",
			existing: &gitlabfake.User{Email: "ann@example.com", State: gitlabfake.StateLDAPBlocked},
			want:     []string{"user.unblock skipped ann@example.com "}, state: gitlabfake.StateLDAPBlocked},
		{name: "a login that is not an email", login: "ann",
			want: []string{"user.create skipped ann "}},
		{name: "dry-run plans and writes nothing", login: "ann@example.com", dryRun: true,
			want: []string{"user.create planned ann@example.com "}},
		{name: "without GitLab credentials everything is planned", login: "ann@example.com", noGitLab: true,
			want: []string{"user.create planned ann@example.com "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, synctest.Options{Server: srv, DryRun: tc.dryRun}, tc.noGitLab)
			e.gl.AddUser(gitlabfake.User{Email: "ann@other.example", Username: "ann"}) // takes the username
			if tc.existing != nil {
				e.gl.AddUser(*tc.existing)
			}
			e.gl.Faults().ResetLog()
			e.h.Publish(synctest.OktaUserEvent(events.OktaCreateUser, "c1", "00u1", tc.login))
			e.settle(t)
			if got := e.outcomesOf("c1"); !equal(got, tc.want) {
				t.Fatalf("outcomes %q, want %q (reasons %q)", got, tc.want, e.reasonsOf("c1"))
			}
			u, found := e.gl.UserByEmail("ann@example.com")
			if state := map[bool]string{true: u.State}[found]; state != tc.state {
				t.Fatalf("state %q, want %q", state, tc.state)
			}
			if tc.existing == nil && found && (u.Username != "ann2" || !u.External || !u.SkipConfirmation || !u.ForceRandomPassword || u.Name != tc.login) {
				t.Errorf("created %+v", u)
			}
			if (tc.dryRun || tc.noGitLab) && e.gl.Faults().Writes() != 0 {
				t.Errorf("%d writes in dry-run", e.gl.Faults().Writes())
			}
		})
	}
}

func offboardRules(mode string) string {
	return "version: 1\nrules:\n  - id: leave\n    scope: {event: okta.delete.user}\n    actions: {gitlab: {offboard: " + mode + "}}\n"
}

func TestOktaDeleteUser(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	long := time.Now().Add(-200 * 24 * time.Hour)
	tests := []struct {
		name      string
		mode      string
		ann       *gitlabfake.User // nil: no GitLab user
		managed   int              // access level of the managed membership in acme/p1 now (0: none)
		protected []string
		dryRun    bool
		want      []string
		reason    string // in the last outcome's reason
		state     string // ann's state afterwards ("" = deleted)
		levels    map[string]int
	}{
		{name: "block: managed memberships go, hand-made ones stay, the user is blocked", mode: "block",
			ann: &gitlabfake.User{}, managed: gitlabfake.Developer,
			want:  []string{"group_member.remove revoked acme/p1 developer", "user.block revoked ann@example.com "},
			state: gitlabfake.StateBlocked, levels: map[string]int{"acme/handmade": gitlabfake.Developer}},
		{name: "a role raised by hand is left alone", mode: "block",
			ann: &gitlabfake.User{}, managed: gitlabfake.Owner,
			want:  []string{"group_member.remove skipped acme/p1 developer", "user.block revoked ann@example.com "},
			state: gitlabfake.StateBlocked, levels: map[string]int{"acme/handmade": gitlabfake.Developer, "acme/p1": gitlabfake.Owner}},
		{name: "an already blocked user is unchanged", mode: "block",
			ann:   &gitlabfake.User{State: gitlabfake.StateBlocked},
			want:  []string{"user.block unchanged ann@example.com "},
			state: gitlabfake.StateBlocked, levels: map[string]int{"acme/handmade": gitlabfake.Developer}},
		{name: "no GitLab user", mode: "block",
			want: []string{"user.block unchanged ann@example.com "}},
		{name: "a protected account is untouched", mode: "block", protected: []string{"ANN@example.com"},
			ann: &gitlabfake.User{}, managed: gitlabfake.Developer,
			want:  []string{"user.block skipped ann@example.com "},
			state: gitlabfake.StateActive, levels: map[string]int{"acme/handmade": gitlabfake.Developer, "acme/p1": gitlabfake.Developer}},
		{name: "deactivate an inactive user", mode: "deactivate",
			ann:   &gitlabfake.User{LastActivity: long},
			want:  []string{"user.deactivate revoked ann@example.com "},
			state: gitlabfake.StateDeactivated, levels: map[string]int{"acme/handmade": gitlabfake.Developer}},
		{name: "a recently active user cannot be deactivated: blocked instead", mode: "deactivate",
			ann:  &gitlabfake.User{LastActivity: time.Now()},
			want: []string{"user.block revoked ann@example.com "}, reason: "90 days",
			state: gitlabfake.StateBlocked, levels: map[string]int{"acme/handmade": gitlabfake.Developer}},
		{name: "delete", mode: "delete",
			ann: &gitlabfake.User{}, managed: gitlabfake.Developer,
			want: []string{"group_member.remove revoked acme/p1 developer", "user.delete revoked ann@example.com "}},
		{name: "dry-run plans and writes nothing", mode: "block", dryRun: true,
			ann: &gitlabfake.User{}, managed: gitlabfake.Developer,
			want:  []string{"group_member.remove planned acme/p1 developer", "user.block planned ann@example.com "},
			state: gitlabfake.StateActive, levels: map[string]int{"acme/handmade": gitlabfake.Developer, "acme/p1": gitlabfake.Developer}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, synctest.Options{Server: srv, DryRun: tc.dryRun, Rules: offboardRules(tc.mode),
				Guard: guard.Config{Protected: tc.protected, Threshold: 100, Window: time.Hour}}, false)
			var ann int64
			if tc.ann != nil {
				u := *tc.ann
				u.Email = "ann@example.com"
				ann = e.gl.AddUser(u).ID
				e.gl.SetMember("acme/handmade", ann, gitlabfake.Developer)
			}
			if tc.managed != 0 {
				e.gl.SetMember("acme/p1", ann, tc.managed)
				g := ledger.Grant{Provider: "gitlab", Target: "group:acme/p1", User: key(ann), Role: "developer", RuleID: "devs", CompanyID: "c1", ProjectID: "p1"}
				if err := e.h.Deps.Ledger.Put(context.Background(), g); err != nil {
					t.Fatal(err)
				}
			}
			e.gl.Faults().ResetLog()
			e.h.Publish(synctest.OktaUserEvent(events.OktaDeleteUser, "d1", "00u1", "ann@example.com"))
			e.settle(t)
			reasons := e.reasonsOf("d1")
			if got := e.outcomesOf("d1"); !equal(got, tc.want) {
				t.Fatalf("outcomes %q, want %q (reasons %q)", got, tc.want, reasons)
			}
			if tc.reason != "" && !strings.Contains(reasons[len(reasons)-1], tc.reason) {
				t.Errorf("reason %q does not say %q", reasons[len(reasons)-1], tc.reason)
			}
			if tc.ann == nil {
				return
			}
			u, found := e.gl.User(ann)
			if state := map[bool]string{true: u.State}[found]; state != tc.state {
				t.Errorf("state %q, want %q", state, tc.state)
			}
			if got := e.levels(ann); !sameLevels(got, tc.levels) {
				t.Errorf("memberships %v, want %v", got, tc.levels)
			}
			grants, err := e.h.Deps.Ledger.ForUser(context.Background(), "gitlab", key(ann))
			if kept := tc.dryRun || len(tc.protected) > 0; err != nil || (len(grants) > 0) != (kept && tc.managed != 0) {
				t.Errorf("ledger %v (%v)", grants, err)
			}
			if tc.dryRun && e.gl.Faults().Writes() != 0 {
				t.Errorf("%d writes in dry-run", e.gl.Faults().Writes())
			}
		})
	}
}
