package gitlabsync

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/rules"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

// live reports whether an Okta status is an account in use: ACTIVE, or
// active with a passing problem (a reset under way, an expired password,
// locked out by failed sign-ins). STAGED and PROVISIONED users have not
// been activated yet; SUSPENDED users are held, not gone: neither is an
// item either way.
func live(status string) bool {
	switch status {
	case okta.StatusActive, "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT":
		return true
	}
	return false
}

// oktaIndex is the Okta users by lower-case login and email (a GitLab user
// is found by the email the Okta login is).
type oktaIndex map[string]okta.Person

func indexOkta(people []okta.Person) oktaIndex {
	ix := oktaIndex{}
	put := func(k string, p okta.Person) {
		k = strings.ToLower(strings.TrimSpace(k))
		if !strings.Contains(k, "@") {
			return
		}
		// Two Okta users for one address (an old deprovisioned one and its
		// successor): the one in use wins.
		if cur, ok := ix[k]; ok && live(cur.Status) && !live(p.Status) {
			return
		}
		ix[k] = p
	}
	for _, p := range people {
		put(p.Login, p)
	}
	for _, p := range people {
		if _, taken := ix[strings.ToLower(p.Email)]; !taken {
			put(p.Email, p)
		}
	}
	return ix
}

// oktaUsers reads Okta's users once per scan (the caller checks that Okta
// is configured).
func (r reconciler) oktaUsers(ctx context.Context, sc *scan) ([]okta.Person, error) {
	if !sc.oktaRead {
		sc.oktaRead = true
		sc.okta, sc.oktaErr = r.s.d.Okta.Users(ctx)
		if sc.oktaErr == nil {
			sc.oktaIx = indexOkta(sc.okta)
		}
	}
	return sc.okta, sc.oktaErr
}

// isDeprovisioned reports whether Okta deprovisioned the person with this
// address (false when Okta's users were not read).
func (sc *scan) isDeprovisioned(email string) bool {
	p, ok := sc.oktaIx[strings.ToLower(strings.TrimSpace(email))]
	return ok && p.Status == okta.StatusDeprovisioned
}

// userItems compares GitLab users with their Okta users, for the rules of
// okta.delete.user (offboard) and okta.create.user (create, unblock):
//   - active in GitLab while DEPROVISIONED in Okta, or gone from Okta while
//     idsync manages their GitLab access (the ledger holds a grant) →
//     remove, with the rule's offboarding (block, deactivate, delete);
//   - blocked in GitLab while active in Okta → change (unblock);
//   - active in Okta with no GitLab user → add (create).
//
// Bots and users without an email are never items.
func (r reconciler) userItems(ctx context.Context, sc *scan) ([]reconcile.Item, error) {
	d := r.s.d
	offboard := rulesWhere(d.Rules.For(events.OktaDeleteUser), func(r *rules.Rule) bool { return r.Actions.GitLab != nil })
	create := rulesWhere(d.Rules.For(events.OktaCreateUser), func(r *rules.Rule) bool {
		return r.Actions.GitLab != nil && r.Actions.GitLab.User != nil
	})
	if len(offboard) == 0 && len(create) == 0 {
		return nil, nil
	}
	if d.Okta == nil {
		sc.note("Okta is not configured (IDSYNC_OKTA_ORG_URL and a credential): GitLab users are not compared with Okta users")
		return nil, nil
	}
	people, err := r.oktaUsers(ctx, sc)
	if err != nil {
		// The group members' comparison stands without it.
		sc.note("Okta's users cannot be read (%v): GitLab users are not compared with Okta users", err)
		return nil, ctx.Err()
	}
	if len(people) == 0 {
		// Likelier a wrong org or token than everyone gone: comparing
		// would offboard every GitLab user idsync manages.
		sc.note("Okta lists no user: GitLab users are not compared with Okta users")
		return nil, nil
	}
	byEmail := sc.oktaIx
	for _, p := range people {
		sc.people[strings.ToLower(p.Login)] = true
	}
	var items []reconcile.Item
	for _, u := range sc.users.all {
		if u.Bot || u.Email == "" {
			continue
		}
		p, inOkta := byEmail[strings.ToLower(u.Email)]
		switch {
		case inOkta && p.Status == okta.StatusDeprovisioned:
			items = append(items, r.offboardItems(u, p, offboard, "deactivated in Okta (DEPROVISIONED)")...)
		case !inOkta:
			its := r.offboardItems(u, p, offboard, "no Okta user has this email any more, and idsync manages their GitLab access")
			if len(its) == 0 {
				continue
			}
			// Only people idsync acts on: someone who was never in Okta
			// (an administrator, a contractor) is not idsync's to offboard.
			grants, err := d.Ledger.ForUser(ctx, Provider, u.Key())
			if err != nil {
				return nil, err
			}
			if len(grants) > 0 {
				items = append(items, its...)
			}
		case live(p.Status) && u.State == gitlab.StateBlocked && len(create) > 0:
			items = append(items, r.userItem(u.Email, create[0].ID, reconcile.OpChange, actionUnblock, u, p,
				fmt.Sprintf("blocked in GitLab while %s in Okta; rule %s unblocks, as it does when Okta activates them", p.Status, create[0].ID)))
		}
	}
	if len(create) == 0 {
		return items, nil
	}
	sort.Slice(people, func(i, j int) bool { return strings.ToLower(people[i].Login) < strings.ToLower(people[j].Login) })
	for _, p := range people {
		login := strings.ToLower(p.Login)
		if !live(p.Status) || !strings.Contains(login, "@") {
			continue
		}
		if _, exists := sc.users.byEmail[login]; exists {
			continue
		}
		items = append(items, r.userItem(p.Login, create[0].ID, reconcile.OpAdd, actionCreate, gitlab.User{}, p,
			fmt.Sprintf("%s in Okta with no GitLab user; rule %s creates one", p.Status, create[0].ID)))
	}
	return items, nil
}

