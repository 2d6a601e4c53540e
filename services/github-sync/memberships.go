package githubsync

import (
	"context"
	"fmt"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/plan"
)

// memberships is GitHub seen by the planner for one event and one user
// key: a login, or "email:<address>" when the identity map has no login
// (grants then become an invitation by email, see invites).
type memberships struct {
	s   *service
	inv *invites // nil for a login
}

// bind takes the user key once resolved; planFor computes the user's whole
// plan, which an invitation needs (one invitation carries the
// organization role and every team).
func (m *memberships) bind(user string, planFor func(context.Context) (plan.Plan, error)) {
	if email, ok := emailOf(user); ok {
		m.inv = newInvites(m.s.gh, email, planFor)
	}
}

// Action implements plan.Memberships.
func (m *memberships) Action(kind string, grant bool) string {
	switch {
	case m.inv != nil && grant:
		return "invitation.create"
	case m.inv != nil:
		return "invitation.cancel"
	case kind == KindOrg && grant:
		return "org_member.add"
	case kind == KindOrg:
		return "org_member.remove"
	case grant:
		return "team_member.add"
	}
	return "team_member.remove"
}

// UpdateAction implements plan.Updater: a role changed in place.
func (m *memberships) UpdateAction(kind string) string {
	switch {
	case m.inv != nil:
		return "invitation.create"
	case kind == KindOrg:
		return "org_member.update"
	}
	return "team_member.add"
}

// Current implements plan.Memberships. Without GitHub credentials the state
// cannot be read: the ledger's record stands in for it (so a dry-run plans
// grants idsync has not made and revokes those it has).
func (m *memberships) Current(ctx context.Context, t plan.Target, user string) (string, bool, error) {
	if m.s.gh == nil {
		g, ok, err := m.s.d.Ledger.Get(ctx, Provider, t.Key, user)
		if !ok || err != nil {
			return "", true, err
		}
		return g.Role, true, nil
	}
	if m.inv != nil {
		return m.inv.current(ctx, t)
	}
	if t.Kind == KindOrg {
		ms, ok, err := m.s.gh.OrgMembership(ctx, t.Name, user)
		if err != nil || ok {
			return ms.Role, true, err
		}
		exists, err := m.s.gh.OrgExists(ctx, t.Name)
		return "", exists, err
	}
	org, slug := splitTeam(t.Name)
	ms, ok, err := m.s.gh.TeamMembership(ctx, org, slug, user)
	if err != nil || ok {
		return ms.Role, true, err
	}
	_, exists, err := m.s.gh.Team(ctx, org, slug)
	return "", exists, err
}

// Grant implements plan.Memberships: an organization or team membership
// with the role (GitHub invites a non-member; the membership is pending
// until accepted), or the invitation by email.
func (m *memberships) Grant(ctx context.Context, t plan.Target, user, role, _ string) error {
	if m.inv != nil {
		return m.inv.reconcile(ctx, orgOf(t.Kind, t.Name))
	}
	var err error
	if t.Kind == KindOrg {
		err = m.s.gh.SetOrgMembership(ctx, t.Name, user, role)
	} else {
		org, slug := splitTeam(t.Name)
		err = m.s.gh.SetTeamMembership(ctx, org, slug, user, role)
	}
	if errclass.Of(err) == errclass.NotFound {
		// The target was there a moment ago: the login is unknown to GitHub.
		return errclass.AsPermanent(fmt.Errorf("GitHub has no user %s (check the identity map): %w", user, err))
	}
	return err
}

// Revoke implements plan.Memberships. Removing an organization membership
// also removes the user's team memberships in it (GitHub does).
func (m *memberships) Revoke(ctx context.Context, g ledger.Grant, user string) error {
	kind, name := splitKey(g.Target)
	if m.inv != nil {
		return m.inv.reconcile(ctx, orgOf(kind, name))
	}
	var err error
	if kind == KindOrg {
		err = m.s.gh.RemoveOrgMembership(ctx, name, user)
	} else {
		org, slug := splitTeam(name)
		err = m.s.gh.RemoveTeamMembership(ctx, org, slug, user)
	}
	if errclass.Of(err) == errclass.NotFound {
		return nil // gone already
	}
	return err
}
