package githubfake

import (
	"slices"
	"strings"
	"time"
)

// The management methods change the state directly, as GitHub's web UI or
// another tool would; tests and the demo call them (or /_fake/, admin.go).

// AddToken accepts token (a personal access token) from now on.
func (f *Fake) AddToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[token] = time.Time{}
}

// AddUser makes a GitHub account exist; email (optional) is its verified
// address, which lets invitations by email find it.
func (f *Fake) AddUser(login, email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[strings.ToLower(login)]; !ok {
		f.users[strings.ToLower(login)] = &user{id: f.id(), login: login, email: strings.ToLower(email)}
	}
}

// AddOrg creates an organization.
func (f *Fake) AddOrg(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.org(name)
}

func (f *Fake) org(name string) *org {
	o := f.orgs[strings.ToLower(name)]
	if o == nil {
		o = &org{id: f.id(), name: name, members: map[string]*membership{}, teams: map[string]*team{}, invitations: map[int64]*invitation{}}
		f.orgs[strings.ToLower(name)] = o
	}
	return o
}

// AddTeam creates a team (and its organization) and returns its id.
func (f *Fake) AddTeam(orgName, slug string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.org(orgName)
	if t := o.teams[slug]; t != nil {
		return t.id
	}
	t := &team{id: f.id(), slug: slug, name: slug, members: map[string]*membership{}}
	o.teams[slug] = t
	return t.id
}

// SetExternallyManaged marks a team as synchronised from an identity
// provider (GitHub Team Sync): API changes to its members are refused.
func (f *Fake) SetExternallyManaged(orgName, slug string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.org(orgName).teams[slug]; t != nil {
		t.externalIdP = on
	}
}

// SetMember makes login an active member of the organization with role
// (creating the user when needed), as if done by hand on GitHub.
func (f *Fake) SetMember(orgName, login, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[strings.ToLower(login)]; !ok {
		f.users[strings.ToLower(login)] = &user{id: f.id(), login: login}
	}
	f.org(orgName).members[strings.ToLower(login)] = &membership{login: login, role: role, state: StateActive}
}

// SetTeamMember makes login an active member of the team with role (and of
// the organization as member if not already).
func (f *Fake) SetTeamMember(orgName, slug, login, role string) {
	f.AddTeam(orgName, slug)
	f.mu.Lock()
	o := f.org(orgName)
	_, isMember := o.members[strings.ToLower(login)]
	f.mu.Unlock()
	if !isMember {
		f.SetMember(orgName, login, RoleMember)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o.teams[slug].members[strings.ToLower(login)] = &membership{login: login, role: role, state: StateActive}
}

// InviteLogin invites an existing account to the organization with an org
// role: the membership is pending until accepted (as PUT membership does).
func (f *Fake) InviteLogin(orgName, login, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[strings.ToLower(login)]; !ok {
		f.users[strings.ToLower(login)] = &user{id: f.id(), login: login}
	}
	o := f.org(orgName)
	o.members[strings.ToLower(login)] = &membership{login: login, role: role, state: StatePending}
	id := f.id()
	o.invitations[id] = &invitation{id: id, login: login, role: inviteRole(role), created: f.now()}
}

// InviteEmail invites an email address with an invitation role
// (direct_member, admin) and teams, and returns the invitation id.
func (f *Fake) InviteEmail(orgName, email, role string, teamIDs ...int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.org(orgName)
	id := f.id()
	o.invitations[id] = &invitation{id: id, email: strings.ToLower(email), role: role, teamIDs: slices.Clone(teamIDs), created: f.now()}
	return id
}

// AcceptInvitation is the person behind email signing in as login and
// accepting every pending invitation sent to the address or to the login:
// the pending memberships become active, with the invitation's teams.
// It returns how many invitations were accepted.
func (f *Fake) AcceptInvitation(email, login string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[strings.ToLower(login)]
	if u == nil {
		u = &user{id: f.id(), login: login, email: strings.ToLower(email)}
		f.users[strings.ToLower(login)] = u
	}
	n := 0
	for _, o := range f.orgs {
		for id, inv := range o.invitations {
			if !(email != "" && strings.EqualFold(inv.email, email)) && !(inv.login != "" && strings.EqualFold(inv.login, login)) {
				continue
			}
			n++
			delete(o.invitations, id)
			role := RoleMember
			if inv.role == InviteAdmin {
				role = RoleAdmin
			}
			key := strings.ToLower(u.login)
			if m := o.members[key]; m == nil || m.state == StatePending {
				o.members[key] = &membership{login: u.login, role: role, state: StateActive}
			}
			for _, t := range o.teams {
				if slices.Contains(inv.teamIDs, t.id) && t.members[key] == nil {
					t.members[key] = &membership{login: u.login, role: RoleMember, state: StateActive}
				}
				if m := t.members[key]; m != nil {
					m.state = StateActive
				}
			}
		}
	}
	return n
}

// RemoveMember removes login from the organization (with their team
// memberships and invitations), as an owner would by hand on GitHub. It
// reports whether login was a member.
func (f *Fake) RemoveMember(orgName, login string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orgs[strings.ToLower(orgName)]
	if o == nil || o.members[strings.ToLower(login)] == nil {
		return false
	}
	o.removeMember(login)
	return true
}

// RemoveTeamMember removes login from the team by hand (the organization
// membership stays; a pending invitation no longer carries the team). It
// reports whether login was a member of the team.
func (f *Fake) RemoveTeamMember(orgName, slug, login string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orgs[strings.ToLower(orgName)]
	if o == nil || o.teams[slug] == nil || o.teams[slug].members[strings.ToLower(login)] == nil {
		return false
	}
	t := o.teams[slug]
	delete(t.members, strings.ToLower(login))
	for _, inv := range o.invitations {
		if strings.EqualFold(inv.login, login) {
			inv.teamIDs = slices.DeleteFunc(inv.teamIDs, func(id int64) bool { return id == t.id })
		}
	}
	return true
}
