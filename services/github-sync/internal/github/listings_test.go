package github_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/idsync/idsync/pkg/errclass"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

// TestListingsReadEveryPage drives the member and invitation listings
// through go-github's Link pagination on the fake, two items a page.
func TestListingsReadEveryPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	devs := e.fake.AddTeam("acme", "devs")
	e.fake.AddTeam("acme", "ops")
	for _, l := range []string{"m1", "m2", "m3", "m4", "m5"} {
		e.fake.SetTeamMember("acme", "devs", l, "member")
	}
	e.fake.SetTeamMember("acme", "devs", "lead", "maintainer")
	e.fake.SetMember("acme", "owner", "admin")
	e.fake.InviteLogin("acme", "ann", "member") // pending: listed as an invitation only
	ctx := context.Background()
	for _, email := range []string{"a@x.io", "b@x.io", "c@x.io"} {
		if _, err := e.c.Invite(ctx, "acme", email, ghapi.InviteMember, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.Invite(ctx, "acme", "d@x.io", ghapi.InviteAdmin, []int64{devs}); err != nil {
		t.Fatal(err)
	}
	e.c.SetPageSize(2)
	var calls atomic.Int64
	ctx = ghapi.WithCallCounter(ctx, &calls)
	e.fake.Faults().ResetLog()

	tests := []struct {
		name string
		list func() ([]string, error)
		want []string
	}{
		{"org members", func() ([]string, error) { return e.c.OrgMembers(ctx, "acme", ghapi.RoleMember) },
			[]string{"lead", "m1", "m2", "m3", "m4", "m5"}},
		{"org admins", func() ([]string, error) { return e.c.OrgMembers(ctx, "acme", ghapi.RoleAdmin) }, []string{"owner"}},
		{"team members", func() ([]string, error) { return e.c.TeamMembers(ctx, "acme", "devs", ghapi.RoleMember) },
			[]string{"m1", "m2", "m3", "m4", "m5"}},
		{"team maintainers", func() ([]string, error) { return e.c.TeamMembers(ctx, "acme", "devs", ghapi.RoleMaintainer) }, []string{"lead"}},
		{"empty team", func() ([]string, error) { return e.c.TeamMembers(ctx, "acme", "ops", ghapi.RoleMember) }, nil},
	}
	for _, tc := range tests {
		got, err := tc.list()
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
	invs, err := e.c.OrgInvitations(ctx, "acme")
	if err != nil || len(invs) != 5 {
		t.Fatalf("invitations %+v %v", invs, err)
	}
	last := invs[4]
	if last.Email != "d@x.io" || last.Role != ghapi.InviteAdmin || !slices.Equal(last.TeamIDs, []int64{devs}) || !slices.Equal(last.TeamSlugs, []string{"devs"}) {
		t.Fatalf("invitation with a team %+v", last)
	}
	if invs[0].Login != "ann" || len(invs[0].TeamIDs) != 0 {
		t.Fatalf("invitation of a login %+v", invs[0])
	}
	// Pages: 3+1+3+1+1 of members, 3 of invitations, 1 of the one
	// invitation's teams (the others say team_count 0).
	if n := int64(len(e.fake.Faults().Requests())); n != 13 || calls.Load() != n {
		t.Fatalf("%d requests, %d counted, want 13", n, calls.Load())
	}
	for _, call := range []func() error{
		func() error { _, err := e.c.OrgMembers(ctx, "nope", ghapi.RoleMember); return err },
		func() error { _, err := e.c.TeamMembers(ctx, "acme", "nope", ghapi.RoleMember); return err },
		func() error { _, err := e.c.OrgInvitations(ctx, "nope"); return err },
	} {
		if err := call(); errclass.Of(err) != errclass.NotFound {
			t.Errorf("unknown org or team: %v, want NotFound", err)
		}
	}
}
