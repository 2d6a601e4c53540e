package githubsync

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

// compareInvitations reports invitations no rule wants: in a managed
// organization, or carrying a managed team, sent to someone wanted nowhere
// in the organization.
func (sc *scan) compareInvitations(ctx context.Context) error {
	managedOrg, managedTeam := map[string]plan.Target{}, map[string]plan.Target{}
	for key, t := range sc.targets {
		if sc.allPartial || sc.incomplete[key] {
			continue
		}
		if t.Kind == KindOrg {
			managedOrg[strings.ToLower(t.Name)] = t
		} else {
			managedTeam[strings.ToLower(t.Name)] = t
		}
	}
	for _, org := range slices.Sorted(maps.Keys(sc.gh.orgs)) {
		o := sc.gh.orgs[org]
		for _, inv := range o.invites {
			t, ok := managedOrg[org]
			for _, slug := range inv.TeamSlugs {
				if tt, isManaged := managedTeam[org+"/"+strings.ToLower(slug)]; !ok && isManaged {
					t, ok = tt, true
				}
			}
			user := invitee(inv, sc.ids)
			if !ok || sc.inOrg[org][strings.ToLower(user)] {
				continue
			}
			managed, err := sc.heldIn(ctx, user, o.name)
			if err != nil {
				return err
			}
			it := sc.cancelItem(t, o.name, inv, user)
			it.Managed, it.Reason = managed, "no rule wants the invitee in the organization"
			sc.items = append(sc.items, it)
		}
	}
	return nil
}

// cancelItem is the removal of a pending invitation.
func (sc *scan) cancelItem(t plan.Target, org string, inv ghapi.Invitation, user string) reconcile.Item {
	p := reconcile.Person{Email: inv.Email, Login: inv.Email, ProviderID: user}
	if p.Email == "" {
		p.Email = sc.ids.email(user)
		p.Login = p.Email
	}
	it := sc.item(reconcile.OpRemove, actionCancel, t, p)
	it.Target = reconcile.Target{Type: "invitation", Key: plan.Key(KindOrg, org), Name: org, ID: strconv.FormatInt(inv.ID, 10)}
	it.Current = inv.Role
	return it
}

// heldIn reports whether the ledger holds a grant of user in org (or one
// of its teams): idsync invited them.
func (sc *scan) heldIn(ctx context.Context, user, org string) (bool, error) {
	grants, err := sc.r.s.d.Ledger.ForUser(ctx, Provider, user)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(grants, func(g ledger.Grant) bool {
		kind, name := splitKey(g.Target)
		return strings.EqualFold(orgOf(kind, name), org)
	}), nil
}
