package githubsync

import (
	"context"
	"slices"
	"strings"

	"github.com/idsync/idsync/pkg/errclass"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

// actual is GitHub's state as one scan reads it: each organization and
// team listed once, every page, however many targets or rules name it.
type actual struct {
	gh    GitHub
	orgs  map[string]*orgState  // by lower-cased name
	teams map[string]*teamState // by lower-cased org/slug
}

// member is an active membership as listed: the login as GitHub spells it
// and the role.
type member struct{ login, role string }

type orgState struct {
	name   string
	exists bool
	// members are the active members by lower-cased login; a pending
	// membership is an invitation.
	members map[string]member
	invites []ghapi.Invitation
}

type teamState struct {
	exists  bool
	members map[string]member
}

func newActual(gh GitHub) *actual {
	return &actual{gh: gh, orgs: map[string]*orgState{}, teams: map[string]*teamState{}}
}

// listed counts the organizations and teams read.
func (a *actual) listed() int { return len(a.orgs) + len(a.teams) }

// org lists the organization's members by role and its invitations. An
// organization GitHub does not know has exists false.
func (a *actual) org(ctx context.Context, name string) (*orgState, error) {
	if o := a.orgs[strings.ToLower(name)]; o != nil {
		return o, nil
	}
	o := &orgState{name: name, exists: true, members: map[string]member{}}
	// Two listings filtered by role (members, then admins) give the role
	// of everyone at one call per page, where asking each person's
	// membership would cost one call per member.
	for _, role := range []string{RoleMember, RoleAdmin} {
		ls, err := a.gh.OrgMembers(ctx, name, role)
		if errclass.Of(err) == errclass.NotFound {
			o.exists = false
			break
		}
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			o.members[strings.ToLower(l)] = member{login: l, role: role}
		}
	}
	if o.exists {
		invs, err := a.gh.OrgInvitations(ctx, name)
		switch {
		case errclass.Of(err) == errclass.NotFound:
			o.exists = false
		case err != nil:
			return nil, err
		}
		o.invites = invs
	}
	a.orgs[strings.ToLower(name)] = o
	return o, nil
}

// team lists the team's members by role.
func (a *actual) team(ctx context.Context, org, slug string) (*teamState, error) {
	key := strings.ToLower(org + "/" + slug)
	if t := a.teams[key]; t != nil {
		return t, nil
	}
	t := &teamState{exists: true, members: map[string]member{}}
	for _, role := range []string{RoleMember, RoleMaintainer} {
		ls, err := a.gh.TeamMembers(ctx, org, slug, role)
		if errclass.Of(err) == errclass.NotFound {
			t.exists = false
			break
		}
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			t.members[strings.ToLower(l)] = member{login: l, role: role}
		}
	}
	a.teams[key] = t
	return t, nil
}

// invitation returns the pending invitation of a user key: sent to the
// address of an email key, or to the login (or to an address the
// identity map gives the login). nil when there is none.
func (o *orgState) invitation(user string, ids logins) *ghapi.Invitation {
	email, byEmail := emailOf(user)
	for i := range o.invites {
		inv := &o.invites[i]
		switch {
		case byEmail && strings.EqualFold(inv.Email, email):
			return inv
		case !byEmail && inv.Login != "" && strings.EqualFold(inv.Login, user):
			return inv
		case !byEmail && inv.Email != "" && slices.Contains(ids.emails(user), strings.ToLower(inv.Email)):
			return inv
		}
	}
	return nil
}

// invitee is the user key an invitation is for: its login, the login the
// identity map gives its address, or email:<address>.
func invitee(inv ghapi.Invitation, ids logins) string {
	if inv.Login != "" {
		return inv.Login
	}
	return ids.userKey(inv.Email)
}
