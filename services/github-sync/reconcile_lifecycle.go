package githubsync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
)

// deleteOrgs are the organizations the okta.delete.user rules remove
// people from, each with the first rule naming it.
func (sc *scan) deleteOrgs() []orgRule {
	var out []orgRule
	seen := map[string]bool{}
	for _, r := range sc.r.s.d.Rules.For(events.OktaDeleteUser) {
		if r.Actions.GitHub == nil {
			continue
		}
		for _, o := range r.Actions.GitHub.Organizations {
			if !seen[strings.ToLower(o.Name)] {
				seen[strings.ToLower(o.Name)] = true
				out = append(out, orgRule{org: o.Name, ruleID: r.ID})
			}
		}
	}
	return out
}

type orgRule struct{ org, ruleID string }

// readOkta reads Okta's users when Okta is configured: whom Okta
// deprovisioned or deleted. Without it (or when the listing fails) a note
// says that nobody is looked for.
func (sc *scan) readOkta(ctx context.Context) error {
	if sc.r.s.d.Okta == nil {
		if len(sc.deleteOrgs()) > 0 {
			sc.note("Okta is not configured (IDSYNC_OKTA_ORG_URL and a credential): people deprovisioned or deleted in Okta are not looked for")
		}
		return nil
	}
	people, err := sc.r.s.d.Okta.Users(ctx)
	if err != nil {
		sc.note(fmt.Sprintf("Okta's users cannot be read (%v): people deprovisioned or deleted in Okta are not looked for in this run", err))
		return ctx.Err()
	}
	sc.okta = oktaDirectory(people)
	return nil
}

// deprovisioned reports whether Okta deprovisioned the person with this
// address: whatever the Console still says, the rules want nothing for
// them (a lost deprovisioning must not be granted back).
func (sc *scan) deprovisioned(email string) bool {
	p, ok := sc.okta[strings.ToLower(strings.TrimSpace(email))]
	return ok && p.Status == okta.StatusDeprovisioned
}

// lifecycle finds the people who must leave an organization an
// okta.delete.user rule names because Okta deprovisioned or deleted them:
// the deprovisioning a lost hook delivery would otherwise leave undone.
// Only people idsync can tie to Okta are considered — a member whose
// login the identity map maps from an address (of a deprovisioned Okta
// user, or of no Okta user while the ledger holds their grants) — and
// never an owner idsync did not make one.
func (sc *scan) lifecycle(ctx context.Context) error {
	if sc.okta == nil {
		return nil
	}
	sc.leaving = map[string]map[string]bool{}
	for _, on := range sc.deleteOrgs() {
		o, err := sc.gh.org(ctx, on.org)
		if err != nil {
			return err
		}
		if !o.exists {
			sc.note(fmt.Sprintf("organization %s (rule %s) does not exist at GitHub", on.org, on.ruleID))
			continue
		}
		if err := sc.leavers(ctx, o, on.ruleID, sc.okta); err != nil {
			return err
		}
	}
	return nil
}

// oktaDirectory indexes Okta's users by lower-cased email and login.
func oktaDirectory(people []okta.Person) map[string]okta.Person {
	dir := make(map[string]okta.Person, 2*len(people))
	for _, p := range people {
		for _, k := range []string{p.Email, p.Login} {
			if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
				dir[k] = p
			}
		}
	}
	return dir
}

// leavers adds the removals of one organization: its members and the
// people it invited (by login or by email).
func (sc *scan) leavers(ctx context.Context, o *orgState, ruleID string, dir map[string]okta.Person) error {
	t := plan.Target{Key: plan.Key(KindOrg, o.name), Kind: KindOrg, Name: o.name, RuleID: ruleID}
	owners := 0
	for _, login := range slices.Sorted(maps.Keys(o.members)) {
		m := o.members[login]
		p, why, err := sc.gone(ctx, m.login, sc.ids.emails(m.login), o.name, dir)
		if err != nil || why == "" {
			if err != nil {
				return err
			}
			continue
		}
		g, managed, err := sc.r.s.d.Ledger.Get(ctx, Provider, t.Key, m.login)
		if err != nil {
			return err
		}
		if m.role == RoleAdmin && (!managed || g.Role != RoleAdmin) {
			owners++
			continue
		}
		it := sc.item(reconcile.OpRemove, actionOrgRemove, t, p)
		it.Current, it.Managed, it.Reason = m.role, managed, why
		sc.leave(o.name, m.login, it)
	}
	if owners > 0 {
		sc.note(fmt.Sprintf("organization %s: %d owners Okta deprovisioned or deleted are left alone (idsync never removes an owner it did not make one)", o.name, owners))
	}
	for _, inv := range o.invites {
		user := invitee(inv, sc.ids)
		emails := sc.ids.emails(user)
		if email, ok := emailOf(user); ok {
			emails = []string{email}
		}
		p, why, err := sc.gone(ctx, user, emails, o.name, dir)
		if err != nil {
			return err
		}
		if why == "" {
			continue
		}
		managed, err := sc.heldIn(ctx, user, o.name)
		if err != nil {
			return err
		}
		it := sc.cancelItem(t, o.name, inv, user)
		it.Person.SourceID = p.SourceID
		it.RuleID, it.Managed, it.Reason = ruleID, managed, why
		sc.leave(o.name, user, it)
	}
	return nil
}

// leave records a lifecycle removal of user from org.
func (sc *scan) leave(org, user string, it reconcile.Item) {
	org, user = strings.ToLower(org), strings.ToLower(user)
	if sc.leaving[org] == nil {
		sc.leaving[org] = map[string]bool{}
	}
	sc.leaving[org][user] = true
	sc.life = append(sc.life, it)
}

// gone decides whether the person behind user (their addresses from the
// identity map, or the address of an email key) must leave: why is ""
// when not. Okta keeps a deprovisioned user until it is deleted; a deleted
// one is absent, which counts only for someone whose grants in the
// organization the ledger holds (otherwise idsync cannot tell a deleted
// person from one Okta never had). An active Okta user under any of the
// addresses keeps the access.
func (sc *scan) gone(ctx context.Context, user string, emails []string, org string, dir map[string]okta.Person) (reconcile.Person, string, error) {
	var found *okta.Person
	for _, e := range emails {
		p, ok := dir[strings.ToLower(e)]
		if !ok {
			continue
		}
		if p.Status != okta.StatusDeprovisioned {
			return reconcile.Person{}, "", nil
		}
		found = &p
	}
	person := reconcile.Person{ProviderID: user}
	if len(emails) > 0 {
		person.Email, person.Login = emails[0], emails[0]
	}
	if found != nil {
		person.SourceID, person.Email, person.Login = found.ID, found.Email, found.Login
		return person, "deprovisioned in Okta", nil
	}
	if len(emails) == 0 {
		return reconcile.Person{}, "", nil
	}
	held, err := sc.heldIn(ctx, user, org)
	if err != nil || !held {
		return reconcile.Person{}, "", err
	}
	return person, "no Okta user any more (deleted in Okta)", nil
}
