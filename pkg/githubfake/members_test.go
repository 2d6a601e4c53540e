package githubfake_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// logins reads every page of a member listing the way a client following
// Link: rel="next" does, and returns the logins and the number of pages.
func (c *client) logins(path string) ([]string, int) {
	c.t.Helper()
	var out []string
	pages := 0
	for path != "" {
		s, h, body := c.do("GET", path, nil)
		if s != 200 {
			c.t.Fatalf("GET %s: %d %v", path, s, body)
		}
		pages++
		for _, u := range body.([]any) {
			out = append(out, field(u, "login").(string))
		}
		path = ""
		for _, part := range strings.Split(h.Get("Link"), ",") {
			if strings.Contains(part, `rel="next"`) {
				url := strings.Trim(strings.TrimSpace(strings.Split(part, ";")[0]), "<>")
				path = strings.TrimPrefix(url, c.base)
			}
		}
	}
	return out, pages
}

func TestMemberListings(t *testing.T) {
	t.Parallel()
	f, c, _ := setup(t)
	f.AddTeam("acme", "devs")
	for i := range 5 {
		f.SetTeamMember("acme", "devs", fmt.Sprintf("m%d", i), "member")
	}
	f.SetTeamMember("acme", "devs", "lead", "maintainer")
	f.SetMember("acme", "owner", "admin")
	f.InviteLogin("acme", "ann", "member") // pending: an invitation, not a member
	if s, _, _ := c.do("PUT", "orgs/acme/teams/devs/memberships/bob", map[string]string{"role": "member"}); s != 200 {
		t.Fatalf("invite bob through the team: %d", s)
	}
	tests := []struct {
		path  string
		want  []string
		pages int
	}{
		{"orgs/acme/members?per_page=2", []string{"lead", "m0", "m1", "m2", "m3", "m4", "owner"}, 4},
		{"orgs/acme/members?role=admin&per_page=2", []string{"owner"}, 1},
		{"orgs/acme/members?role=member&per_page=4", []string{"lead", "m0", "m1", "m2", "m3", "m4"}, 2},
		{"orgs/acme/members?role=all", []string{"lead", "m0", "m1", "m2", "m3", "m4", "owner"}, 1},
		{"orgs/acme/teams/devs/members?per_page=3", []string{"lead", "m0", "m1", "m2", "m3", "m4"}, 2},
		{"orgs/acme/teams/devs/members?role=maintainer", []string{"lead"}, 1},
		{"orgs/acme/teams/devs/members?role=member&per_page=1", []string{"m0", "m1", "m2", "m3", "m4"}, 5},
	}
	for _, tc := range tests {
		got, pages := c.logins(tc.path)
		if !slices.Equal(got, tc.want) || pages != tc.pages {
			t.Errorf("%s: %v in %d pages, want %v in %d", tc.path, got, pages, tc.want, tc.pages)
		}
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"orgs/acme/members?role=owner", 422},
		{"orgs/acme/teams/devs/members?role=admin", 422},
		{"orgs/nope/members", 404},
		{"orgs/acme/teams/nope/members", 404},
	} {
		if s, _, _ := c.do("GET", tc.path, nil); s != tc.want {
			t.Errorf("%s: %d, want %d", tc.path, s, tc.want)
		}
	}
}

func TestRemovedByHand(t *testing.T) {
	t.Parallel()
	f, _, _ := setup(t)
	f.SetTeamMember("acme", "devs", "ann", "maintainer")
	f.SetTeamMember("acme", "devs", "bob", "member")
	if !f.RemoveTeamMember("acme", "devs", "bob") || f.RemoveTeamMember("acme", "devs", "bob") {
		t.Fatal("team removal by hand")
	}
	if got := f.Members("acme"); !slices.Equal(got, []string{"ann member active", "bob member active"}) {
		t.Fatalf("org members after a team removal: %v", got)
	}
	if !f.RemoveMember("acme", "ann") || f.RemoveMember("acme", "ann") {
		t.Fatal("org removal by hand")
	}
	if got := f.TeamMembers("acme", "devs"); len(got) != 0 {
		t.Fatalf("team members after leaving the org: %v", got)
	}
}
