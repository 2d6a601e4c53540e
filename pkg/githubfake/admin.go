package githubfake

import "net/http"

// mountAdmin serves the management API under /_fake/ (no authentication:
// the fake is for tests and the demo only):
//
//	GET  /_fake/state                       every organization's members, teams and invitations
//	POST /_fake/users   {login, email}      make an account exist
//	POST /_fake/orgs    {name}              create an organization
//	POST /_fake/teams   {org, slug}         create a team → {id}
//	POST /_fake/members {org, login, role}  make an active member (as done by hand)
//	POST /_fake/tokens  {token}             accept a personal access token
//	POST /_fake/accept  {email, login}      accept the invitations → {accepted}
func (f *Fake) mountAdmin(mux *http.ServeMux) {
	mux.HandleFunc("GET /_fake/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, f.Snapshot())
	})
	type req struct {
		Login, Email, Name, Org, Slug, Role, Token string
	}
	handle := func(path string, need func(req) bool, do func(req) any) {
		mux.HandleFunc("POST /_fake/"+path, func(w http.ResponseWriter, r *http.Request) {
			var in req
			if !decode(w, r, &in) {
				return
			}
			if !need(in) {
				fail(w, http.StatusBadRequest, "missing fields for "+path)
				return
			}
			writeJSON(w, http.StatusOK, do(in))
		})
	}
	ok := map[string]bool{"ok": true}
	handle("users", func(in req) bool { return in.Login != "" }, func(in req) any { f.AddUser(in.Login, in.Email); return ok })
	handle("orgs", func(in req) bool { return in.Name != "" }, func(in req) any { f.AddOrg(in.Name); return ok })
	handle("teams", func(in req) bool { return in.Org != "" && in.Slug != "" }, func(in req) any {
		return map[string]int64{"id": f.AddTeam(in.Org, in.Slug)}
	})
	handle("members", func(in req) bool { return in.Org != "" && in.Login != "" }, func(in req) any {
		if in.Role == "" {
			in.Role = RoleMember
		}
		f.SetMember(in.Org, in.Login, in.Role)
		return ok
	})
	handle("tokens", func(in req) bool { return in.Token != "" }, func(in req) any { f.AddToken(in.Token); return ok })
	handle("accept", func(in req) bool { return in.Login != "" }, func(in req) any {
		return map[string]int{"accepted": f.AcceptInvitation(in.Email, in.Login)}
	})
}
