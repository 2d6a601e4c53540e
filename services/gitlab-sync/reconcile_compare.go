package gitlabsync

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

// compareGroup lists the group's direct members (every page) and compares
// them with who the rules want. Inherited members are never items: they
// are managed in the group they are direct members of.
func (r reconciler) compareGroup(ctx context.Context, g *managedGroup, sc *scan) ([]reconcile.Item, error) {
	members, found, err := r.s.dir.Members(ctx, g.path)
	if err != nil {
		return nil, fmt.Errorf("gitlab-sync: reconcile: listing the members of %s: %w", g.path, err)
	}
	if !found {
		sc.note("group %s (rule %s) does not exist in GitLab: nobody can be added to it", g.path, g.manager.RuleID)
		return nil, nil
	}
	sc.st.Targets++
	direct := make(map[int64]gitlab.Member, len(members))
	owners := 0
	for _, m := range members {
		direct[m.UserID] = m
		if m.Level >= ownerLevel {
			owners++
		}
	}
	var items []reconcile.Item
	for _, uid := range sortedIDs(g.wanted) {
		it, drift, err := r.compareWanted(ctx, g, g.wanted[uid], direct)
		if err != nil {
			return nil, err
		}
		if drift {
			items = append(items, it)
		}
	}
	if g.partial || sc.partial {
		return items, nil
	}
	sort.Slice(members, func(i, j int) bool { return members[i].UserID < members[j].UserID })
	for _, m := range members {
		if _, ok := g.wanted[m.UserID]; ok {
			continue
		}
		it, drift, err := r.unwanted(ctx, g, m, owners, sc)
		if err != nil {
			return nil, err
		}
		if drift {
			items = append(items, it)
		}
	}
	return items, nil
}

// compareWanted compares a person the rules want in the group with their
// direct membership, as plan.Applier would: missing → add; a lower role →
// raise; a higher role → lowered only when idsync granted it.
func (r reconciler) compareWanted(ctx context.Context, g *managedGroup, w wantedMember, direct map[int64]gitlab.Member) (reconcile.Item, bool, error) {
	it := groupItem(g, w.t)
	it.Person, it.Role = w.person, w.t.Role
	want := gitlab.Rank(w.t.Role)
	uid, _ := userID(w.person.ProviderID)
	m, isMember := direct[uid]
	switch {
	case !isMember:
		// GitLab refuses a direct membership below an inherited one, and
		// one at or above what the rule grants already covers it.
		level, inherits, err := r.s.dir.EffectiveLevel(ctx, g.path, uid)
		if err != nil {
			return it, false, fmt.Errorf("gitlab-sync: reconcile: reading an inherited membership of %s: %w", g.path, err)
		}
		if inherits && level >= want {
			return it, false, nil
		}
		it.Op, it.Action = reconcile.OpAdd, actionMemberAdd
		it.Reason = fmt.Sprintf("rule %s grants %s; not a member", w.t.RuleID, w.t.Role)
		if inherits {
			it.Reason = fmt.Sprintf("rule %s grants %s; inherits only %s", w.t.RuleID, w.t.Role, gitlab.Role(level))
		}
	case m.Level < want:
		it.Op, it.Action, it.Current = reconcile.OpChange, actionMemberUpdate, gitlab.Role(m.Level)
		it.Reason = fmt.Sprintf("holds %s; rule %s grants %s", gitlab.Role(m.Level), w.t.RuleID, w.t.Role)
	case m.Level > want:
		prev, managed, err := r.s.d.Ledger.Get(ctx, Provider, g.key, w.person.ProviderID)
		if err != nil {
			return it, false, err
		}
		if !managed || prev.Role != gitlab.Role(m.Level) {
			return it, false, nil // a higher role given outside idsync is left alone
		}
		it.Op, it.Action, it.Current, it.Managed = reconcile.OpChange, actionMemberUpdate, gitlab.Role(m.Level), true
		it.Reason = fmt.Sprintf("holds %s, which idsync granted (rule %s); the rules now grant %s (rule %s)", prev.Role, prev.RuleID, w.t.Role, w.t.RuleID)
	default:
		return it, false, nil
	}
	return it, true, nil
}

// unwanted describes a direct member no rule wants: a remove item, Managed
// when idsync's ledger holds the membership. Bots (access tokens, service
// accounts) are never items; protected accounts and a group's last Owner
// are reported as Skipped.
func (r reconciler) unwanted(ctx context.Context, g *managedGroup, m gitlab.Member, owners int, sc *scan) (reconcile.Item, bool, error) {
	u, known := sc.users.byID[m.UserID]
	if known && u.Bot {
		return reconcile.Item{}, false, nil
	}
	if !known {
		u = gitlab.User{ID: m.UserID, Username: m.Username, State: m.State}
	}
	it := groupItem(g, g.manager)
	it.Op, it.Action, it.Current = reconcile.OpRemove, actionMemberRemove, gitlab.Role(m.Level)
	it.Person = reconcile.Person{Email: u.Email, Login: u.Username, ProviderID: u.Key()}
	cp, isConsole := sc.console[m.UserID]
	if isConsole {
		it.Person = cp.person
	}
	prev, managed, err := r.s.d.Ledger.Get(ctx, Provider, g.key, u.Key())
	if err != nil {
		return it, false, err
	}
	var why []string
	if managed {
		it.Managed, it.RuleID = true, prev.RuleID
		it.CompanyID, it.ProjectID, it.EnvironmentID = prev.CompanyID, prev.ProjectID, prev.EnvironmentID
		why = append(why, fmt.Sprintf("idsync granted %s (rule %s) and no rule wants it now", prev.Role, prev.RuleID))
	} else {
		why = append(why, "a direct member no rule wants, added outside idsync")
	}
	switch unmet := cp.unmet[g.key]; {
	case isConsole && cp.deprovisioned:
		why = append(why, "deactivated in Okta (DEPROVISIONED): the rules want them in no group")
	case isConsole && unmet != "":
		why = append(why, unmet)
	}
	it.Reason = strings.Join(why, "; ")
	// Decided here, and kept so by the Runner: never applied.
	switch {
	case managed && m.Level > gitlab.Rank(prev.Role):
		it.Result, it.Detail = reconcile.Skipped, fmt.Sprintf("holds %s, above the %s idsync granted: changed outside idsync, left alone", gitlab.Role(m.Level), prev.Role)
	case r.s.d.Guard.Protected(it.Person.Email, it.Person.Login, it.Person.SourceID, u.Key(), u.Username):
		it.Result, it.Detail = reconcile.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS): never removed"
	case m.Level >= ownerLevel && owners <= 1:
		it.Result, it.Detail = reconcile.Skipped, "the group's only direct Owner: never removed"
	}
	return it, true, nil
}

// groupItem is an item about a group, in the context a rule names it.
func groupItem(g *managedGroup, t plan.Target) reconcile.Item {
	return reconcile.Item{
		Provider: Provider, RuleID: t.RuleID,
		Target:    reconcile.Target{Type: kindGroup, Key: g.key, Name: g.path},
		CompanyID: t.Context.CompanyID, ProjectID: t.Context.ProjectID, EnvironmentID: t.Context.EnvironmentID,
	}
}

func sortedIDs[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
