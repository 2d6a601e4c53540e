package githubsync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

// compare lists every managed target and compares it with what is
// wanted: add (missing), change (role), remove (no rule wants it). A
// pending invitation is a grant in progress, not a missing one.
func (sc *scan) compare(ctx context.Context) error {
	if sc.allPartial && len(sc.wanted) == 0 {
		return nil
	}
	keys := make([]string, 0, len(sc.targets))
	for k := range sc.targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	owners := map[string]int{}
	for _, key := range keys {
		t := sc.targets[key]
		org := orgOf(t.Kind, t.Name)
		o, err := sc.gh.org(ctx, org)
		if err != nil {
			return err
		}
		if !o.exists {
			sc.note(fmt.Sprintf("organization %s (rule %s) does not exist at GitHub", org, t.RuleID))
			continue
		}
		if t.Kind == KindOrg {
			n, err := sc.compareOrg(ctx, t, o)
			if err != nil {
				return err
			}
			owners[org] += n
			continue
		}
		_, slug := splitTeam(t.Name)
		tm, err := sc.gh.team(ctx, org, slug)
		if err != nil {
			return err
		}
		if !tm.exists {
			sc.note(fmt.Sprintf("team %s (rule %s) does not exist at GitHub", t.Name, t.RuleID))
			continue
		}
		if err := sc.compareTeam(ctx, t, o, tm); err != nil {
			return err
		}
	}
	for _, org := range slices.Sorted(maps.Keys(owners)) {
		if n := owners[org]; n > 0 {
			sc.note(fmt.Sprintf("organization %s: %d owners no rule names are left alone (idsync never removes an owner it did not make one)", org, n))
		}
	}
	if err := sc.compareInvitations(ctx); err != nil {
		return err
	}
	return sc.markManaged(ctx)
}

// markManaged sets Managed on the adds and changes whose membership the
// ledger holds: idsync granted it and it was taken away or changed since.
func (sc *scan) markManaged(ctx context.Context) error {
	for i, it := range sc.items {
		if it.Op == reconcile.OpRemove || it.Managed {
			continue
		}
		_, managed, err := sc.r.s.d.Ledger.Get(ctx, Provider, it.Target.Key, it.Person.ProviderID)
		if err != nil {
			return err
		}
		sc.items[i].Managed = managed
	}
	return nil
}

// compareOrg compares an organization's members; it returns how many
// owners no rule wants it left alone.
func (sc *scan) compareOrg(ctx context.Context, t plan.Target, o *orgState) (int, error) {
	for _, user := range slices.Sorted(maps.Keys(sc.wanted[t.Key])) {
		w := sc.wanted[t.Key][user]
		if _, byEmail := emailOf(user); byEmail {
			sc.compareInvited(t, w, o.invitation(user, sc.ids))
			continue
		}
		m, isMember := o.members[user]
		switch {
		case isMember:
			if err := sc.compareRole(ctx, t, w, m, "org_member.update"); err != nil {
				return 0, err
			}
		case o.invitation(user, sc.ids) != nil:
			// Invited: the membership is pending until accepted.
		default:
			sc.add(t, w, "org_member.add", "missing from the organization")
		}
	}
	if sc.allPartial || sc.incomplete[t.Key] {
		return 0, nil
	}
	owners := 0
	org := strings.ToLower(o.name)
	for _, login := range slices.Sorted(maps.Keys(o.members)) {
		if sc.inOrg[org][login] {
			continue
		}
		m := o.members[login]
		g, managed, err := sc.r.s.d.Ledger.Get(ctx, Provider, t.Key, m.login)
		if err != nil {
			return 0, err
		}
		if m.role == RoleAdmin && (!managed || g.Role != RoleAdmin) {
			owners++
			continue
		}
		sc.items = append(sc.items, sc.remove(t, m, "org_member.remove", g, managed,
			"no rule wants this member in the organization"))
	}
	return owners, nil
}

