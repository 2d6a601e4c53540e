package rules_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/rules"
)

func noEnv(string) string { return "" }

func TestBuiltinRulesReproduceTheMatrix(t *testing.T) {
	env := map[string]string{"IDSYNC_CONSOLE_COMPANY_ID": "acme", "IDSYNC_GITHUB_ORG": "acme-gh", "IDSYNC_GITLAB_ROOT_GROUP": "acme-gl"}
	s, err := rules.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Notes()) != 0 {
		t.Fatalf("notes with everything configured: %v", s.Notes())
	}
	// Which providers act on which event, as in design §2.
	acts := map[string][]string{}
	for _, r := range s.Rules() {
		a := r.Actions
		for p, on := range map[string]bool{"okta": a.Okta != nil, "gitlab": a.GitLab != nil, "github": a.GitHub != nil, "console": a.Console != nil} {
			if on && !slices.Contains(acts[r.Scope.Event], p) {
				acts[r.Scope.Event] = append(acts[r.Scope.Event], p)
			}
		}
	}
	for _, ty := range events.Default().Types() {
		if ty.Kind != events.KindSync {
			continue
		}
		got := slices.Sorted(slices.Values(acts[ty.Name]))
		want := slices.Sorted(slices.Values(ty.Providers))
		if !slices.Equal(got, want) {
			t.Errorf("%s: built-in rules act on %v, the matrix says %v", ty.Name, got, want)
		}
	}
	dev := s.For(events.ConsoleUpdateUserPermission)[1]
	if dev.Actions.GitLab.Groups[0].Path != "acme-gl/{{projectId}}" || dev.Actions.GitHub.Teams[0].Organization != "acme-gh" {
		t.Fatalf("environment not expanded: %+v %+v", dev.Actions.GitLab, dev.Actions.GitHub)
	}
}

func TestBuiltinRulesLeaveOutWhatIsNotConfigured(t *testing.T) {
	s, err := rules.Load("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Rules() {
		if r.Actions.GitHub != nil || r.Actions.Console != nil {
			t.Errorf("rule %s kept an action whose name is not configured", r.ID)
		}
	}
	notes := strings.Join(s.Notes(), "\n")
	for _, want := range []string{"IDSYNC_CONSOLE_COMPANY_ID", "IDSYNC_GITHUB_ORG", "IDSYNC_GITLAB_ROOT_GROUP"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not mention %s:\n%s", want, notes)
		}
	}
	if len(s.For(events.ConsoleUpdateUserPermission)) == 0 {
		t.Fatal("the Okta rules, which need no configuration, were dropped")
	}
}