// offboardItems are the offboarding items of a GitLab user, one per rule
// whose mode leaves something to do (a blocked user is offboarded for
// block and deactivate; delete always has something to do).
func (r reconciler) offboardItems(u gitlab.User, p okta.Person, offboard []*rules.Rule, why string) []reconcile.Item {
	var items []reconcile.Item
	for _, rule := range offboard {
		mode := offboardMode(rule)
		if offboarded(u, mode) != "" {
			continue
		}
		it := r.userItem(u.Email, rule.ID, reconcile.OpRemove, offboardActions[mode], u, p,
			fmt.Sprintf("%s in GitLab while %s; rule %s offboards (%s)", u.State, why, rule.ID, mode))
		if r.s.d.Guard.Protected(u.Email, u.Username, u.Key(), p.ID, p.Login) {
			it.Result, it.Detail = reconcile.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS): never offboarded"
		}
		items = append(items, it)
	}
	return items
}

// userItem is an item about a GitLab user's lifecycle. email is the address
// GitLab knows them by (the Okta login for a user to create).
func (r reconciler) userItem(email, ruleID string, op reconcile.Op, action string, u gitlab.User, p okta.Person, reason string) reconcile.Item {
	login := p.Login
	if login == "" {
		login = email
	}
	it := reconcile.Item{
		Provider: Provider, Op: op, Action: action, RuleID: ruleID, Reason: reason,
		Target: reconcile.Target{Type: kindUser, Name: email},
		Person: reconcile.Person{SourceID: p.ID, Email: email, Login: login},
	}
	if u.ID != 0 {
		it.Target.ID, it.Person.ProviderID, it.Current = u.Key(), u.Key(), u.State
	}
	return it
}

// offboardMode is a rule's actions.gitlab.offboard, block by default.
func offboardMode(r *rules.Rule) string {
	if r.Actions.GitLab == nil || r.Actions.GitLab.Offboard == "" {
		return offboardBlock
	}
	return r.Actions.GitLab.Offboard
}

func rulesWhere(rs []*rules.Rule, keep func(*rules.Rule) bool) []*rules.Rule {
	var out []*rules.Rule
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}
