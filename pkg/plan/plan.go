// Package plan decides, for one user in one Console company, which
// memberships a provider should hold: it evaluates every rule of
// console.update.user.permission in every context it applies to (the
// company, each project, each environment) against the user's effective
// access re-read from the Console, and compares with the grants idsync
// manages (the ledger). The result is what to grant (with the highest role
// any met rule asks for) and what to revoke (managed grants no rule wants
// any more). Reconciliation evaluates the same rules with the same code for
// every user of a company (Desired) over every target the rules manage
// there (ManagedTargets). Providers apply it; this package calls no
// provider.
package plan

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/idsync/idsync/pkg/access"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/rules"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Target is one provider object a rule names in a context.
type Target struct {
	// Key identifies the object at the provider (e.g. "group:acme/dev",
	// "team:acme/devs", "org:acme"); the ledger stores it.
	Key string
	// Kind and Name describe it for outcomes.
	Kind, Name string
	// Role is the role the rule asks for ("" for membership without roles).
	Role    string
	RuleID  string
	Context rules.Context
}

// Provider is what the planner needs to know about a provider.
type Provider struct {
	Name string
	// Targets lists the objects a rule's actions name in a context (names
	// expanded); nil when the rule has no action for this provider.
	Targets func(r *rules.Rule, c rules.Context) []Target
	// Rank orders roles (a higher rank grants more); the highest wanted role
	// wins when several met rules name the same object.
	Rank func(role string) int
}

// AccessReader reads a user's effective Console access (pkg/console.Client).
type AccessReader interface {
	EffectiveBindings(ctx context.Context, companyID, userID string) (access.Bindings, bool, error)
	Project(ctx context.Context, projectID string) (console.Project, error)
}

// Planner computes plans.
type Planner struct {
	rules    *rules.Set
	table    *access.Table
	console  AccessReader // nil when the Console API is not configured
	ledger   *ledger.Ledger
	provider Provider

	mu sync.Mutex
	// scopes are the companies' projects as reconciliation last read them.
	scopes map[string]*companyScope
}

// New returns a planner. console may be nil: then access cannot be verified,
// the event's own role is used for grants and nothing is revoked.
func New(rs *rules.Set, console AccessReader, l *ledger.Ledger, p Provider) *Planner {
	return &Planner{rules: rs, table: access.Default(), console: console, ledger: l, provider: p}
}

// Plan is the outcome of planning.
type Plan struct {
	Grant []Target
	// Revoke are managed grants that no rule wants any more.
	Revoke []ledger.Grant
	// Unmet explains, per target key evaluated but not wanted, which
	// permissions were missing (for the revoke outcomes' reasons).
	Unmet map[string]string
	// Verified is false when effective access could not be read (no Console
	// API): grants then rest on the event alone and revokes are not planned.
	Verified bool
	// Skipped notes rules that could not be evaluated, with why.
	Skipped []string
}

// UserPermission plans a console.update.user.permission event.
func (p *Planner) UserPermission(ctx context.Context, ev *eventsv1.ConsoleUserPermissionChanged, user string) (Plan, error) {
	company := ev.GetResource().GetCompanyId()
	plan := Plan{Unmet: map[string]string{}}
	var bindings access.Bindings
	if p.console != nil {
		b, _, err := p.console.EffectiveBindings(ctx, company, ev.GetUserId())
		if err != nil {
			return Plan{}, fmt.Errorf("plan: reading effective access: %w", err)
		}
		bindings, plan.Verified = b, true
	} else {
		bindings = eventBindings(ev)
	}
	var managed []ledger.Grant
	if plan.Verified {
		all, err := p.ledger.ForUser(ctx, p.provider.Name, user)
		if err != nil {
			return Plan{}, err
		}
		ruleIDs := map[string]bool{}
		for _, r := range p.rules.For(events.ConsoleUpdateUserPermission) {
			ruleIDs[r.ID] = true
		}
		for _, g := range all {
			if g.CompanyID == company && ruleIDs[g.RuleID] {
				managed = append(managed, g)
			}
		}
	}

	h := hints{project: ev.GetResource().GetProjectId(), env: ev.GetResource().GetEnvironmentId(), managed: managed}
	d, err := p.evaluate(ctx, company, bindings, h)
	if err != nil {
		return Plan{}, err
	}
	wanted := d.Wanted
	plan.Unmet, plan.Skipped = d.Unmet, d.Skipped
	for _, t := range wanted {
		plan.Grant = append(plan.Grant, t)
	}
	sort.Slice(plan.Grant, func(i, j int) bool { return plan.Grant[i].Key < plan.Grant[j].Key })
	for _, g := range managed {
		if _, ok := wanted[g.Target]; ok {
			continue
		}
		if _, ok := plan.Unmet[g.Target]; !ok {
			plan.Unmet[g.Target] = "no rule names it any more for this user"
		}
		plan.Revoke = append(plan.Revoke, g)
	}
	sort.Slice(plan.Revoke, func(i, j int) bool { return plan.Revoke[i].Target < plan.Revoke[j].Target })
	return plan, nil
}

