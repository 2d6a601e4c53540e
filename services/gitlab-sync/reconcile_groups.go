package gitlabsync

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/rules"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

// ownerLevel is GitLab's Owner access level: a group keeps at least one.
var ownerLevel = gitlab.Rank("owner")

// managedGroup is one group the rules name: the rule that manages it (for
// members no rule wants) and who the rules want in it, by GitLab user id.
type managedGroup struct {
	key, path string
	manager   plan.Target
	wanted    map[int64]wantedMember
	// partial: the users of a company that manages the group could not be
	// read, so who belongs in it is not fully known: nothing is removed.
	partial bool
}

// wantedMember is a person a met rule wants in a group, with the highest
// role any met rule asks for.
type wantedMember struct {
	t      plan.Target
	person reconcile.Person
}

// groupItems compares the direct members of every group the rules name in
// the reconciled companies with what the rules grant each company user.
func (r reconciler) groupItems(ctx context.Context, sc *scan) ([]reconcile.Item, error) {
	d := r.s.d
	if !namesGroups(d.Rules.For(events.ConsoleUpdateUserPermission)) {
		return nil, nil
	}
	if d.Console == nil {
		sc.note("the Console API is not configured (IDSYNC_CONSOLE_URL, IDSYNC_CONSOLE_CLIENT_ID, IDSYNC_CONSOLE_CLIENT_SECRET): who belongs in which GitLab group cannot be computed, so group members are not compared")
		return nil, nil
	}
	companies, err := r.companies(ctx)
	if err != nil {
		return nil, err
	}
	if len(companies) == 0 {
		sc.note("no Console company to reconcile: set IDSYNC_RECONCILE_COMPANIES or name companies in the rules (scope.companyIds); group members are not compared")
		return nil, nil
	}
	// Someone Okta deprovisioned is wanted in no group, whatever the
	// Console still says (console-sync removes them from it): a lost
	// deprovisioning is not granted back, and their memberships go now
	// rather than after the Console has caught up. Without Okta's users
	// (a note of the lifecycle comparison), the Console alone decides.
	if d.Okta != nil {
		if _, err := r.oktaUsers(ctx, sc); err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	// A planner per scan: it remembers each company's projects between
	// ManagedTargets and Desired, and they must be read afresh each time.
	planner := plan.New(d.Rules, d.Console, d.Ledger, provider)
	groups := map[string]*managedGroup{}
	for _, company := range companies {
		if err := r.company(ctx, planner, company, groups, sc); err != nil {
			return nil, err
		}
	}
	if sc.deprovisioned > 0 {
		sc.note("%d Console users Okta deprovisioned are wanted in no GitLab group (what they hold is removed)", sc.deprovisioned)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var items []reconcile.Item
	for _, k := range keys {
		its, err := r.compareGroup(ctx, groups[k], sc)
		if err != nil {
			return nil, err
		}
		items = append(items, its...)
	}
	return items, nil
}

// companies are the Console companies to reconcile:
// reconcile.Config.CompaniesFor over the rules and the companies of
// gitlab-sync's managed grants (a company no rule names any more may still
// hold grants to revoke).
func (r reconciler) companies(ctx context.Context) ([]string, error) {
	held, err := r.s.d.Ledger.Companies(ctx, Provider)
	if err != nil {
		return nil, fmt.Errorf("gitlab-sync: reconcile: the companies of the managed grants: %w", err)
	}
	return r.s.d.Reconcile.CompaniesFor(r.s.d.Rules, held), nil
}

func namesGroups(rs []*rules.Rule) bool {
	for _, r := range rs {
		if r.Actions.GitLab != nil && len(r.Actions.GitLab.Groups) > 0 {
			return true
		}
	}
	return false
}

// company adds the groups the rules name in one company, and who the rules
// want in each, to groups. A company that cannot be read is a note, not a
// failed run; nothing is then removed from the groups it manages (or from
// any group, when even those are unknown), since who belongs in them is
// not known.
func (r reconciler) company(ctx context.Context, planner *plan.Planner, company string, groups map[string]*managedGroup, sc *scan) error {
	managed, err := planner.ManagedTargets(ctx, company)
	if err != nil {
		sc.partial = true
		sc.note("company %s: the groups its rules name cannot be listed (%v): nothing is removed in this run", company, err)
		return ctx.Err()
	}
	var mine []*managedGroup
	for _, t := range managed {
		if t.Kind != kindGroup {
			continue
		}
		g := groups[t.Key]
		if g == nil {
			g = &managedGroup{key: t.Key, path: t.Name, manager: t, wanted: map[int64]wantedMember{}}
			groups[t.Key] = g
		}
		mine = append(mine, g)
	}
	if len(mine) == 0 {
		return nil
	}
	partial := func(why string) error {
		for _, g := range mine {
			g.partial = true
		}
		sc.note("company %s: %s: nothing is removed from the %d GitLab groups its rules name", company, why, len(mine))
		return ctx.Err()
	}
	access, err := r.s.d.Console.CompanyAccess(ctx, company)
	switch {
	case err != nil:
		return partial(fmt.Sprintf("its users cannot be read (%v)", err))
	case len(access) == 0:
		// Likelier an outage or a wrong id than everyone gone.
		return partial("the Console lists no user in it")
	}
	var unresolved []string
	for _, ua := range access {
		email := strings.ToLower(ua.User.Email)
		if email != "" {
			sc.people[email] = true
		}
		desire, err := planner.Desired(ctx, company, ua.Bindings)
		if err != nil {
			return partial(fmt.Sprintf("the rules cannot be evaluated (%v)", err))
		}
		for _, s := range desire.Skipped {
			sc.note("company %s: %s", company, s)
		}
		u, found := sc.users.byEmail[email]
		if !found {
			if len(desire.Wanted) > 0 && !sc.isDeprovisioned(email) {
				unresolved = append(unresolved, ua.User.Email)
			}
			continue
		}
		// Login is the GitLab username: with the email and both ids, what
		// the protected accounts are matched against.
		person := reconcile.Person{SourceID: ua.User.UserID, Email: ua.User.Email, Login: u.Username, ProviderID: u.Key()}
		cp, ok := sc.console[u.ID]
		if !ok {
			cp = consolePerson{person: person, unmet: map[string]string{}}
			sc.console[u.ID] = cp
		}
		for k, why := range desire.Unmet {
			cp.unmet[k] = why
		}
		if sc.isDeprovisioned(email) {
			cp.deprovisioned = true
			sc.console[u.ID] = cp
			sc.deprovisioned++
			continue
		}
		for k, t := range desire.Wanted {
			if t.Kind != kindGroup {
				continue
			}
			g := groups[k]
			if g == nil { // named for this person only; managed all the same
				g = &managedGroup{key: k, path: t.Name, manager: t, wanted: map[int64]wantedMember{}}
				groups[k] = g
			}
			if w, ok := g.wanted[u.ID]; !ok || gitlab.Rank(t.Role) > gitlab.Rank(w.t.Role) {
				g.wanted[u.ID] = wantedMember{t: t, person: person}
			}
		}
	}
	if len(unresolved) > 0 {
		sc.note("company %s: %d people the rules want in GitLab groups have no GitLab user with their email: %s", company, len(unresolved), listed(unresolved))
	}
	return nil
}
