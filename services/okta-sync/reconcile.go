package oktasync

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/rules"
)

// Lister is what reconciliation reads from Okta beyond Directory: whole
// listings, every page (pkg/okta implements it).
type Lister interface {
	Users(ctx context.Context) ([]okta.Person, error)
	GroupMembers(ctx context.Context, groupID string) ([]okta.Person, error)
}

// reconciler is okta-sync's reconciliation (pkg/reconcile): the members of
// the Okta groups the rules name, against what the rules grant each Console
// user of the reconciled companies for their effective access; and the
// groups console.create.project rules name for the companies' projects,
// against the groups Okta has. Hook deliveries get lost and people change
// Okta groups by hand: this finds what the events missed.
type reconciler struct{ s *service }

// group is one managed Okta group as a scan sees it.
type group struct {
	target plan.Target // the first rule that names it
	// wanted are the people a met rule wants in it, by lower-case email.
	wanted map[string]wanted
	// unmet says, by lower-case email, why no rule wants someone in it.
	unmet map[string]string
	// companies are the companies whose rules name it.
	companies []string
}

type wanted struct {
	target plan.Target
	person reconcile.Person
}

// scan is one Diff's state.
type scan struct {
	st    *reconcile.Stats
	noted map[string]bool
	// unresolved are Console people with no Okta user, for one note.
	unresolved []string
	// console are the reconciled companies' users, by lower-case email.
	console map[string]reconcile.Person
	users   map[string]okta.Person // every Okta user, by lower-case login, read once when needed
}

func (sc *scan) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !sc.noted[n] {
		sc.noted[n] = true
		sc.st.Notes = append(sc.st.Notes, n)
	}
}

// Diff reads, for every reconciled company, the Console users with their
// effective access and the projects, then the members of every group the
// rules manage, each listing to its last page, and returns what differs.
// Okta and Console calls are counted in Stats.Calls.
func (r reconciler) Diff(ctx context.Context) (items []reconcile.Item, st reconcile.Stats, err error) {
	var oktaCalls, consoleCalls atomic.Int64
	ctx = okta.WithCallCounter(console.WithCallCounter(ctx, &consoleCalls), &oktaCalls)
	// A listing of a large org is longer than Okta's quota: wait for the
	// resets rather than fail the comparison.
	ctx = okta.WaitForQuota(ctx, reconcile.QuotaWait)
	defer func() {
		st.Calls = map[string]int64{events.ProviderOkta: oktaCalls.Load(), events.ProviderConsole: consoleCalls.Load()}
	}()
	sc := &scan{st: &st, noted: map[string]bool{}, console: map[string]reconcile.Person{}}
	d := r.s.d
	lister, ok := r.s.dir.(Lister)
	switch {
	case r.s.dir == nil:
		sc.note("Okta is not configured (IDSYNC_OKTA_ORG_URL, IDSYNC_OKTA_API_TOKEN): its groups cannot be read, so nothing is compared")
		return nil, st, nil
	case !ok:
		sc.note("the Okta directory cannot list users and group members: nothing is compared")
		return nil, st, nil
	case d.Console == nil:
		sc.note("the Console API is not configured (IDSYNC_CONSOLE_URL, _CLIENT_ID, _CLIENT_SECRET): who should be in which group is unknown, so nothing is compared")
		return nil, st, nil
	}
	companies, err := r.companies(ctx)
	if err != nil {
		return nil, st, err
	}
	if len(companies) == 0 {
		sc.note("no Console company to reconcile: name companies in the rules' scope.companyIds or in IDSYNC_RECONCILE_COMPANIES")
	}
	planner := plan.New(d.Rules, d.Console, d.Ledger, provider)
	groups := map[string]*group{}
	creates := map[string]reconcile.Item{} // groups to create, by name
	for _, company := range companies {
		if err := r.desired(ctx, sc, planner, company, groups); err != nil {
			return nil, st, err
		}
		if err := r.projectGroups(ctx, planner, company, creates); err != nil {
			return nil, st, err
		}
	}
	for _, name := range sortedKeys(creates) {
		items = append(items, creates[name])
	}
	for _, key := range sortedKeys(groups) {
		g := groups[key]
		gid, found, err := r.s.dir.GroupID(ctx, g.target.Name)
		if err != nil {
			return nil, st, err
		}
		if !found {
			if _, creating := creates[g.target.Name]; !creating {
				sc.note("Okta group %s (rule %s) does not exist: its members cannot be compared (okta-sync creates groups only for console.create.project rules)", g.target.Name, g.target.RuleID)
			}
			continue
		}
		st.Targets++
		members, err := lister.GroupMembers(ctx, gid)
		if err != nil {
			return nil, st, err
		}
		found2, err := r.compare(ctx, sc, lister, g, gid, members)
		if err != nil {
			return nil, st, err
		}
		items = append(items, found2...)
	}
	if n := len(sc.unresolved); n > 0 {
		sort.Strings(sc.unresolved)
		sc.note("%d Console user(s) the rules want in Okta groups have no Okta user with their email as login (e.g. %s): they cannot be added", n, strings.Join(sc.unresolved[:min(n, 5)], ", "))
	}
	return items, st, nil
}