// hints widen the contexts a rule is evaluated in beyond the user's own
// bindings and the rule's projectIds.
type hints struct {
	// project and env are the resource the event names.
	project, env string
	// managed are the user's managed grants in the company: a project or
	// environment a grant remembers is evaluated again, so that a grant no
	// rule wants any more is revoked.
	managed []ledger.Grant
	// scope is every project known in the company, for reconciliation
	// (nil on the event path).
	scope *companyScope
}

// evaluate runs every rule of console.update.user.permission for the
// company in every context it applies to, against b: what met rules want
// (the highest role per target), and why the others are unmet.
func (p *Planner) evaluate(ctx context.Context, company string, b access.Bindings, h hints) (Desire, error) {
	d := Desire{Wanted: map[string]Target{}, Unmet: map[string]string{}}
	for _, r := range p.rules.For(events.ConsoleUpdateUserPermission) {
		if !companyInScope(r, company) {
			continue
		}
		ctxs, skipped, err := p.contexts(ctx, r, company, b, h)
		if err != nil {
			return Desire{}, err
		}
		d.Skipped = append(d.Skipped, skipped...)
		for _, c := range ctxs {
			targets := p.provider.Targets(r, c)
			if len(targets) == 0 {
				continue
			}
			scope := access.Scope{ProjectID: c.ProjectID, EnvironmentID: c.EnvironmentID}
			missing := p.table.Missing(b, scope, r.Requirements.NecessaryPermissions)
			for _, t := range targets {
				if len(missing) > 0 {
					if _, ok := d.Unmet[t.Key]; !ok {
						d.Unmet[t.Key] = fmt.Sprintf("rule %s: missing %s", r.ID, strings.Join(missing, ", "))
					}
					continue
				}
				if cur, ok := d.Wanted[t.Key]; !ok || p.provider.Rank(t.Role) > p.provider.Rank(cur.Role) {
					d.Wanted[t.Key] = t
				}
			}
		}
	}
	return d, nil
}

// eventBindings is what the event alone says: the role it names at the
// resource it names (nothing for a removal).
func eventBindings(ev *eventsv1.ConsoleUserPermissionChanged) access.Bindings {
	var b access.Bindings
	if ev.GetChange() == eventsv1.PermissionChange_PERMISSION_CHANGE_REMOVED || ev.GetRoleId() == "" {
		return b
	}
	res := ev.GetResource()
	switch {
	case res.GetProjectId() == "":
		b.CompanyRoles = []string{ev.GetRoleId()}
	case res.GetEnvironmentId() == "":
		b.Projects = map[string]access.ProjectBinding{res.GetProjectId(): {Roles: []string{ev.GetRoleId()}}}
	default:
		b.Projects = map[string]access.ProjectBinding{res.GetProjectId(): {
			Environments: map[string][]string{res.GetEnvironmentId(): {ev.GetRoleId()}},
		}}
	}
	return b
}

func companyInScope(r *rules.Rule, company string) bool {
	return r.Scope.Always || len(r.Scope.CompanyIDs) == 0 || slices.Contains(r.Scope.CompanyIDs, company)
}

func projectInScope(r *rules.Rule, project string) bool {
	return r.Scope.Always || len(r.Scope.ProjectIDs) == 0 || slices.Contains(r.Scope.ProjectIDs, project)
}

