package githubfake

import (
	"net/http"
	"sort"
	"strings"
)

// memberList is the listing of a members map filtered by role, as GitHub
// lists members: active memberships only (a pending one shows up among
// the organization's invitations instead), sorted by login, each a
// simple-user object. roles are the roles the filter accepts.
func (f *Fake) memberList(ms map[string]*membership, roles ...string) []map[string]any {
	var logins []string
	for key, m := range ms {
		if m.state != StateActive {
			continue
		}
		for _, r := range roles {
			if m.role == r {
				logins = append(logins, key)
			}
		}
	}
	sort.Strings(logins)
	items := make([]map[string]any, 0, len(logins))
	for _, key := range logins {
		var id int64
		if u := f.users[key]; u != nil {
			id = u.id
		}
		items = append(items, userJSON(ms[key].login, id))
	}
	return items
}

// roleFilter reads ?role= against the values an endpoint takes (the first
// is "all", the default); ok is false (and 422 answered) for another value.
func roleFilter(w http.ResponseWriter, r *http.Request, resource string, all []string, values ...string) ([]string, bool) {
	role := strings.TrimSpace(r.URL.Query().Get("role"))
	switch {
	case role == "" || role == "all":
		return all, true
	case len(values) > 0:
		for _, v := range values {
			if role == v {
				return []string{v}, true
			}
		}
	}
	invalid(w, resource, "role", "role must be one of all, "+strings.Join(values, ", "))
	return nil, false
}

// GET /orgs/{org}/members?role=all|admin|member (paginated)
func (f *Fake) listOrgMembers(w http.ResponseWriter, r *http.Request) {
	roles, ok := roleFilter(w, r, "Membership", []string{RoleAdmin, RoleMember}, RoleAdmin, RoleMember)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, _, ok := f.lookup(w, r)
	if !ok {
		return
	}
	paginate(w, r, f.memberList(o.members, roles...))
}

// GET /orgs/{org}/teams/{slug}/members?role=all|member|maintainer (paginated)
func (f *Fake) listTeamMembers(w http.ResponseWriter, r *http.Request) {
	roles, ok := roleFilter(w, r, "TeamMember", []string{RoleMember, RoleMaintainer}, RoleMember, RoleMaintainer)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, t, _, ok := f.team(w, r)
	if !ok {
		return
	}
	paginate(w, r, f.memberList(t.members, roles...))
}
