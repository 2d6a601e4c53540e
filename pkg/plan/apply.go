package plan

import (
	"context"
	"fmt"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// Memberships is one provider's view of the memberships a plan names.
type Memberships interface {
	// Current returns the role user holds in the target (key), "" when not a
	// member. exists is false when the target itself does not exist at the
	// provider (then nothing is granted: an outcome says so).
	Current(ctx context.Context, t Target, user string) (role string, exists bool, err error)
	// Grant adds user to t with role, or changes the role (current is what
	// Current returned).
	Grant(ctx context.Context, t Target, user, role, current string) error
	// Revoke removes user from the target the grant names.
	Revoke(ctx context.Context, g ledger.Grant, user string) error
	// Action names what Grant and Revoke do for a target kind, for outcomes
	// (e.g. group_member.add / group_member.remove).
	Action(kind string, grant bool) string
}

// Updater is implemented by Memberships whose roles can change in place: it
// names the action of a role change (e.g. group_member.update).
type Updater interface {
	UpdateAction(kind string) string
}

// Applier applies plans through a provider, recording outcomes and the ledger.
type Applier struct {
	D        *syncsvc.Deps
	Provider Provider
	M        Memberships
}

// Apply converges user's memberships to p. person describes the user for
// the outcomes; user is the provider's key for them. It returns the records
// to publish, or the error to settle the message with.
func (a *Applier) Apply(ctx context.Context, ev events.Event, p Plan, user string, person outcome.Person) ([]outcome.Record, error) {
	var recs []outcome.Record
	for _, t := range p.Grant {
		rec := outcome.Record{RuleID: t.RuleID, Action: a.M.Action(t.Kind, true), Person: person, Role: t.Role,
			Target: outcome.Target{Type: t.Kind, Name: t.Name}}
		cur, exists, err := a.M.Current(ctx, t, user)
		if err != nil {
			return recs, a.D.Failed(ctx, ev, rec, err)
		}
		if !exists {
			rec.Result, rec.Reason = outcome.Skipped, fmt.Sprintf("%s %s does not exist at %s", t.Kind, t.Name, a.Provider.Name)
			recs = append(recs, rec)
			continue
		}
		prev, managed, err := a.D.Ledger.Get(ctx, a.Provider.Name, t.Key, user)
		if err != nil {
			return recs, err
		}
		record := true
		switch {
		case cur != "" && a.Provider.Rank(cur) > a.Provider.Rank(t.Role) && managed && prev.Role == cur:
			// idsync granted the higher role and no rule wants it now: lower it.
			rec.Action = a.updateAction(t.Kind, rec.Action)
			if a.D.Guard.Protected(person.Email, person.Login, person.SourceID, user) {
				rec.Result, rec.Reason, record = outcome.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS): not demoted", false
				break
			}
			if a.D.DryRun {
				rec.Result, rec.Reason = outcome.Planned, "lower the role idsync granted from "+cur+" to "+t.Role
				break
			}
			if err := a.M.Grant(ctx, t, user, t.Role, cur); err != nil {
				return recs, a.D.Failed(ctx, ev, rec, err)
			}
			rec.Result, rec.Reason = outcome.Revoked, "role idsync granted lowered from "+cur+" to "+t.Role
		case cur != "" && a.Provider.Rank(cur) > a.Provider.Rank(t.Role):
			// A higher role given outside idsync is left alone, and idsync
			// does not claim it.
			rec.Result, rec.Reason = outcome.Unchanged, fmt.Sprintf("already holds %s, above the %s the rule grants; left alone", cur, t.Role)
			record = managed
		case cur != "" && a.Provider.Rank(cur) == a.Provider.Rank(t.Role):
			rec.Result, rec.Reason = outcome.Unchanged, "already a member with this role"
		default:
			if cur != "" {
				rec.Action = a.updateAction(t.Kind, rec.Action)
			}
			if a.D.DryRun {
				rec.Result, rec.Reason = outcome.Planned, changeReason(cur, t.Role)
				break
			}
			if err := a.M.Grant(ctx, t, user, t.Role, cur); err != nil {
				return recs, a.D.Failed(ctx, ev, rec, err)
			}
			rec.Result, rec.Reason = outcome.Granted, changeReason(cur, t.Role)
		}
		if record && !a.D.DryRun && (!managed || prev.Role != t.Role || prev.RuleID != t.RuleID) {
			g := ledger.Grant{Provider: a.Provider.Name, Target: t.Key, User: user, Role: t.Role, RuleID: t.RuleID,
				CompanyID: t.Context.CompanyID, ProjectID: t.Context.ProjectID, EnvironmentID: t.Context.EnvironmentID}
			if err := a.D.Ledger.Put(ctx, g); err != nil {
				return recs, err
			}
		}
		recs = append(recs, rec)
	}
	for _, g := range p.Revoke {
		t := Target{Key: g.Target, Kind: kindOf(g.Target), Name: nameOf(g.Target), Role: g.Role, RuleID: g.RuleID,
			Context: contextOf(g)}
		rec := outcome.Record{RuleID: g.RuleID, Action: a.M.Action(t.Kind, false), Person: person, Role: g.Role,
			Target: outcome.Target{Type: t.Kind, Name: t.Name}, Reason: p.Unmet[g.Target]}
		cur, exists, err := a.M.Current(ctx, t, user)
		if err != nil {
			return recs, a.D.Failed(ctx, ev, rec, err)
		}
		forget := true
		switch {
		case !exists || cur == "":
			rec.Result, rec.Reason = outcome.Unchanged, "not a member any more"
		case a.Provider.Rank(cur) > a.Provider.Rank(g.Role):
			rec.Result = outcome.Skipped
			rec.Reason = fmt.Sprintf("holds %s, above the %s idsync granted: changed outside idsync, left alone", cur, g.Role)
		default:
			ok, why, err := a.D.Removal(ctx, person.Email, person.Login, person.SourceID, user)
			if err != nil {
				return recs, a.D.Failed(ctx, ev, rec, err)
			}
			switch {
			case !ok:
				rec.Result, rec.Reason, forget = outcome.Skipped, why, false
			case a.D.DryRun:
				rec.Result, forget = outcome.Planned, false
			default:
				if err := a.M.Revoke(ctx, g, user); err != nil {
					return recs, a.D.Failed(ctx, ev, rec, err)
				}
				rec.Result = outcome.Revoked
			}
		}
		if forget {
			if err := a.D.Ledger.Delete(ctx, g.Provider, g.Target, g.User); err != nil {
				return recs, err
			}
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// updateAction names a role change, when the provider has such an action.
func (a *Applier) updateAction(kind, fallback string) string {
	if u, ok := a.M.(Updater); ok {
		return u.UpdateAction(kind)
	}
	return fallback
}

func changeReason(cur, want string) string {
	switch {
	case cur == "" && want == "":
		return "added"
	case cur == "":
		return "added as " + want
	default:
		return "role raised from " + cur + " to " + want
	}
}

func contextOf(g ledger.Grant) (c rulesContext) {
	return rulesContext{CompanyID: g.CompanyID, ProjectID: g.ProjectID, EnvironmentID: g.EnvironmentID}
}