// level is the finest context a rule needs: environment, project or company.
func level(r *rules.Rule) string {
	if r.Scope.EvaluateForEachEnvironment {
		return access.LevelEnvironment
	}
	var names []string
	if a := r.Actions.Okta; a != nil {
		names = append(names, a.Groups...)
	}
	if a := r.Actions.GitLab; a != nil {
		for _, g := range a.Groups {
			names = append(names, g.Path)
		}
	}
	if a := r.Actions.GitHub; a != nil {
		for _, o := range a.Organizations {
			names = append(names, o.Name)
		}
		for _, t := range a.Teams {
			names = append(names, t.Organization, t.Name)
		}
	}
	for _, n := range names {
		if strings.Contains(n, "{{") && (strings.Contains(n, rules.VarProjectID) || strings.Contains(n, rules.VarEnvironmentID)) {
			return access.LevelProject
		}
	}
	if len(r.Scope.ProjectIDs) > 0 {
		return access.LevelProject
	}
	return access.LevelCompany
}

// contexts lists where a rule is evaluated for this user: the company; or
// every project the user is bound on, the event names, the rule lists, a
// managed grant remembers or (reconciling) the company is known to have;
// or every environment of those projects.
func (p *Planner) contexts(ctx context.Context, r *rules.Rule, company string, b access.Bindings, h hints) ([]rules.Context, []string, error) {
	lvl := level(r)
	if lvl == access.LevelCompany {
		return []rules.Context{{CompanyID: company}}, nil, nil
	}
	projects := map[string]bool{}
	if h.project != "" {
		projects[h.project] = true
	}
	for pid := range b.Projects {
		projects[pid] = true
	}
	for _, pid := range r.Scope.ProjectIDs {
		projects[pid] = true
	}
	for _, g := range h.managed {
		if g.RuleID == r.ID && g.ProjectID != "" {
			projects[g.ProjectID] = true
		}
	}
	if h.scope != nil {
		for _, pid := range h.scope.projects {
			projects[pid] = true
		}
	}
	var out []rules.Context
	var skipped []string
	for _, pid := range sortedKeys(projects) {
		if !projectInScope(r, pid) {
			continue
		}
		if lvl == access.LevelProject {
			out = append(out, rules.Context{CompanyID: company, ProjectID: pid})
			continue
		}
		envs := map[string]*bool{}
		if h.env != "" && h.project == pid {
			envs[h.env] = nil
		}
		for eid := range b.Projects[pid].Environments {
			envs[eid] = nil
		}
		for _, g := range h.managed {
			if g.RuleID == r.ID && g.ProjectID == pid && g.EnvironmentID != "" {
				envs[g.EnvironmentID] = nil
			}
		}
		known, note, err := p.environments(ctx, r, pid, h.scope)
		if err != nil {
			return nil, nil, err
		}
		if note != "" {
			skipped = append(skipped, note)
		}
		for _, e := range known {
			prod := e.IsProduction
			envs[e.EnvID] = &prod
		}
		for _, eid := range sortedKeys(envs) {
			c := rules.Context{CompanyID: company, ProjectID: pid, EnvironmentID: eid, IsProduction: envs[eid]}
			if want := r.Scope.IsProduction; want != nil {
				if c.IsProduction == nil {
					skipped = append(skipped, fmt.Sprintf("rule %s: environment %s/%s: production or not is unknown without the Console API", r.ID, pid, eid))
					continue
				}
				if *c.IsProduction != *want {
					continue
				}
			}
			out = append(out, c)
		}
	}
	return out, skipped, nil
}

// environments reads a project's environments from the Console (nothing
// without it), or from the company scope when it read them already. note
// says why a project's environments are unknown.
func (p *Planner) environments(ctx context.Context, r *rules.Rule, pid string, scope *companyScope) ([]console.Environment, string, error) {
	if scope != nil {
		if envs, ok := scope.envs[pid]; ok {
			if scope.gone[pid] {
				return nil, fmt.Sprintf("rule %s: project %s is not in the Console any more", r.ID, pid), nil
			}
			return envs, "", nil
		}
	}
	if p.console == nil {
		return nil, "", nil
	}
	proj, err := p.console.Project(ctx, pid)
	switch {
	case errclass.Of(err) == errclass.NotFound:
		// A project the Console no longer has: its environments are
		// unknown; the ones known from bindings and grants still count.
		return nil, fmt.Sprintf("rule %s: project %s is not in the Console any more", r.ID, pid), nil
	case err != nil:
		return nil, "", fmt.Errorf("plan: reading project %s: %w", pid, err)
	}
	return proj.Environments, "", nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
