package plan_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/access"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/rules"
)

const testRules = `version: 1
rules:
  - id: company-members
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.company.view]}
    actions: {okta: {groups: ["console-{{companyId}}"]}}
  - id: project-devs
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions: {okta: {groups: ["console-{{companyId}}-{{projectId}}-devs"]}}
  - id: prod-deployers
    scope: {event: console.update.user.permission, evaluateForEachEnvironment: true, isProduction: true}
    requirements: {necessaryPermissions: [console.environment.deploy.trigger]}
    actions: {okta: {groups: ["deploy-{{projectId}}-{{environmentId}}"]}}
  - id: listed-project
    scope: {event: console.update.user.permission, projectIds: [p9]}
    requirements: {necessaryPermissions: [console.project.view]}
    actions: {okta: {groups: ["viewers-{{projectId}}"]}}
  - id: other-company
    scope: {event: console.update.user.permission, companyIds: [other]}
    requirements: {necessaryPermissions: [console.company.view]}
    actions: {okta: {groups: ["other"]}}
`

var groups = plan.Provider{
	Name: "okta",
	Targets: func(r *rules.Rule, c rules.Context) []plan.Target {
		if r.Actions.Okta == nil {
			return nil
		}
		var out []plan.Target
		for _, g := range r.Actions.Okta.Groups {
			name := c.Expand(g)
			out = append(out, plan.Target{Key: plan.Key("group", name), Kind: "group", Name: name, Role: "member", RuleID: r.ID, Context: c})
		}
		return out
	},
	Rank: func(role string) int {
		if role == "member" {
			return 1
		}
		return 0
	},
}

func planner(t *testing.T) (*consolefake.Fake, *console.Client, *plan.Planner) {
	t.Helper()
	rs, err := rules.Parse("rules.yaml", []byte(testRules), func(string) string { return "" }, false)
	if err != nil {
		t.Fatal(err)
	}
	f := consolefake.New()
	f.AddServiceAccount("idsync", "service-account-secret")
	f.AddProject("acme", "p1", "Payments", consolefake.Environment{EnvID: "dev"}, consolefake.Environment{EnvID: "prod", IsProduction: true})
	f.AddProject("acme", "p2", "Checkout", consolefake.Environment{EnvID: "live", IsProduction: true})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	c, err := console.New(console.Config{URL: srv.URL, ClientID: "idsync", ClientSecret: "service-account-secret", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetPageSize(2) // every listing takes several pages
	return f, c, plan.New(rs, c, nil, groups)
}

func keys(m map[string]plan.Target) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestManagedTargets: every target the rules name in the company, its
// projects (bound on by anyone, or listed by a rule) and their production
// environments; nothing of another company's rule, no non-production
// environment for a production-only rule.
func TestManagedTargets(t *testing.T) {
	t.Parallel()
	f, _, p := planner(t)
	for _, u := range []string{"ann", "bob", "cat"} {
		f.AddPlatformUser(u, u+"@example.com")
	}
	f.BindCompany("acme", "ann", access.Guest)
	f.BindProject("acme", "bob", "p1", access.Reporter)
	f.AddGroup("acme", "g1", "checkout", "")
	f.BindGroupProject("acme", "g1", "p2", access.Guest)
	f.AddGroupMember("acme", "g1", "cat")
	got, err := p.ManagedTargets(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range got {
		names = append(names, tg.Name+" "+tg.RuleID)
	}
	want := []string{
		"console-acme company-members", "console-acme-p1-devs project-devs", "console-acme-p2-devs project-devs",
		"deploy-p1-prod prod-deployers", "deploy-p2-live prod-deployers", "viewers-p9 listed-project",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("ManagedTargets = %q, want %q", names, want)
	}
}

// TestDesired: what the rules want for someone's effective bindings, in
// every project of the company — a company binding is inherited by each.
func TestDesired(t *testing.T) {
	t.Parallel()
	f, c, p := planner(t)
	for _, u := range []string{"ann", "bob"} {
		f.AddPlatformUser(u, u+"@example.com")
	}
	f.BindProject("acme", "bob", "p1", access.Reporter) // makes p1 and p2 known
	f.BindProject("acme", "bob", "p2", access.Guest)
	if _, err := p.ManagedTargets(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		b     access.Bindings
		want  []string
		unmet string // a key that must be unmet
	}{
		{"company developer: every project's developers", access.Bindings{CompanyRoles: []string{access.Developer}},
			[]string{"group:console-acme", "group:console-acme-p1-devs", "group:console-acme-p2-devs", "group:viewers-p9"}, "group:deploy-p1-prod"},
		{"maintainer of p1's production", access.Bindings{CompanyRoles: []string{access.Guest}, Projects: map[string]access.ProjectBinding{
			"p1": {Environments: map[string][]string{"prod": {access.Maintainer}}}}},
			[]string{"group:console-acme", "group:deploy-p1-prod"}, "group:console-acme-p1-devs"},
		{"no access", access.Bindings{}, nil, "group:console-acme"},
	} {
		d, err := p.Desired(context.Background(), "acme", tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(d.Wanted); !slices.Equal(got, tc.want) {
			t.Errorf("%s: wanted %q, want %q", tc.name, got, tc.want)
		}
		if d.Unmet[tc.unmet] == "" {
			t.Errorf("%s: %s is not reported unmet (unmet %v)", tc.name, tc.unmet, d.Unmet)
		}
	}
	// The same answer for someone read from the Console.
	f.BindCompany("acme", "ann", access.Developer)
	all, err := c.CompanyAccess(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, ua := range all {
		if ua.User.UserID != "ann" {
			continue
		}
		d, err := p.Desired(context.Background(), "acme", ua.Bindings)
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(d.Wanted); !slices.Contains(got, "group:console-acme-p2-devs") {
			t.Errorf("ann, company developer: wanted %q, want p2's developers too", got)
		}
	}
}