// companies are the companies to reconcile (reconcile.Config.CompaniesFor
// over the rules, IDSYNC_RECONCILE_COMPANIES and the managed grants).
func (r reconciler) companies(ctx context.Context) ([]string, error) {
	held, err := r.s.d.Ledger.Companies(ctx, Provider)
	if err != nil {
		return nil, err
	}
	return r.s.d.Reconcile.CompaniesFor(r.s.d.Rules, held), nil
}

// desired adds to groups what the rules want in company: the managed
// groups, and for each company user the groups met rules want them in.
func (r reconciler) desired(ctx context.Context, sc *scan, planner *plan.Planner, company string, groups map[string]*group) error {
	targets, err := planner.ManagedTargets(ctx, company)
	if err != nil {
		return err
	}
	at := func(t plan.Target) *group {
		g := groups[t.Key]
		if g == nil {
			g = &group{target: t, wanted: map[string]wanted{}, unmet: map[string]string{}}
			groups[t.Key] = g
		}
		if len(g.companies) == 0 || g.companies[len(g.companies)-1] != company {
			g.companies = append(g.companies, company)
		}
		return g
	}
	for _, t := range targets {
		at(t)
	}
	people, err := r.s.d.Console.CompanyAccess(ctx, company)
	if err != nil {
		return err
	}
	sc.st.People += len(people)
	for _, ua := range people {
		email := strings.ToLower(strings.TrimSpace(ua.User.Email))
		if email == "" {
			continue
		}
		p := reconcile.Person{SourceID: ua.User.UserID, Email: ua.User.Email, Login: ua.User.Email}
		sc.console[email] = p
		desire, err := planner.Desired(ctx, company, ua.Bindings)
		if err != nil {
			return err
		}
		for _, s := range desire.Skipped {
			sc.note("company %s: %s", company, s)
		}
		for _, t := range desire.Wanted {
			g := at(t)
			if _, ok := g.wanted[email]; !ok {
				g.wanted[email] = wanted{target: t, person: p}
			}
		}
		for key, why := range desire.Unmet {
			if g := groups[key]; g != nil && g.unmet[email] == "" {
				g.unmet[email] = why
			}
		}
	}
	return nil
}

