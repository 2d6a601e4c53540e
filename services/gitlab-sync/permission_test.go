package gitlabsync_test

import (
	"fmt"
	"testing"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

const (
	added   = eventsv1.PermissionChange_PERMISSION_CHANGE_ADDED
	edited  = eventsv1.PermissionChange_PERMISSION_CHANGE_EDITED
	removed = eventsv1.PermissionChange_PERMISSION_CHANGE_REMOVED
)

// step changes the Console, then delivers the event the Console sends.
type step struct {
	gitlab  func(f *gitlabfake.Fake, ann int64) // a change by hand first
	console func(c *consolefake.Fake)
	change  eventsv1.PermissionChange
	role    string
	project string // default p1
	email   string // default ann@example.com
}

func TestConsoleUpdateUserPermission(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	bind := func(project, role string) func(c *consolefake.Fake) {
		return func(c *consolefake.Fake) { c.BindProject("c1", "u1", project, role) }
	}
	tests := []struct {
		name     string
		gitlab   func(f *gitlabfake.Fake, ann int64)
		steps    []step
		dryRun   bool
		noGitLab bool
		// want are the outcomes of the last step; levels ann's direct
		// memberships afterwards.
		want   []string
		levels map[string]int
	}{
		{name: "a developer on p1 develops acme/p1",
			steps:  []step{{console: bind("p1", "developer"), change: added, role: "developer"}},
			want:   []string{"group_member.add granted acme/p1 developer"},
			levels: map[string]int{"acme/p1": gitlabfake.Developer}},
		{name: "a maintainer maintains: the highest role of the met rules wins",
			steps: []step{{console: bind("p1", "maintainer"), change: added, role: "maintainer"}},
			want: []string{"group_member.add granted acme/p1 maintainer",
				"group_member.add granted deploy/p1-production maintainer"},
			levels: map[string]int{"acme/p1": gitlabfake.Maintainer, "deploy/p1-production": gitlabfake.Maintainer}},
		{name: "a developer raised to maintainer is raised in GitLab",
			steps: []step{{console: bind("p1", "developer"), change: added, role: "developer"},
				{console: bind("p1", "maintainer"), change: edited, role: "maintainer"}},
			want: []string{"group_member.update granted acme/p1 maintainer",
				"group_member.add granted deploy/p1-production maintainer"},
			levels: map[string]int{"acme/p1": gitlabfake.Maintainer, "deploy/p1-production": gitlabfake.Maintainer}},
		{name: "a role lowered in the Console lowers the role idsync granted; access the rules no longer grant goes",
			steps: []step{{console: bind("p1", "maintainer"), change: added, role: "maintainer"},
				{console: bind("p1", "developer"), change: edited, role: "developer"}},
			want: []string{"group_member.update revoked acme/p1 developer",
				"group_member.remove revoked deploy/p1-production maintainer"},
			levels: map[string]int{"acme/p1": gitlabfake.Developer}},
		{name: "removed from the Console company: managed memberships go, hand-made ones stay",
			gitlab: func(f *gitlabfake.Fake, ann int64) { f.SetMember("acme/handmade", ann, gitlabfake.Developer) },
			steps: []step{{console: bind("p1", "developer"), change: added, role: "developer"},
				{console: func(c *consolefake.Fake) { c.RemoveUser("c1", "u1") }, change: removed}},
			want:   []string{"group_member.remove revoked acme/p1 developer"},
			levels: map[string]int{"acme/handmade": gitlabfake.Developer}},
		{name: "a GitLab owner is left alone when the rule grants maintainer",
			gitlab: func(f *gitlabfake.Fake, ann int64) { f.SetMember("acme/p1", ann, gitlabfake.Owner) },
			steps:  []step{{console: bind("p1", "maintainer"), change: added, role: "maintainer"}},
			want: []string{"group_member.add unchanged acme/p1 maintainer",
				"group_member.add granted deploy/p1-production maintainer"},
			levels: map[string]int{"acme/p1": gitlabfake.Owner, "deploy/p1-production": gitlabfake.Maintainer}},
		{name: "a role raised by hand above idsync's grant is not removed when access goes",
			steps: []step{{console: bind("p1", "developer"), change: added, role: "developer"},
				{gitlab: func(f *gitlabfake.Fake, ann int64) { f.SetMember("acme/p1", ann, gitlabfake.Owner) },
					console: func(c *consolefake.Fake) { c.RemoveUser("c1", "u1") }, change: removed}},
			want:   []string{"group_member.remove skipped acme/p1 developer"},
			levels: map[string]int{"acme/p1": gitlabfake.Owner}},
		{name: "an environment-scoped rule applies to production environments only",
			steps: []step{{console: func(c *consolefake.Fake) {
				c.BindEnvironment("c1", "u1", "p1", "production", "maintainer")
				c.BindEnvironment("c1", "u1", "p1", "development", "maintainer")
			}, change: added, role: "maintainer"}},
			want:   []string{"group_member.add granted deploy/p1-production maintainer"},
			levels: map[string]int{"deploy/p1-production": gitlabfake.Maintainer}},
		{name: "a role inherited from the parent group covers the rule's",
			gitlab: func(f *gitlabfake.Fake, ann int64) { f.SetMember("acme", ann, gitlabfake.Maintainer) },
			steps:  []step{{console: bind("p1", "developer"), change: added, role: "developer"}},
			want:   []string{"group_member.add unchanged acme/p1 developer"},
			levels: map[string]int{"acme": gitlabfake.Maintainer}},
		{name: "a group missing in GitLab is an outcome",
			steps:  []step{{console: bind("p2", "developer"), change: added, role: "developer", project: "p2"}},
			want:   []string{"group_member.add skipped acme/p2 developer"},
			levels: map[string]int{}},
		{name: "a project unknown to the Console is an outcome",
			steps:  []step{{console: bind("p9", "developer"), change: added, role: "developer", project: "p9"}},
			want:   []string{"group_member.add skipped acme/p9 developer", "rule.evaluate skipped  "},
			levels: map[string]int{}},
		{name: "a Console user without a GitLab user is an outcome",
			steps: []step{{console: func(c *consolefake.Fake) {
				c.AddPlatformUser("u1", "nobody@example.com")
				c.BindProject("c1", "u1", "p1", "developer")
			}, change: added, role: "developer", email: "nobody@example.com"}},
			want:   []string{"user.resolve skipped  "},
			levels: map[string]int{}},
		{name: "dry-run plans and writes nothing", dryRun: true,
			steps:  []step{{console: bind("p1", "maintainer"), change: added, role: "maintainer"}},
			want:   []string{"group_member.add planned acme/p1 maintainer", "group_member.add planned deploy/p1-production maintainer"},
			levels: map[string]int{}},
		{name: "without GitLab credentials everything is planned", noGitLab: true,
			steps:  []step{{console: bind("p1", "developer"), change: added, role: "developer"}},
			want:   []string{"group_member.add planned acme/p1 developer"},
			levels: map[string]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, synctest.Options{Server: srv, DryRun: tc.dryRun}, tc.noGitLab)
			ann := e.gl.AddUser(gitlabfake.User{Email: "ann@example.com", Name: "Ann"}).ID
			for _, g := range []string{"acme/p1", "deploy/p1-production", "deploy/p1-development"} {
				e.gl.AddGroup(g)
			}
			e.console.AddPlatformUser("u1", "ann@example.com")
			e.console.AddProject("c1", "p1", "P1",
				consolefake.Environment{EnvID: "production", Label: "Production", IsProduction: true},
				consolefake.Environment{EnvID: "development", Label: "Development"})
			e.console.AddProject("c1", "p2", "P2")
			if tc.gitlab != nil {
				tc.gitlab(e.gl, ann)
			}
			var last string
			for i, s := range tc.steps {
				if s.gitlab != nil {
					s.gitlab(e.gl, ann)
				}
				if s.console != nil {
					s.console(e.console)
				}
				last = fmt.Sprintf("ev%d", i)
				project, email := s.project, s.email
				if project == "" {
					project = "p1"
				}
				if email == "" {
					email = "ann@example.com"
				}
				e.h.Publish(synctest.PermissionEvent(last, s.change, "u1", email, s.role, "c1", project, ""))
				e.settle(t)
			}
			if got := e.outcomesOf(last); !equal(got, tc.want) {
				t.Fatalf("outcomes %q, want %q (reasons %q)", got, tc.want, e.reasonsOf(last))
			}
			if got := e.levels(ann); !sameLevels(got, tc.levels) {
				t.Errorf("memberships %v, want %v", got, tc.levels)
			}
			if (tc.dryRun || tc.noGitLab) && e.gl.Faults().Writes() != 0 {
				t.Errorf("%d writes in dry-run", e.gl.Faults().Writes())
			}
			if len(e.h.DeadLetters()) != 0 {
				t.Errorf("dead letters: %d", len(e.h.DeadLetters()))
			}
		})
	}
}