func TestInvalidFilesReportEveryProblem(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // one substring per expected error, each naming rule and field
	}{
		{name: "unknown field", doc: "version: 1\nrules:\n  - id: a\n    scop: {}\n", want: []string{"field scop not found"}},
		{name: "version and empty", doc: "version: 2\nrules: []\n", want: []string{"version: 2, want 1", "rules: no rules"}},
		{name: "ids", doc: `version: 1
rules:
  - scope: {event: okta.create.user}
    actions: {gitlab: {user: {}}}
  - id: Bad Id
    scope: {event: okta.create.user}
    actions: {gitlab: {user: {}}}
  - id: dup
    scope: {event: okta.create.user}
    actions: {gitlab: {user: {}}}
  - id: dup
    scope: {event: okta.create.user}
    actions: {gitlab: {user: {}}}
`, want: []string{`rule #1: id: required`, `rule "Bad Id": id:`, `rule "dup": id: also used by rule #3`}},
		{name: "scope", doc: `version: 1
rules:
  - id: a
    scope: {event: okta.rename.user}
  - id: b
    scope: {event: console.update.user.permission, always: true, companyIds: [x]}
    requirements: {necessaryPermissions: [console.company.view]}
    actions: {okta: {groups: [g]}}
  - id: c
    scope: {event: okta.delete.user, projectIds: [p]}
    actions: {gitlab: {offboard: block}}
  - id: d
    scope: {event: console.update.user.permission, isProduction: true}
    requirements: {necessaryPermissions: [console.company.view]}
    actions: {okta: {groups: [g]}}
`, want: []string{`rule "a": scope.event: "okta.rename.user" is not one of`, `rule "b": scope.always: cannot be combined`,
			`rule "c": scope: companyIds, projectIds`, `rule "d": scope.isProduction: needs evaluateForEachEnvironment`}},
		{name: "requirements", doc: `version: 1
rules:
  - id: a
    scope: {event: console.update.user.permission}
    actions: {okta: {groups: [g]}}
  - id: b
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.nope, console.company.view]}
    actions: {okta: {groups: [g]}}
  - id: c
    scope: {event: okta.create.user}
    requirements: {necessaryPermissions: [console.company.view]}
    actions: {gitlab: {user: {}}}
  - id: d
    scope: {event: okta.verify.email}
    requirements: {allowedDomains: ["Example.COM", "*.ok.example"]}
`, want: []string{`rule "a": requirements: /: missing property 'necessaryPermissions'`, `rule "b": requirements.necessaryPermissions[0]: "console.nope" is not a Console permission key`,
			`rule "c": requirements: okta.create.user takes no requirements`, `rule "d": requirements.allowedDomains: not lower-case domain names`}},
		{name: "actions", doc: `version: 1
rules:
  - id: a
    scope: {event: console.create.project}
    actions: {github: {teams: [{organization: o, name: t, role: member}]}}
  - id: b
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.company.view]}
    actions:
      gitlab: {groups: [{path: "g/{{projectid}}", role: dev}]}
      github: {organizations: [{name: o, role: owner}], teams: [{organization: "", name: "{{environmentId}}", role: admin}]}
  - id: c
    scope: {event: okta.create.user}
    actions: {console: {companies: [{id: "{{companyId}}", role: project-admin}, {id: c2, role: root}]}}
  - id: d
    scope: {event: okta.delete.user}
    actions: {gitlab: {offboard: ban}, github: {organizations: [{name: o, role: member}]}}
  - id: e
    scope: {event: okta.delete.user}
`, want: []string{
			`rule "a": actions.github.teams: not an action of console.create.project (it takes: okta.groups)`,
			`rule "b": actions.gitlab.groups[0].path: unknown template variable {{projectid}}`,
			`rule "b": actions.gitlab.groups[0].role: "dev" is not a GitLab role`,
			`rule "b": actions.github.organizations[0].role: "owner" is not a GitHub organization role`,
			`rule "b": actions.github.teams[0].organization: empty`,
			`rule "b": actions.github.teams[0].name: {{environmentId}} needs scope.evaluateForEachEnvironment`,
			`rule "b": actions.github.teams[0].role: "admin" is not a GitHub team role`,
			`rule "c": actions.console.companies[0].id: {{companyId}}: okta.create.user events have no Console company`,
			`rule "c": actions.console.companies[1].role: "root" is not a Console role`,
			`rule "d": actions.gitlab.offboard: "ban", want block, deactivate, delete`,
			`rule "d": actions.github.organizations[0].role: okta.delete.user removes the user`,
			`rule "e": actions: no actions`,
		}},
		{name: "unset variable in a file", doc: "version: 1\nrules:\n  - id: a\n    scope: {event: okta.delete.user}\n    actions: {github: {organizations: [{name: \"${GH_ORG}\"}]}}\n",
			want: []string{`rule "a": actions.github.organizations[0].name: GH_ORG is not set`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.Parse("rules.yaml", []byte(tc.doc), noEnv, false)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("missing %q in:\n%s", w, msg)
				}
			}
			if lines := strings.Count(msg, "\n") + 1; tc.name != "unknown field" && lines != len(tc.want) {
				t.Errorf("%d errors, want %d (one per problem):\n%s", lines, len(tc.want), msg)
			}
			if tc.name != "unknown field" && !strings.HasPrefix(msg, "rules.yaml: ") {
				t.Errorf("errors do not name the file: %s", msg)
			}
		})
	}
}

func TestLoadFileAndDomains(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.yaml")
	doc := `version: 1
rules:
  - id: domains
    scope: {event: okta.verify.email}
    requirements: {allowedDomains: [example.com, "${EXTRA}"]}
  - id: devs
    scope: {event: console.update.user.permission, companyIds: [acme]}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions: {gitlab: {groups: [{path: "acme/{{projectId}}", role: developer}]}}
`
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := rules.Load(p, func(k string) string { return map[string]string{"EXTRA": "*.example.org"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := s.AllowedDomains(); !slices.Equal(got, []string{"example.com", "*.example.org"}) {
		t.Fatalf("domains %v", got)
	}
	if s.Source != p || len(s.For(events.ConsoleUpdateUserPermission)) != 1 {
		t.Fatalf("set %+v", s)
	}
	if _, err := rules.Load(filepath.Join(t.TempDir(), "missing.yaml"), noEnv); err == nil || !strings.Contains(err.Error(), "IDSYNC_RULES_FILE") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestContextExpand(t *testing.T) {
	c := rules.Context{CompanyID: "acme", ProjectID: "p1", EnvironmentID: "prod"}
	for in, want := range map[string]string{
		"console-{{companyId}}":                     "console-acme",
		"{{ projectId }}/{{environmentId}}":         "p1/prod",
		"plain":                                     "plain",
		"{{companyId}}-{{companyId}}-{{projectId}}": "acme-acme-p1",
	} {
		if got := c.Expand(in); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}
