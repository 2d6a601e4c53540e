package rules

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/idsync/idsync/pkg/access"
	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/schema"
)

// EventVerifyEmail is the one non-sync event rules may name.
const EventVerifyEmail = events.OktaVerifyEmail

// Roles accepted in actions.
var (
	GitLabRoles         = []string{"guest", "planner", "reporter", "developer", "maintainer", "owner"}
	GitHubOrgRoles      = []string{"member", "admin"}
	GitHubTeamRoles     = []string{"member", "maintainer"}
	GitLabOffboardModes = []string{"block", "deactivate", "delete"}
	consoleEvents       = []string{events.ConsoleUpdateUserPermission, events.ConsoleCreateProject}
	ruleEvents          = []string{events.ConsoleUpdateUserPermission, events.ConsoleCreateProject, events.OktaCreateUser, events.OktaDeleteUser, EventVerifyEmail}
	idPattern           = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	requirementSchemas  = map[string]string{events.ConsoleUpdateUserPermission: "rules/necessary-permissions", EventVerifyEmail: "rules/allowed-domains"}
	// compiled holds the seed's requirement schemas, compiled once.
	compiled = sync.OnceValue(func() *schema.Set {
		s, err := schema.Load("rules")
		if err != nil {
			panic(err) // embedded schemas; covered by the package tests
		}
		return s
	})
)

type validator struct {
	file    string
	getenv  func(string) string
	builtin bool
	errs    []error
	notes   []string
}

// problem records one error naming the file, the rule and the field.
func (v *validator) problem(r *Rule, idx int, field, format string, args ...any) {
	who := fmt.Sprintf("rule #%d", idx+1)
	if r != nil && r.ID != "" {
		who = fmt.Sprintf("rule %q", r.ID)
	}
	v.errs = append(v.errs, fmt.Errorf("%s: %s: %s: %s", v.file, who, field, fmt.Sprintf(format, args...)))
}

func (v *validator) file_(f *File) *Set {
	if f.Version != 1 {
		v.errs = append(v.errs, fmt.Errorf("%s: version: %d, want 1", v.file, f.Version))
	}
	if len(f.Rules) == 0 {
		v.errs = append(v.errs, fmt.Errorf("%s: rules: no rules", v.file))
	}
	set := &Set{}
	seen := map[string]int{}
	for i := range f.Rules {
		r := &f.Rules[i]
		switch {
		case r.ID == "":
			v.problem(r, i, "id", "required")
		case !idPattern.MatchString(r.ID):
			v.problem(r, i, "id", "%q: use lower-case letters, digits, '-', '_' or '.' (at most 64)", r.ID)
		case seen[r.ID] > 0:
			v.problem(r, i, "id", "also used by rule #%d", seen[r.ID])
		default:
			seen[r.ID] = i + 1
		}
		v.expand(r, i)
		if v.builtin && r.Scope.Event != EventVerifyEmail && r.Actions == (Actions{}) {
			v.notes = append(v.notes, fmt.Sprintf("rule %q left out: none of its actions is configured", r.ID))
			continue
		}
		v.rule(r, i)
		set.rules = append(set.rules, r)
	}
	set.notes = v.notes
	return set
}

// expand fills ${NAME} references; in the built-in rules an entry that
// names an unset variable is dropped with a note.
func (v *validator) expand(r *Rule, i int) {
	env := func(field string, s *string) bool {
		out, empty := expandEnv(*s, v.getenv)
		if len(empty) == 0 {
			*s = out
			return true
		}
		if !v.builtin {
			// Reported once; the entry stays (unexpanded) so that no second
			// error follows from its absence.
			v.problem(r, i, field, "%s is not set", strings.Join(empty, ", "))
			return true
		}
		v.notes = append(v.notes, fmt.Sprintf("rule %q: %s left out: %s not set", r.ID, field, strings.Join(empty, ", ")))
		return false
	}
	envList := func(field string, list []string) []string {
		var out []string
		for j := range list {
			if env(fmt.Sprintf("%s[%d]", field, j), &list[j]) {
				out = append(out, list[j])
			}
		}
		return out
	}
	r.Scope.CompanyIDs = envList("scope.companyIds", r.Scope.CompanyIDs)
	r.Scope.ProjectIDs = envList("scope.projectIds", r.Scope.ProjectIDs)
	r.Requirements.AllowedDomains = envList("requirements.allowedDomains", r.Requirements.AllowedDomains)
	if a := r.Actions.Okta; a != nil {
		a.Groups = envList("actions.okta.groups", a.Groups)
	}
	if a := r.Actions.GitLab; a != nil {
		a.Groups = keep(a.Groups, func(j int, g *GitLabGroup) bool {
			return env(fmt.Sprintf("actions.gitlab.groups[%d].path", j), &g.Path)
		})
	}
	if a := r.Actions.GitHub; a != nil {
		a.Organizations = keep(a.Organizations, func(j int, o *GitHubOrganization) bool {
			return env(fmt.Sprintf("actions.github.organizations[%d].name", j), &o.Name)
		})
		a.Teams = keep(a.Teams, func(j int, t *GitHubTeam) bool {
			org := env(fmt.Sprintf("actions.github.teams[%d].organization", j), &t.Organization)
			name := env(fmt.Sprintf("actions.github.teams[%d].name", j), &t.Name)
			return org && name
		})
	}
	if a := r.Actions.Console; a != nil {
		a.Companies = keep(a.Companies, func(j int, c *ConsoleCompany) bool {
			return env(fmt.Sprintf("actions.console.companies[%d].id", j), &c.ID)
		})
	}
	// A built-in provider block left empty by the above is dropped whole.
	if v.builtin {
		if a := r.Actions.GitHub; a != nil && len(a.Organizations) == 0 && len(a.Teams) == 0 {
			r.Actions.GitHub = nil
		}
		if a := r.Actions.Console; a != nil && len(a.Companies) == 0 {
			r.Actions.Console = nil
		}
		if a := r.Actions.GitLab; a != nil && len(a.Groups) == 0 && a.User == nil && a.Offboard == "" {
			r.Actions.GitLab = nil
		}
		if a := r.Actions.Okta; a != nil && len(a.Groups) == 0 {
			r.Actions.Okta = nil
		}
	}
}

