package githubfake

import (
	"net/http"
	"strings"
)

// lookup finds the organization of the request and, when the path names
// one, the user; it answers 404 itself when either is missing.
func (f *Fake) lookup(w http.ResponseWriter, r *http.Request) (*org, *user, bool) {
	o := f.orgs[strings.ToLower(r.PathValue("org"))]
	if o == nil {
		notFound(w)
		return nil, nil, false
	}
	name := r.PathValue("user")
	if name == "" {
		return o, nil, true
	}
	u := f.users[strings.ToLower(name)]
	if u == nil {
		notFound(w)
		return nil, nil, false
	}
	return o, u, true
}

func (f *Fake) orgMembershipJSON(r *http.Request, o *org, u *user, m *membership) map[string]any {
	return map[string]any{
		"url":              f.apiURL(r, "orgs/"+o.name+"/memberships/"+u.login),
		"state":            m.state,
		"role":             m.role,
		"organization_url": f.apiURL(r, "orgs/"+o.name),
		"organization":     map[string]any{"login": o.name, "id": o.id},
		"user":             userJSON(u.login, u.id),
	}
}

// GET /orgs/{org}
func (f *Fake) getOrg(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, _, ok := f.lookup(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"login": o.name, "id": o.id, "url": f.apiURL(r, "orgs/"+o.name)})
}

// GET /orgs/{org}/memberships/{user}: 404 for a non-member.
func (f *Fake) getOrgMembership(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, u, ok := f.lookup(w, r)
	if !ok {
		return
	}
	m := o.members[strings.ToLower(u.login)]
	if m == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, f.orgMembershipJSON(r, o, u, m))
}

// PUT /orgs/{org}/memberships/{user} {role}: changes a member's role, or
// invites a non-member (the membership stays pending until accepted).
func (f *Fake) setOrgMembership(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Role == "" {
		body.Role = RoleMember
	}
	if body.Role != RoleMember && body.Role != RoleAdmin {
		invalid(w, "Membership", "role", "role must be member or admin")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, u, ok := f.lookup(w, r)
	if !ok {
		return
	}
	key := strings.ToLower(u.login)
	m := o.members[key]
	if m == nil {
		m = &membership{login: u.login, state: StatePending}
		o.members[key] = m
		id := f.id()
		o.invitations[id] = &invitation{id: id, login: u.login, created: f.now()}
	}
	m.role = body.Role
	for _, inv := range o.invitations {
		if strings.EqualFold(inv.login, u.login) {
			inv.role = inviteRole(body.Role)
		}
	}
	writeJSON(w, http.StatusOK, f.orgMembershipJSON(r, o, u, m))
}

func inviteRole(orgRole string) string {
	if orgRole == RoleAdmin {
		return InviteAdmin
	}
	return InviteMember
}

// DELETE /orgs/{org}/memberships/{user}: removes a member (and their team
// memberships) or cancels their pending invitation.
func (f *Fake) removeOrgMembership(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, u, ok := f.lookup(w, r)
	if !ok {
		return
	}
	if o.members[strings.ToLower(u.login)] == nil {
		notFound(w)
		return
	}
	o.removeMember(u.login)
	w.WriteHeader(http.StatusNoContent)
}

// removeMember drops login's membership, team memberships and invitations.
func (o *org) removeMember(login string) {
	key := strings.ToLower(login)
	delete(o.members, key)
	for _, t := range o.teams {
		delete(t.members, key)
	}
	for id, inv := range o.invitations {
		if strings.EqualFold(inv.login, login) {
			delete(o.invitations, id)
		}
	}
}