// projectGroups adds to creates the groups console.create.project rules
// name for the company's projects that Okta does not have.
func (r reconciler) projectGroups(ctx context.Context, planner *plan.Planner, company string, creates map[string]reconcile.Item) error {
	var rs []*rules.Rule
	for _, rule := range r.s.d.Rules.For(events.ConsoleCreateProject) {
		if rule.Actions.Okta != nil && (rule.Scope.Always || len(rule.Scope.CompanyIDs) == 0 || contains(rule.Scope.CompanyIDs, company)) {
			rs = append(rs, rule)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	projects, err := planner.Projects(ctx, company)
	if err != nil {
		return err
	}
	for _, pid := range projects {
		c := rules.Context{CompanyID: company, ProjectID: pid}
		for _, rule := range rs {
			for _, g := range rule.Actions.Okta.Groups {
				name := c.Expand(g)
				if _, ok := creates[name]; ok {
					continue
				}
				_, found, err := r.s.dir.GroupID(ctx, name)
				if err != nil {
					return err
				}
				if found {
					continue
				}
				creates[name] = reconcile.Item{Provider: Provider, Op: reconcile.OpAdd, Action: actionCreateGroup,
					Target: reconcile.Target{Type: "group", Key: plan.Key("group", name), Name: name},
					RuleID: rule.ID, CompanyID: company, ProjectID: pid,
					Reason: fmt.Sprintf("rule %s creates the Okta group of every project of the company; project %s has none", rule.ID, pid)}
			}
		}
	}
	return nil
}

// compare lists the differences between the people the rules want in g
// and its members.
func (r reconciler) compare(ctx context.Context, sc *scan, lister Lister, g *group, gid string, members []okta.Person) ([]reconcile.Item, error) {
	target := reconcile.Target{Type: "group", Key: g.target.Key, Name: g.target.Name, ID: gid}
	// Someone Okta deprovisioned is wanted in no group, whatever the
	// Console still says (console-sync removes them from it): a lost
	// deprovisioning is not granted back, and their memberships go now
	// rather than after the Console has caught up.
	in, gone := map[string]bool{}, map[string]bool{}
	for _, m := range members {
		in[strings.ToLower(m.Login)] = true
		gone[strings.ToLower(m.Login)] = m.Status == okta.StatusDeprovisioned
	}
	var items []reconcile.Item
	for _, email := range sortedKeys(g.wanted) {
		if in[email] {
			continue
		}
		w := g.wanted[email]
		u, ok, err := r.oktaUser(ctx, sc, lister, email)
		if err != nil {
			return nil, err
		}
		if !ok {
			sc.unresolved = append(sc.unresolved, email)
			continue
		}
		if u.Status == okta.StatusDeprovisioned {
			sc.note("Console users Okta deprovisioned are added to no Okta group (console-sync removes them from the Console)")
			continue
		}
		p := w.person
		p.ProviderID = u.ID
		items = append(items, reconcile.Item{Provider: Provider, Op: reconcile.OpAdd, Action: "group_member.add",
			Target: target, Person: p, RuleID: w.target.RuleID,
			CompanyID: w.target.Context.CompanyID, ProjectID: w.target.Context.ProjectID, EnvironmentID: w.target.Context.EnvironmentID,
			Reason: fmt.Sprintf("rule %s wants them in the group; they are not a member", w.target.RuleID)})
	}
	sort.Slice(members, func(i, j int) bool { return strings.ToLower(members[i].Login) < strings.ToLower(members[j].Login) })
	for _, m := range members {
		login := strings.ToLower(m.Login)
		if _, ok := g.wanted[login]; ok && !gone[login] {
			continue
		}
		grant, managed, err := r.s.d.Ledger.Get(ctx, Provider, g.target.Key, m.ID)
		if err != nil {
			return nil, err
		}
		it := reconcile.Item{Provider: Provider, Op: reconcile.OpRemove, Action: "group_member.remove", Target: target,
			Person:  reconcile.Person{SourceID: m.ID, Email: m.Email, Login: m.Login, ProviderID: m.ID},
			RuleID:  g.target.RuleID,
			Managed: managed, CompanyID: g.target.Context.CompanyID, ProjectID: g.target.Context.ProjectID,
			EnvironmentID: g.target.Context.EnvironmentID}
		if cp, ok := sc.console[login]; ok {
			it.Person.SourceID = cp.SourceID
		}
		if managed {
			it.RuleID, it.CompanyID, it.ProjectID, it.EnvironmentID = grant.RuleID, grant.CompanyID, grant.ProjectID, grant.EnvironmentID
		}
		it.Reason = r.removalReason(sc, g, login, managed, gone[login])
		items = append(items, it)
	}
	return items, nil
}

func (r reconciler) removalReason(sc *scan, g *group, login string, managed, deprovisioned bool) string {
	var why string
	switch {
	case deprovisioned:
		why = "deactivated in Okta (DEPROVISIONED): the rules want them in no group"
	case g.unmet[login] != "":
		why = g.unmet[login]
	case sc.console[login] != (reconcile.Person{}):
		why = "no rule wants them in the group"
	default:
		why = "not a user of company " + strings.Join(g.companies, ", ")
	}
	if managed {
		return why + "; idsync granted the membership"
	}
	return why + "; the membership was made outside idsync"
}

// oktaUser finds the Okta user whose login is email, from one listing of
// every Okta user read on first need (cheaper than one lookup each when
// many people are missing from their groups).
func (r reconciler) oktaUser(ctx context.Context, sc *scan, lister Lister, email string) (okta.Person, bool, error) {
	if sc.users == nil {
		all, err := lister.Users(ctx)
		if err != nil {
			return okta.Person{}, false, err
		}
		sc.users = make(map[string]okta.Person, len(all))
		for _, u := range all {
			sc.users[strings.ToLower(u.Login)] = u
		}
	}
	u, ok := sc.users[email]
	return u, ok, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