// keep returns the elements for which f (which may change them) is true.
func keep[T any](list []T, f func(int, *T) bool) []T {
	var out []T
	for j := range list {
		if f(j, &list[j]) {
			out = append(out, list[j])
		}
	}
	return out
}

func (v *validator) rule(r *Rule, i int) {
	ev := r.Scope.Event
	if !slices.Contains(ruleEvents, ev) {
		v.problem(r, i, "scope.event", "%q is not one of %s", ev, strings.Join(ruleEvents, ", "))
		return
	}
	isConsole := slices.Contains(consoleEvents, ev)
	if r.Scope.Always && (len(r.Scope.CompanyIDs) > 0 || len(r.Scope.ProjectIDs) > 0) {
		v.problem(r, i, "scope.always", "cannot be combined with companyIds or projectIds")
	}
	if !isConsole && (len(r.Scope.CompanyIDs) > 0 || len(r.Scope.ProjectIDs) > 0 || r.Scope.IsProduction != nil || r.Scope.EvaluateForEachEnvironment) {
		v.problem(r, i, "scope", "companyIds, projectIds, isProduction and evaluateForEachEnvironment apply to Console events only")
	}
	if r.Scope.IsProduction != nil && !r.Scope.EvaluateForEachEnvironment {
		v.problem(r, i, "scope.isProduction", "needs evaluateForEachEnvironment: production is a property of environments")
	}
	v.requirements(r, i)
	v.actions(r, i, isConsole)
}

