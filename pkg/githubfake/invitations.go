package githubfake

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func (f *Fake) invitationJSON(r *http.Request, o *org, inv *invitation) map[string]any {
	var login, email any
	if inv.login != "" {
		login = inv.login
	}
	if inv.email != "" {
		email = inv.email
	}
	id := strconv.FormatInt(inv.id, 10)
	return map[string]any{
		"id": inv.id, "node_id": "OI_" + id, "login": login, "email": email, "role": inv.role,
		"created_at": timestamp(inv.created), "inviter": userJSON("idsync", 1),
		"team_count": len(inv.teamIDs), "invitation_source": "member",
		"invitation_teams_url": f.apiURL(r, "orgs/"+o.name+"/invitations/"+id+"/teams"),
	}
}

func (o *org) sortedInvitations() []*invitation {
	out := make([]*invitation, 0, len(o.invitations))
	for _, inv := range o.invitations {
		out = append(out, inv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// GET /orgs/{org}/invitations (paginated)
func (f *Fake) listInvitations(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, _, ok := f.lookup(w, r)
	if !ok {
		return
	}
	var items []map[string]any
	for _, inv := range o.sortedInvitations() {
		items = append(items, f.invitationJSON(r, o, inv))
	}
	paginate(w, r, items)
}

// GET /orgs/{org}/invitations/{id}/teams (paginated)
func (f *Fake) invitationTeams(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, _, ok := f.lookup(w, r)
	if !ok {
		return
	}
	id, _ := parseID(r.PathValue("id"))
	inv := o.invitations[id]
	if inv == nil {
		notFound(w)
		return
	}
	var items []map[string]any
	for _, t := range o.teams {
		if slices.Contains(inv.teamIDs, t.id) {
			items = append(items, f.teamJSON(r, o, t))
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i]["id"].(int64) < items[j]["id"].(int64) })
	paginate(w, r, items)
}

// POST /orgs/{org}/invitations {email | invitee_id, role, team_ids}
func (f *Fake) createInvitation(w http.ResponseWriter, r *http.Request) {
	var body struct {
		InviteeID int64   `json:"invitee_id"`
		Email     string  `json:"email"`
		Role      string  `json:"role"`
		TeamIDs   []int64 `json:"team_ids"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Role == "" {
		body.Role = InviteMember
	}
	if body.Role != InviteMember && body.Role != InviteAdmin {
		invalid(w, "OrganizationInvitation", "role", "role must be direct_member or admin")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, _, ok := f.lookup(w, r)
	if !ok {
		return
	}
	inv := &invitation{role: body.Role, created: f.now()}
	var invitee *user
	switch {
	case body.InviteeID != 0:
		for _, u := range f.users {
			if u.id == body.InviteeID {
				invitee = u
			}
		}
		if invitee == nil {
			invalid(w, "OrganizationInvitation", "invitee_id", "no such user")
			return
		}
		inv.login = invitee.login
	case strings.Contains(body.Email, "@"):
		inv.email = strings.ToLower(body.Email)
		for _, u := range f.users {
			if u.email != "" && u.email == inv.email {
				invitee = u
			}
		}
	default:
		invalid(w, "OrganizationInvitation", "email", "an email address or invitee_id is required")
		return
	}
	if invitee != nil && o.members[strings.ToLower(invitee.login)] != nil {
		invalid(w, "OrganizationInvitation", "data", "Invitee is already a part of this organization")
		return
	}
	for _, other := range o.invitations {
		if (inv.email != "" && other.email == inv.email) || (inv.login != "" && strings.EqualFold(other.login, inv.login)) {
			invalid(w, "OrganizationInvitation", "data", "Invitee has already been invited")
			return
		}
	}
	for _, id := range body.TeamIDs {
		if !o.hasTeam(id) {
			invalid(w, "OrganizationInvitation", "team_ids", "team "+strconv.FormatInt(id, 10)+" is not a team of this organization")
			return
		}
	}
	inv.id, inv.teamIDs = f.id(), slices.Clone(body.TeamIDs)
	o.invitations[inv.id] = inv
	if inv.login != "" {
		// An invited account shows as a pending member, as GitHub does.
		role := RoleMember
		if inv.role == InviteAdmin {
			role = RoleAdmin
		}
		key := strings.ToLower(inv.login)
		o.members[key] = &membership{login: inv.login, role: role, state: StatePending}
		for _, t := range o.teams {
			if slices.Contains(inv.teamIDs, t.id) {
				t.members[key] = &membership{login: inv.login, role: RoleMember, state: StatePending}
			}
		}
	}
	writeJSON(w, http.StatusCreated, f.invitationJSON(r, o, inv))
}

func (o *org) hasTeam(id int64) bool {
	for _, t := range o.teams {
		if t.id == id {
			return true
		}
	}
	return false
}

// DELETE /orgs/{org}/invitations/{id}
func (f *Fake) cancelInvitation(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, _, ok := f.lookup(w, r)
	if !ok {
		return
	}
	id, _ := parseID(r.PathValue("id"))
	inv := o.invitations[id]
	if inv == nil {
		notFound(w)
		return
	}
	delete(o.invitations, id)
	if inv.login != "" {
		if m := o.members[strings.ToLower(inv.login)]; m != nil && m.state == StatePending {
			o.removeMember(inv.login)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
