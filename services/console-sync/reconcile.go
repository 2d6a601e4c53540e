package consolesync

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/rules"
)

// Lister is what reconciliation reads from the Console beyond Directory:
// a company's users, every page (pkg/console implements it).
type Lister interface {
	CompanyUsers(ctx context.Context, companyID string) ([]console.User, error)
}

// OktaSource is what reconciliation reads from Okta, the source of truth
// of who is a user at all (pkg/okta implements it).
type OktaSource interface {
	Users(ctx context.Context) ([]okta.Person, error)
	User(ctx context.Context, login string) (okta.Person, bool, error)
}

// joinStatuses are the Okta statuses of someone who is a user (created and
// activated, or on their way in): okta.create.user's rules want them in
// their companies. STAGED users are not activated yet (the Console has
// no account for them) and SUSPENDED ones are neither in nor out: neither
// is added or removed.
var joinStatuses = map[string]bool{
	okta.StatusActive: true, "PROVISIONED": true, "RECOVERY": true, "PASSWORD_EXPIRED": true, "LOCKED_OUT": true,
}

// reconciler is console-sync's reconciliation (pkg/reconcile): the users of
// the Console companies the okta.create.user and okta.delete.user rules
// name, against Okta's users. Someone active in Okta belongs in the create
// rules' companies; someone deactivated in Okta (DEPROVISIONED), or gone
// from Okta while idsync holds their membership, does not belong in the
// delete rules' companies. Lost hook deliveries leave both behind.
type reconciler struct {
	s    *service
	okta OktaSource // nil without IDSYNC_OKTA_*
	snap *snapshot  // the companies the last Diff read, for Apply
}

// company is one company the rules name, with what they want there.
type company struct {
	id string
	// join is the create rule that adds Okta users, and the role ("" rule:
	// none adds).
	join rules.ConsoleCompany
	// joinRule and leaveRule are the rules' ids ("" when none).
	joinRule, leaveRule string
}

