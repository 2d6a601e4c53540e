package githubsync

import (
	"context"
	"slices"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/plan"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

// invites converges the invitations by email of a person whose GitHub
// login is not known. GitHub cannot edit an invitation, and each one
// emails the invitee, so an organization gets one invitation carrying the
// highest organization role the rules want (direct_member unless one wants
// admin) and every wanted team; when that set changes the invitation is
// cancelled and sent again. Team roles above member cannot be invited:
// they are applied once the login is in the identity map.
//
// One invites value serves one event: the state of each organization is
// read once, before any change, so the plan's targets are compared with
// what was there (not with what the first target's invitation just did).
type invites struct {
	gh      GitHub
	email   string
	planFor func(context.Context) (plan.Plan, error)
	pl      *plan.Plan
	snaps   map[string]*snapshot
	teamIDs map[string]teamRef
	done    map[string]bool
}

type snapshot struct {
	exists bool
	invs   []ghapi.Invitation
}

type teamRef struct {
	id     int64
	exists bool
}

func newInvites(gh GitHub, email string, planFor func(context.Context) (plan.Plan, error)) *invites {
	return &invites{gh: gh, email: email, planFor: planFor,
		snaps: map[string]*snapshot{}, teamIDs: map[string]teamRef{}, done: map[string]bool{}}
}

func (iv *invites) snapshot(ctx context.Context, org string) (*snapshot, error) {
	if s := iv.snaps[org]; s != nil {
		return s, nil
	}
	invs, err := iv.gh.Invitations(ctx, org, iv.email)
	s := &snapshot{exists: true, invs: invs}
	if errclass.Of(err) == errclass.NotFound {
		s = &snapshot{}
	} else if err != nil {
		return nil, err
	}
	iv.snaps[org] = s
	return s, nil
}

func (iv *invites) team(ctx context.Context, org, slug string) (teamRef, error) {
	if r, ok := iv.teamIDs[org+"/"+slug]; ok {
		return r, nil
	}
	id, ok, err := iv.gh.Team(ctx, org, slug)
	if err != nil {
		return teamRef{}, err
	}
	iv.teamIDs[org+"/"+slug] = teamRef{id: id, exists: ok}
	return teamRef{id: id, exists: ok}, nil
}

// current is what the invitation (as found at the start of the event)
// gives for t: its organization role, or the team when it carries it.
func (iv *invites) current(ctx context.Context, t plan.Target) (string, bool, error) {
	org := orgOf(t.Kind, t.Name)
	s, err := iv.snapshot(ctx, org)
	if err != nil || !s.exists {
		return "", false, err
	}
	if t.Kind == KindOrg {
		if len(s.invs) == 0 {
			return "", true, nil
		}
		return orgRole(s.invs[0].Role), true, nil
	}
	_, slug := splitTeam(t.Name)
	ref, err := iv.team(ctx, org, slug)
	if err != nil || !ref.exists {
		return "", false, err
	}
	if len(s.invs) > 0 && slices.Contains(s.invs[0].TeamIDs, ref.id) {
		// The invitation holds the seat; a maintainer role follows once the
		// login is known, so the grant is as done as it can be.
		return t.Role, true, nil
	}
	return "", true, nil
}

// reconcile makes the organization's invitation match the plan (once per event).
func (iv *invites) reconcile(ctx context.Context, org string) error {
	if iv.done[org] {
		return nil
	}
	if iv.pl == nil {
		p, err := iv.planFor(ctx)
		if err != nil {
			return err
		}
		iv.pl = &p
	}
	s, err := iv.snapshot(ctx, org)
	if err != nil || !s.exists {
		return err
	}
	var cur *ghapi.Invitation
	teams := map[int64]bool{}
	if len(s.invs) > 0 {
		cur = &s.invs[0]
		for _, id := range cur.TeamIDs {
			teams[id] = true
		}
	}
	wantRole, orgRevoked := "", false
	for _, g := range iv.pl.Revoke {
		kind, name := splitKey(g.Target)
		if orgOf(kind, name) != org {
			continue
		}
		if kind == KindOrg {
			orgRevoked = true
			continue
		}
		_, slug := splitTeam(name)
		ref, err := iv.team(ctx, org, slug)
		if err != nil {
			return err
		}
		delete(teams, ref.id)
	}
	for _, t := range iv.pl.Grant {
		if orgOf(t.Kind, t.Name) != org {
			continue
		}
		if t.Kind == KindOrg {
			wantRole = t.Role
			continue
		}
		_, slug := splitTeam(t.Name)
		ref, err := iv.team(ctx, org, slug)
		if err != nil {
			return err
		}
		if ref.exists {
			teams[ref.id] = true
		}
	}
	role := ghapi.InviteMember
	switch {
	case wantRole != "" && cur != nil && cur.Role == ghapi.InviteAdmin:
		role = ghapi.InviteAdmin // never lowered
	case wantRole != "":
		role = inviteRole(wantRole)
	case !orgRevoked && cur != nil:
		role = cur.Role
	}
	ids := make([]int64, 0, len(teams))
	for id := range teams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	keep := wantRole != "" || len(ids) > 0
	if keep && len(s.invs) == 1 && cur.Role == role && slices.Equal(slices.Sorted(slices.Values(cur.TeamIDs)), ids) {
		iv.done[org] = true
		return nil
	}
	for _, inv := range s.invs {
		if err := iv.gh.CancelInvitation(ctx, org, inv.ID); err != nil && errclass.Of(err) != errclass.NotFound {
			return err
		}
	}
	if keep {
		if _, err := iv.gh.Invite(ctx, org, iv.email, role, ids); err != nil {
			return err
		}
	}
	iv.done[org] = true
	return nil
}

func inviteRole(orgRole string) string {
	if orgRole == RoleAdmin {
		return ghapi.InviteAdmin
	}
	return ghapi.InviteMember
}

func orgRole(inviteRole string) string {
	if inviteRole == ghapi.InviteAdmin {
		return RoleAdmin
	}
	return RoleMember
}
