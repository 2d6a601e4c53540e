package githubfake

import (
	"net/http"
	"slices"
	"strings"
)

func (f *Fake) teamJSON(r *http.Request, o *org, t *team) map[string]any {
	return map[string]any{
		"id": t.id, "node_id": "T_" + t.slug, "name": t.name, "slug": t.slug, "privacy": "closed",
		"url":          f.apiURL(r, "orgs/"+o.name+"/teams/"+t.slug),
		"organization": map[string]any{"login": o.name, "id": o.id},
	}
}

// team finds the organization, team and (when named) user of the request,
// answering 404 itself when one is missing.
func (f *Fake) team(w http.ResponseWriter, r *http.Request) (*org, *team, *user, bool) {
	o, u, ok := f.lookup(w, r)
	if !ok {
		return nil, nil, nil, false
	}
	t := o.teams[r.PathValue("slug")]
	if t == nil {
		notFound(w)
		return nil, nil, nil, false
	}
	return o, t, u, true
}

// GET /orgs/{org}/teams/{slug}
func (f *Fake) getTeam(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, t, _, ok := f.team(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, f.teamJSON(r, o, t))
}

func (f *Fake) teamMembershipJSON(r *http.Request, o *org, t *team, m *membership) map[string]any {
	return map[string]any{
		"url":   f.apiURL(r, "orgs/"+o.name+"/teams/"+t.slug+"/memberships/"+m.login),
		"role":  m.role,
		"state": m.state,
	}
}

// GET /orgs/{org}/teams/{slug}/memberships/{user}: 404 for a non-member.
func (f *Fake) getTeamMembership(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, t, u, ok := f.team(w, r)
	if !ok {
		return
	}
	m := t.members[strings.ToLower(u.login)]
	if m == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, f.teamMembershipJSON(r, o, t, m))
}

// errExternallyManaged is the refusal of a change to an IdP-synced team.
const errExternallyManaged = "This team's membership is managed by an identity provider (team synchronization); change it there"

// PUT /orgs/{org}/teams/{slug}/memberships/{user} {role}: adds or changes a
// team membership; a user outside the organization is invited to it and
// both memberships stay pending until accepted.
func (f *Fake) setTeamMembership(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Role == "" {
		body.Role = RoleMember
	}
	if body.Role != RoleMember && body.Role != RoleMaintainer {
		invalid(w, "TeamMember", "role", "role must be member or maintainer")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, t, u, ok := f.team(w, r)
	if !ok {
		return
	}
	if t.externalIdP {
		fail(w, http.StatusForbidden, errExternallyManaged)
		return
	}
	key := strings.ToLower(u.login)
	om := o.members[key]
	if om == nil {
		om = &membership{login: u.login, role: RoleMember, state: StatePending}
		o.members[key] = om
		id := f.id()
		o.invitations[id] = &invitation{id: id, login: u.login, role: InviteMember, created: f.now()}
	}
	if om.state == StatePending {
		for _, inv := range o.invitations {
			if strings.EqualFold(inv.login, u.login) && !slices.Contains(inv.teamIDs, t.id) {
				inv.teamIDs = append(inv.teamIDs, t.id)
			}
		}
	}
	m := t.members[key]
	if m == nil {
		m = &membership{login: u.login}
		t.members[key] = m
	}
	m.role, m.state = body.Role, om.state
	writeJSON(w, http.StatusOK, f.teamMembershipJSON(r, o, t, m))
}

// DELETE /orgs/{org}/teams/{slug}/memberships/{user}
func (f *Fake) removeTeamMembership(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, t, u, ok := f.team(w, r)
	if !ok {
		return
	}
	if t.externalIdP {
		fail(w, http.StatusForbidden, errExternallyManaged)
		return
	}
	key := strings.ToLower(u.login)
	if t.members[key] == nil {
		notFound(w)
		return
	}
	delete(t.members, key)
	for _, inv := range o.invitations {
		if strings.EqualFold(inv.login, u.login) {
			inv.teamIDs = slices.DeleteFunc(inv.teamIDs, func(id int64) bool { return id == t.id })
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