// companies lists the companies the rules' console actions name, sorted,
// the first create (and delete) rule naming each winning.
func (r reconciler) companies() []*company {
	byID := map[string]*company{}
	at := func(id string) *company {
		if byID[id] == nil {
			byID[id] = &company{id: id}
		}
		return byID[id]
	}
	for _, rule := range r.s.d.Rules.For(events.OktaCreateUser) {
		if rule.Actions.Console == nil {
			continue
		}
		for _, c := range rule.Actions.Console.Companies {
			if co := at(c.ID); co.joinRule == "" {
				co.join, co.joinRule = c, rule.ID
			}
		}
	}
	for _, rule := range r.s.d.Rules.For(events.OktaDeleteUser) {
		if rule.Actions.Console == nil {
			continue
		}
		for _, c := range rule.Actions.Console.Companies {
			if co := at(c.ID); co.leaveRule == "" {
				co.leaveRule = rule.ID
			}
		}
	}
	out := make([]*company, 0, len(byID))
	for _, c := range byID {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// Diff reads every Okta user and the users of every company the rules
// name, each listing to its last page, and returns what differs. Okta and
// Console calls are counted in Stats.Calls.
func (r reconciler) Diff(ctx context.Context) (items []reconcile.Item, st reconcile.Stats, err error) {
	var oktaCalls, consoleCalls atomic.Int64
	ctx = okta.WithCallCounter(console.WithCallCounter(ctx, &consoleCalls), &oktaCalls)
	// A listing of a large org is longer than Okta's quota: wait for the
	// resets rather than fail the comparison.
	ctx = okta.WaitForQuota(ctx, reconcile.QuotaWait)
	defer func() {
		st.Calls = map[string]int64{events.ProviderOkta: oktaCalls.Load(), events.ProviderConsole: consoleCalls.Load()}
	}()
	lister, ok := r.s.dir.(Lister)
	switch {
	case r.s.dir == nil:
		st.Notes = append(st.Notes, "the Console API is not configured (IDSYNC_CONSOLE_URL, _CLIENT_ID, _CLIENT_SECRET): its companies cannot be read, so nothing is compared")
		return nil, st, nil
	case !ok:
		st.Notes = append(st.Notes, "the Console directory cannot list company users: nothing is compared")
		return nil, st, nil
	case r.okta == nil:
		st.Notes = append(st.Notes, "Okta is not configured (IDSYNC_OKTA_ORG_URL, IDSYNC_OKTA_API_TOKEN): who is an Okta user is unknown, so nothing is compared")
		return nil, st, nil
	}
	companies := r.companies()
	if len(companies) == 0 {
		st.Notes = append(st.Notes, "no okta.create.user or okta.delete.user rule names a Console company: nothing to compare")
		return nil, st, nil
	}
	r.snap.reset(time.Now())
	people, err := r.okta.Users(ctx)
	if err != nil {
		return nil, st, err
	}
	st.People = len(people)
	byLogin := make(map[string]okta.Person, 2*len(people))
	for _, p := range people {
		for _, k := range []string{p.Login, p.Email} {
			if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
				if _, taken := byLogin[k]; !taken || strings.EqualFold(p.Login, k) {
					byLogin[k] = p
				}
			}
		}
	}
	unmanaged := 0
	for _, c := range companies {
		users, err := lister.CompanyUsers(ctx, c.id)
		if err != nil {
			return nil, st, err
		}
		st.Targets++
		r.snap.put(c.id, users)
		in := make(map[string]bool, len(users))
		for _, u := range users {
			in[strings.ToLower(strings.TrimSpace(u.Email))] = true
		}
		if c.joinRule != "" {
			items = append(items, r.joins(c, people, in)...)
		}
		if c.leaveRule != "" {
			leaves, n, err := r.leaves(ctx, c, users, byLogin)
			if err != nil {
				return nil, st, err
			}
			items = append(items, leaves...)
			unmanaged += n
		}
	}
	if unmanaged > 0 {
		st.Notes = append(st.Notes, fmt.Sprintf("%d company user(s) match no Okta user and idsync did not add them: not idsync's to manage, left alone", unmanaged))
	}
	return items, st, nil
}

// joins are the Okta users who should be in c and are not.
func (r reconciler) joins(c *company, people []okta.Person, in map[string]bool) []reconcile.Item {
	var items []reconcile.Item
	for _, p := range people {
		email := strings.ToLower(strings.TrimSpace(p.Login))
		if !joinStatuses[p.Status] || !strings.Contains(email, "@") || in[email] {
			continue
		}
		items = append(items, reconcile.Item{Provider: Provider, Op: reconcile.OpAdd, Action: actionAdd,
			Target: reconcile.Target{Type: "company", Key: companyKey(c.id), Name: c.id, ID: c.id},
			Person: reconcile.Person{SourceID: p.ID, Email: p.Login, Login: p.Login},
			Role:   c.join.Role, RuleID: c.joinRule, CompanyID: c.id,
			Reason: fmt.Sprintf("%s in Okta; rule %s adds Okta users to the company as %s", p.Status, c.joinRule, c.join.Role)})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Person.Email < items[j].Person.Email })
	return items
}

// leaves are c's users that Okta deactivated, or that are gone from Okta
// while idsync holds their membership; n counts the users matching no Okta
// user that idsync did not add (left alone).
func (r reconciler) leaves(ctx context.Context, c *company, users []console.User, byLogin map[string]okta.Person) (items []reconcile.Item, n int, err error) {
	for _, u := range users {
		email := strings.ToLower(strings.TrimSpace(u.Email))
		if email == "" {
			continue
		}
		_, managed, err := r.s.d.Ledger.Get(ctx, Provider, companyKey(c.id), email)
		if err != nil {
			return nil, 0, err
		}
		it := reconcile.Item{Provider: Provider, Op: reconcile.OpRemove, Action: actionRemove,
			Target: reconcile.Target{Type: "company", Key: companyKey(c.id), Name: c.id, ID: c.id},
			Person: reconcile.Person{Email: u.Email, Login: u.Email, ProviderID: u.UserID},
			RuleID: c.leaveRule, CompanyID: c.id, Managed: managed}
		p, known := byLogin[email]
		switch {
		case known && p.Status == okta.StatusDeprovisioned:
			it.Person.SourceID, it.Person.Login = p.ID, p.Login
			it.Reason = fmt.Sprintf("deactivated in Okta (DEPROVISIONED); rule %s removes Okta users who leave from the company", c.leaveRule)
		case !known && managed:
			it.Person.SourceID = u.UserID
			it.Reason = fmt.Sprintf("no longer an Okta user (deleted) and idsync added them; rule %s removes Okta users who leave from the company", c.leaveRule)
		case !known:
			n++
			continue
		default:
			continue
		}
		items = append(items, it)
	}
	return items, n, nil
}
