package githubsync

import (
	"context"
	"fmt"
	"strings"

	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
)

// desire computes the desired state: for every reconciled Console company,
// the GitHub targets its rules manage and, for each of its users, the
// targets the rules want for their effective access, through the planner
// the event path uses. A person is keyed by their login from the identity
// map, or email:<address> when it has none (they are to be invited).
func (sc *scan) desire(ctx context.Context) error {
	d := sc.r.s.d
	sc.targets, sc.wanted = map[string]plan.Target{}, map[string]map[string]want{}
	sc.inOrg, sc.incomplete, sc.people = map[string]map[string]bool{}, map[string]bool{}, map[string]bool{}
	companies, err := sc.companies(ctx)
	if err != nil {
		return err
	}
	if d.Console == nil {
		// Without effective access nobody is known to be wanted: every
		// member would look unwanted.
		sc.allPartial = true
		sc.note("the Console API is not configured (IDSYNC_CONSOLE_URL, _CLIENT_ID, _CLIENT_SECRET): memberships are not compared, only people Okta deprovisioned or deleted are looked for")
		return nil
	}
	if len(companies) == 0 {
		sc.note("no Console company to reconcile: name them in IDSYNC_RECONCILE_COMPANIES or in the rules' scope.companyIds")
	}
	planner := plan.New(d.Rules, sc.r.s.access(), d.Ledger, sc.r.s.prov)
	for _, company := range companies {
		if err := sc.company(ctx, planner, company); err != nil {
			return err
		}
	}
	if sc.blocked > 0 {
		sc.note(fmt.Sprintf("%d Console users Okta deprovisioned are granted nothing (what they still hold is removed)", sc.blocked))
	}
	return nil
}

// companies are the companies to reconcile (reconcile.Config.CompaniesFor
// over the rules and the companies of github-sync's managed grants).
func (sc *scan) companies(ctx context.Context) ([]string, error) {
	d := sc.r.s.d
	held, err := d.Ledger.Companies(ctx, Provider)
	if err != nil {
		return nil, err
	}
	return d.Reconcile.CompaniesFor(d.Rules, held), nil
}

// company adds one company's managed targets and wanted memberships. A
// company that cannot be read is a note, and nothing is removed from the
// targets it manages (or from any, when even those are unknown).
func (sc *scan) company(ctx context.Context, planner *plan.Planner, company string) error {
	managed, err := planner.ManagedTargets(ctx, company)
	if err != nil {
		sc.allPartial = true
		sc.note(fmt.Sprintf("company %s: the targets its rules manage cannot be listed (%v): nothing is removed in this run", company, err))
		return ctxErr(ctx, err)
	}
	for _, t := range managed {
		if _, ok := sc.targets[t.Key]; !ok {
			sc.targets[t.Key] = t
		}
	}
	users, err := sc.r.s.d.Console.CompanyAccess(ctx, company)
	if err != nil {
		sc.partial(managed)
		sc.note(fmt.Sprintf("company %s: its users cannot be read (%v): nothing is removed from the %d targets its rules manage", company, err, len(managed)))
		return ctxErr(ctx, err)
	}
	for _, ua := range users {
		des, err := planner.Desired(ctx, company, ua.Bindings)
		if err != nil {
			sc.partial(managed)
			sc.note(fmt.Sprintf("company %s: the rules cannot be evaluated (%v): nothing is removed from the %d targets its rules manage", company, err, len(managed)))
			return ctxErr(ctx, err)
		}
		for _, s := range des.Skipped {
			sc.note(s)
		}
		sc.people[company+"\x00"+ua.User.UserID] = true
		if len(des.Wanted) == 0 {
			continue
		}
		email := strings.TrimSpace(ua.User.Email)
		if email == "" {
			sc.note(fmt.Sprintf("company %s: user %s has no email address, so no GitHub login: not compared", company, ua.User.UserID))
			continue
		}
		if sc.deprovisioned(email) {
			sc.blocked++
			continue
		}
		user := sc.ids.userKey(email)
		p := reconcile.Person{SourceID: ua.User.UserID, Email: email, Login: email, ProviderID: user}
		for key, t := range des.Wanted {
			sc.want(key, user, want{t: t, person: p})
		}
	}
	return nil
}

// want records that user should hold t (the highest role wins when
// several companies or rules want it).
func (sc *scan) want(key, user string, w want) {
	if _, ok := sc.targets[key]; !ok {
		sc.targets[key] = w.t
	}
	u := strings.ToLower(user)
	byUser := sc.wanted[key]
	if byUser == nil {
		byUser = map[string]want{}
		sc.wanted[key] = byUser
	}
	if cur, ok := byUser[u]; !ok || rank(w.t.Role) > rank(cur.t.Role) {
		byUser[u] = w
	}
	org := strings.ToLower(orgOf(w.t.Kind, w.t.Name))
	if sc.inOrg[org] == nil {
		sc.inOrg[org] = map[string]bool{}
	}
	sc.inOrg[org][u] = true
}

// partial marks targets whose desired state is incomplete.
func (sc *scan) partial(ts []plan.Target) {
	for _, t := range ts {
		sc.incomplete[t.Key] = true
	}
}

// ctxErr stops the scan when its context ended; other errors were noted.
func ctxErr(ctx context.Context, _ error) error { return ctx.Err() }
