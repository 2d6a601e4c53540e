package consolefake

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/idsync/idsync/pkg/fakehttp"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	fakehttp.WriteError(w, fakehttp.Console, status, msg)
}

// token implements the client-credentials grant with client_secret_basic.
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	f.mu.Lock()
	want, known := f.accounts[id]
	ttl := f.tokenTTL
	f.mu.Unlock()
	if !ok || !known || want != secret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	tok := newToken()
	f.mu.Lock()
	f.tokens[tok] = f.now().Add(ttl)
	f.issued++
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(ttl.Seconds())})
}

func (f *Fake) auth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		exp, known := f.tokens[tok]
		expired := known && !f.now().Before(exp)
		f.mu.Unlock()
		if !ok || !known || expired {
			fail(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		h(w, r)
	})
}

type userJSON struct {
	UserID       string      `json:"userId"`
	Email        string      `json:"email"`
	FullName     string      `json:"fullname"`
	Name         string      `json:"name"`
	CompanyRoles []string    `json:"companyRoles"`
	Groups       []groupJSON `json:"groups"`
}

type groupJSON struct {
	ID   string `json:"_id"`
	Name string `json:"name"`
}

type envJSON struct {
	EnvID string   `json:"envId"`
	Roles []string `json:"roles"`
}

type projJSON struct {
	ID           string    `json:"_id"`
	Roles        []string  `json:"roles"`
	Environments []envJSON `json:"environments"`
}

type identityJSON struct {
	IdentityID   string     `json:"identityId"`
	Name         string     `json:"name"`
	IdentityType string     `json:"identityType"`
	CompanyRoles []string   `json:"companyRoles"`
	Projects     []projJSON `json:"projects"`
}

func page[T any](w http.ResponseWriter, r *http.Request, items []T) {
	p, per := fakehttp.PageParams(r.URL.Query(), 25, 200)
	slice, pages := fakehttp.Slice(items, p, per)
	w.Header().Set("x-total-pages", strconv.Itoa(pages))
	w.Header().Set("x-total-items", strconv.Itoa(len(items)))
	writeJSON(w, http.StatusOK, slice)
}

func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	c := f.company(r.PathValue("company"))
	var out []userJSON
	for id, b := range c.users {
		u := userJSON{UserID: id, Email: f.platform[id], FullName: id, Name: id, CompanyRoles: nonNil(b.companyRoles), Groups: []groupJSON{}}
		for gid, g := range c.groups {
			for _, m := range g.members {
				if m == id {
					u.Groups = append(u.Groups, groupJSON{ID: gid, Name: g.name})
				}
			}
		}
		out = append(out, u)
	}
	f.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	page(w, r, out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func projectsJSON(b *binding) []projJSON {
	out := []projJSON{}
	for pid, pb := range b.projects {
		p := projJSON{ID: pid, Roles: nonNil(pb.roles), Environments: []envJSON{}}
		for env, roles := range pb.envs {
			p.Environments = append(p.Environments, envJSON{EnvID: env, Roles: roles})
		}
		sort.Slice(p.Environments, func(i, j int) bool { return p.Environments[i].EnvID < p.Environments[j].EnvID })
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (f *Fake) listIdentities(w http.ResponseWriter, r *http.Request) {
	types := r.URL.Query()["identityType"]
	want := func(t string) bool {
		if len(types) == 0 {
			return true
		}
		for _, x := range types {
			if x == t {
				return true
			}
		}
		return false
	}
	f.mu.Lock()
	c := f.company(r.PathValue("company"))
	var out []identityJSON
	if want("user") {
		for id, b := range c.users {
			out = append(out, identityJSON{IdentityID: id, Name: id, IdentityType: "user", CompanyRoles: nonNil(b.companyRoles), Projects: projectsJSON(b)})
		}
	}
	if want("group") {
		for gid, g := range c.groups {
			b := g.binding
			out = append(out, identityJSON{IdentityID: gid, Name: g.name, IdentityType: "group", CompanyRoles: nonNil(b.companyRoles), Projects: projectsJSON(&b)})
		}
	}
	f.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		return out[i].IdentityType+out[i].IdentityID < out[j].IdentityType+out[j].IdentityID
	})
	page(w, r, out)
}

func (f *Fake) addUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Email == "" || body.Role == "" {
		fail(w, http.StatusBadRequest, "email and role are required")
		return
	}
	switch body.Role {
	case "guest", "reporter", "developer", "maintainer", "project-admin", "company-owner":
	default:
		fail(w, http.StatusBadRequest, "invalid role")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.userByEmail(body.Email)
	if !ok {
		fail(w, http.StatusNotFound, "user not found")
		return
	}
	c := f.company(r.PathValue("company"))
	if _, exists := c.users[id]; exists {
		fail(w, http.StatusConflict, "user already in company")
		return
	}
	f.member(r.PathValue("company"), id).companyRoles = []string{body.Role}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) deleteUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.removeUser(r.PathValue("company"), r.PathValue("user")) {
		fail(w, http.StatusNotFound, "user not found in company")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) getProject(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	p, ok := f.projects[r.PathValue("project")]
	var cp Project
	if ok {
		cp = *p
	}
	f.mu.Unlock()
	if !ok {
		fail(w, http.StatusNotFound, "project not found")
		return
	}
	writeJSON(w, http.StatusOK, cp)
}