// compareTeam compares a team's members.
func (sc *scan) compareTeam(ctx context.Context, t plan.Target, o *orgState, tm *teamState) error {
	_, slug := splitTeam(t.Name)
	for _, user := range slices.Sorted(maps.Keys(sc.wanted[t.Key])) {
		w := sc.wanted[t.Key][user]
		inv := o.invitation(user, sc.ids)
		if inv != nil && !slices.ContainsFunc(inv.TeamSlugs, func(s string) bool { return strings.EqualFold(s, slug) }) {
			inv = nil // an invitation to the organization, not to this team
		}
		if _, byEmail := emailOf(user); byEmail {
			sc.compareInvited(t, w, inv)
			continue
		}
		m, isMember := tm.members[user]
		switch {
		case isMember:
			if err := sc.compareRole(ctx, t, w, m, "team_member.add"); err != nil {
				return err
			}
		case inv != nil:
		default:
			sc.add(t, w, "team_member.add", "missing from the team")
		}
	}
	if sc.allPartial || sc.incomplete[t.Key] {
		return nil
	}
	for _, login := range slices.Sorted(maps.Keys(tm.members)) {
		if _, ok := sc.wanted[t.Key][login]; ok {
			continue
		}
		m := tm.members[login]
		g, managed, err := sc.r.s.d.Ledger.Get(ctx, Provider, t.Key, m.login)
		if err != nil {
			return err
		}
		sc.items = append(sc.items, sc.remove(t, m, "team_member.remove", g, managed,
			"no rule wants this member in the team"))
	}
	return nil
}

// compareRole compares a member's role with the wanted one: a lower role
// is raised; a higher one is lowered only when idsync granted it (the
// ledger holds it with that role), as the event path does.
func (sc *scan) compareRole(ctx context.Context, t plan.Target, w want, m member, action string) error {
	switch {
	case rank(w.t.Role) > rank(m.role):
		it := sc.item(reconcile.OpChange, action, w.t, w.person)
		it.Role, it.Current, it.Reason = w.t.Role, m.role, "holds "+m.role+", the rules want "+w.t.Role
		sc.items = append(sc.items, it)
	case rank(m.role) > rank(w.t.Role):
		g, managed, err := sc.r.s.d.Ledger.Get(ctx, Provider, t.Key, w.person.ProviderID)
		if err != nil {
			return err
		}
		if managed && g.Role == m.role {
			it := sc.item(reconcile.OpChange, action, w.t, w.person)
			it.Role, it.Current, it.Managed = w.t.Role, m.role, true
			it.Reason = "holds " + m.role + ", which idsync granted; the rules now want " + w.t.Role
			sc.items = append(sc.items, it)
		}
	}
	return nil
}

// compareInvited compares a target wanted for someone without a known
// login with their invitation by email.
func (sc *scan) compareInvited(t plan.Target, w want, inv *ghapi.Invitation) {
	switch {
	case inv == nil:
		sc.add(t, w, "invitation.create", "no login known and no invitation pending: invite by email")
	case t.Kind == KindOrg && w.t.Role == RoleAdmin && inv.Role != ghapi.InviteAdmin:
		it := sc.item(reconcile.OpChange, "invitation.create", w.t, w.person)
		it.Role, it.Current, it.Reason = w.t.Role, inv.Role, "the pending invitation is for "+inv.Role+", the rules want "+w.t.Role
		sc.items = append(sc.items, it)
	}
}

func (sc *scan) add(t plan.Target, w want, action, reason string) {
	it := sc.item(reconcile.OpAdd, action, w.t, w.person)
	it.Role, it.Reason = w.t.Role, reason
	sc.items = append(sc.items, it)
}

// remove is the removal of a member no rule wants; the ledger's grant,
// when it holds one, names the rule and context that granted it.
func (sc *scan) remove(t plan.Target, m member, action string, g ledger.Grant, managed bool, reason string) reconcile.Item {
	p := reconcile.Person{Email: sc.ids.email(m.login), ProviderID: m.login}
	p.Login = p.Email
	it := sc.item(reconcile.OpRemove, action, t, p)
	it.Current, it.Managed = m.role, managed
	if managed {
		it.RuleID, it.CompanyID, it.ProjectID, it.EnvironmentID = g.RuleID, g.CompanyID, g.ProjectID, g.EnvironmentID
		it.Reason = reason + " (idsync granted it)"
	} else {
		it.Reason = reason + " (added outside idsync)"
	}
	return it
}

func (sc *scan) item(op reconcile.Op, action string, t plan.Target, p reconcile.Person) reconcile.Item {
	return reconcile.Item{
		Provider: Provider, Op: op, Action: action,
		Target: reconcile.Target{Type: t.Kind, Key: t.Key, Name: t.Name},
		Person: p, RuleID: t.RuleID,
		CompanyID: t.Context.CompanyID, ProjectID: t.Context.ProjectID, EnvironmentID: t.Context.EnvironmentID,
	}
}
