package plan

import (
	"context"
	"fmt"
	"sort"

	"github.com/idsync/idsync/pkg/access"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
)

// Desire is what the rules want for one user in one company, from their
// effective bindings: the event path (UserPermission) and reconciliation
// evaluate the rules with the same code.
type Desire struct {
	// Wanted are the targets met rules name, by target key, each with the
	// highest role any met rule asks for.
	Wanted map[string]Target
	// Unmet says, per target key evaluated but not wanted, which rule
	// missed which permissions.
	Unmet map[string]string
	// Skipped notes rules or contexts that could not be evaluated, with why.
	Skipped []string
}

// ProjectLister lists the projects of a company that anyone is bound on
// (pkg/console.Client); reconciliation evaluates project rules in each.
type ProjectLister interface {
	CompanyProjects(ctx context.Context, companyID string) ([]string, error)
}

// companyScope is every project reconciliation knows in a company, with
// the environments of each when a rule is evaluated per environment.
type companyScope struct {
	// projects are the projects anyone in the company is bound on.
	projects []string
	// envs holds the environments read for a project (a key with no
	// environments when gone); absent when nothing needed them.
	envs map[string][]console.Environment
	// gone are projects the Console no longer has.
	gone map[string]bool
}

// Desired evaluates every rule of console.update.user.permission in every
// context of the company against b, someone's effective bindings (one
// entry of console.Client.CompanyAccess). Project rules are evaluated in
// every project of the company (ManagedTargets's, read once per company
// and remembered until the next ManagedTargets), not only in the projects
// the person is bound on: a company binding is inherited by every project.
func (p *Planner) Desired(ctx context.Context, companyID string, b access.Bindings) (Desire, error) {
	sc, err := p.scope(ctx, companyID, false)
	if err != nil {
		return Desire{}, err
	}
	return p.evaluate(ctx, companyID, b, hints{scope: sc})
}

// ManagedTargets lists every target any console.update.user.permission rule
// names in any context of the company — the company, each project anyone
// is bound on (and each the rule lists), each environment of those
// projects — one
// per target key (the first rule naming it), sorted by key. These are the
// objects idsync manages there; a reconciliation compares only them.
//
// It reads the company's projects (and environments) afresh and remembers
// them for the Desired calls about the same company that follow.
func (p *Planner) ManagedTargets(ctx context.Context, companyID string) ([]Target, error) {
	sc, err := p.scope(ctx, companyID, true)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Target
	for _, r := range p.rules.For(events.ConsoleUpdateUserPermission) {
		if !companyInScope(r, companyID) {
			continue
		}
		ctxs, _, err := p.contexts(ctx, r, companyID, access.Bindings{}, hints{scope: sc})
		if err != nil {
			return nil, err
		}
		for _, c := range ctxs {
			for _, t := range p.provider.Targets(r, c) {
				if !seen[t.Key] {
					seen[t.Key] = true
					out = append(out, t)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// scope returns the company's scope, read afresh when refresh is set or
// when none is remembered.
func (p *Planner) scope(ctx context.Context, companyID string, refresh bool) (*companyScope, error) {
	p.mu.Lock()
	sc := p.scopes[companyID]
	p.mu.Unlock()
	if sc != nil && !refresh {
		return sc, nil
	}
	sc, err := p.readScope(ctx, companyID)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.scopes == nil {
		p.scopes = map[string]*companyScope{}
	}
	p.scopes[companyID] = sc
	p.mu.Unlock()
	return sc, nil
}

func (p *Planner) readScope(ctx context.Context, companyID string) (*companyScope, error) {
	sc := &companyScope{envs: map[string][]console.Environment{}, gone: map[string]bool{}}
	// A rule's own projectIds are evaluated for that rule only (as on the
	// event path), so they are not the company's projects; their
	// environments are read here all the same, once.
	listed := map[string]bool{}
	perEnvironment := false
	for _, r := range p.rules.For(events.ConsoleUpdateUserPermission) {
		if !companyInScope(r, companyID) || level(r) != access.LevelEnvironment {
			continue
		}
		perEnvironment = true
		for _, pid := range r.Scope.ProjectIDs {
			listed[pid] = true
		}
	}
	if l, ok := p.console.(ProjectLister); ok {
		ids, err := l.CompanyProjects(ctx, companyID)
		if err != nil {
			return nil, fmt.Errorf("plan: listing the projects of company %s: %w", companyID, err)
		}
		sc.projects = ids
		for _, pid := range ids {
			listed[pid] = true
		}
	}
	if !perEnvironment || p.console == nil {
		return sc, nil
	}
	for _, pid := range sortedKeys(listed) {
		proj, err := p.console.Project(ctx, pid)
		switch {
		case errclass.Of(err) == errclass.NotFound:
			sc.envs[pid], sc.gone[pid] = nil, true
		case err != nil:
			return nil, fmt.Errorf("plan: reading project %s: %w", pid, err)
		default:
			sc.envs[pid] = proj.Environments
		}
	}
	return sc, nil
}

// Projects lists the company's projects as reconciliation knows them
// (anyone in the company is bound on them), sorted: those ManagedTargets
// read, or read now when it was not called for the company.
func (p *Planner) Projects(ctx context.Context, companyID string) ([]string, error) {
	sc, err := p.scope(ctx, companyID, false)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), sc.projects...), nil
}