func (v *validator) requirements(r *Rule, i int) {
	ev := r.Scope.Event
	req := r.Requirements
	name, has := requirementSchemas[ev]
	if !has {
		if len(req.NecessaryPermissions) > 0 || len(req.AllowedDomains) > 0 {
			v.problem(r, i, "requirements", "%s takes no requirements", ev)
		}
		return
	}
	// Validate with the seed's own JSON Schema, as the seed prescribes.
	doc := map[string]any{}
	if ev == events.ConsoleUpdateUserPermission {
		if req.NecessaryPermissions != nil {
			doc["necessaryPermissions"] = toAny(req.NecessaryPermissions)
		}
		if len(req.AllowedDomains) > 0 {
			v.problem(r, i, "requirements.allowedDomains", "belongs to okta.verify.email rules")
		}
	} else {
		if req.AllowedDomains != nil {
			doc["allowedDomains"] = toAny(req.AllowedDomains)
		}
		if len(req.NecessaryPermissions) > 0 {
			v.problem(r, i, "requirements.necessaryPermissions", "belongs to console.update.user.permission rules")
		}
	}
	if err := compiled().Validate(name, doc); err != nil {
		msg := err.Error()
		var ae *apierror.Error
		if errors.As(err, &ae) {
			msg = ae.Message
		}
		v.problem(r, i, "requirements", "%s", msg)
		return
	}
	table := access.Default()
	for j, k := range req.NecessaryPermissions {
		if !table.KnownPermission(k) {
			v.problem(r, i, fmt.Sprintf("requirements.necessaryPermissions[%d]", j), "%q is not a Console permission key", k)
		}
	}
	if ev == EventVerifyEmail {
		if len(req.AllowedDomains) == 0 && !v.builtin {
			v.problem(r, i, "requirements.allowedDomains", "empty: every registration would be denied")
		}
		if err := oktahook.Domains(req.AllowedDomains).Validate(); err != nil {
			v.problem(r, i, "requirements.allowedDomains", "%v", err)
		}
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// allowed lists which provider actions each event may carry (design §2).
var allowed = map[string][]string{
	events.ConsoleUpdateUserPermission: {"okta.groups", "gitlab.groups", "github.organizations", "github.teams"},
	events.ConsoleCreateProject:        {"okta.groups"},
	events.OktaCreateUser:              {"console.companies", "gitlab.user"},
	events.OktaDeleteUser:              {"console.companies", "gitlab.offboard", "github.organizations"},
	EventVerifyEmail:                   {},
}

func (v *validator) actions(r *Rule, i int, isConsole bool) {
	ev := r.Scope.Event
	a := r.Actions
	var used []string
	mark := func(name string, present bool) {
		if present {
			used = append(used, name)
			if !slices.Contains(allowed[ev], name) {
				v.problem(r, i, "actions."+name, "not an action of %s (it takes: %s)", ev, orNone(allowed[ev]))
			}
		}
	}
	if a.Okta != nil {
		mark("okta.groups", len(a.Okta.Groups) > 0)
		for j, g := range a.Okta.Groups {
			v.name(r, i, fmt.Sprintf("actions.okta.groups[%d]", j), g, isConsole)
		}
		if len(a.Okta.Groups) == 0 && !v.builtin {
			v.problem(r, i, "actions.okta.groups", "empty")
		}
	}
	if a.GitLab != nil {
		mark("gitlab.groups", len(a.GitLab.Groups) > 0)
		mark("gitlab.user", a.GitLab.User != nil)
		mark("gitlab.offboard", a.GitLab.Offboard != "")
		for j, g := range a.GitLab.Groups {
			f := fmt.Sprintf("actions.gitlab.groups[%d]", j)
			v.name(r, i, f+".path", g.Path, isConsole)
			if !slices.Contains(GitLabRoles, g.Role) {
				v.problem(r, i, f+".role", "%q is not a GitLab role (%s)", g.Role, strings.Join(GitLabRoles, ", "))
			}
		}
		if m := a.GitLab.Offboard; m != "" && !slices.Contains(GitLabOffboardModes, m) {
			v.problem(r, i, "actions.gitlab.offboard", "%q, want %s", m, strings.Join(GitLabOffboardModes, ", "))
		}
	}
	if a.GitHub != nil {
		mark("github.organizations", len(a.GitHub.Organizations) > 0)
		mark("github.teams", len(a.GitHub.Teams) > 0)
		for j, o := range a.GitHub.Organizations {
			f := fmt.Sprintf("actions.github.organizations[%d]", j)
			v.name(r, i, f+".name", o.Name, isConsole)
			switch {
			case ev == events.OktaDeleteUser && o.Role != "":
				v.problem(r, i, f+".role", "okta.delete.user removes the user; a role means nothing here")
			case ev != events.OktaDeleteUser && !slices.Contains(GitHubOrgRoles, o.Role):
				v.problem(r, i, f+".role", "%q is not a GitHub organization role (%s)", o.Role, strings.Join(GitHubOrgRoles, ", "))
			}
		}
		for j, t := range a.GitHub.Teams {
			f := fmt.Sprintf("actions.github.teams[%d]", j)
			v.name(r, i, f+".organization", t.Organization, isConsole)
			v.name(r, i, f+".name", t.Name, isConsole)
			if !slices.Contains(GitHubTeamRoles, t.Role) {
				v.problem(r, i, f+".role", "%q is not a GitHub team role (%s)", t.Role, strings.Join(GitHubTeamRoles, ", "))
			}
		}
	}
	if a.Console != nil {
		mark("console.companies", len(a.Console.Companies) > 0)
		table := access.Default()
		for j, c := range a.Console.Companies {
			f := fmt.Sprintf("actions.console.companies[%d]", j)
			v.name(r, i, f+".id", c.ID, false)
			switch {
			case ev == events.OktaDeleteUser && c.Role != "":
				v.problem(r, i, f+".role", "okta.delete.user removes the user; a role means nothing here")
			case ev == events.OktaCreateUser && !(table.IsRole(c.Role) && table.Assignable(c.Role, access.LevelCompany)):
				v.problem(r, i, f+".role", "%q is not a Console role assignable on a Company (%s)", c.Role, strings.Join(table.Roles(), ", "))
			}
		}
	}
	if len(used) == 0 && ev != EventVerifyEmail && !v.builtin {
		v.problem(r, i, "actions", "no actions: the rule would do nothing")
	}
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}

// name checks a name: non-empty, and only the template variables the
// event can fill.
func (v *validator) name(r *Rule, i int, field, s string, isConsole bool) {
	if strings.TrimSpace(s) == "" {
		v.problem(r, i, field, "empty")
		return
	}
	for _, x := range variables(s) {
		switch {
		case x != VarCompanyID && x != VarProjectID && x != VarEnvironmentID:
			v.problem(r, i, field, "unknown template variable {{%s}} (use companyId, projectId, environmentId)", x)
		case !isConsole:
			v.problem(r, i, field, "{{%s}}: %s events have no Console company or project", x, r.Scope.Event)
		case x == VarEnvironmentID && !r.Scope.EvaluateForEachEnvironment:
			v.problem(r, i, field, "{{environmentId}} needs scope.evaluateForEachEnvironment")
		}
	}
	if rest := templateVar.ReplaceAllString(s, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		v.problem(r, i, field, "malformed template %q", s)
	}
}
