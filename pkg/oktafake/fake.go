// Package oktafake is a stateful in-memory Okta Management API for tests and
// the demo mode: users (by id or login) and their lifecycle, groups, group
// memberships, the System Log (GET /api/v1/logs, with the lifecycle events
// the API's changes log), cursor pagination with Link headers as Okta pages
// (after=…), SSWS token authentication, Okta's error bodies and
// X-Rate-Limit-* headers, and faults on demand.
package oktafake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idsync/idsync/pkg/fakehttp"
)

// User is an Okta user.
type User struct {
	ID      string  `json:"id"`
	Status  string  `json:"status"`
	Created string  `json:"created"`
	Profile Profile `json:"profile"`
}

// Profile is the part of the user profile the fake keeps.
type Profile struct {
	Login     string `json:"login"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}

// Group is an Okta group.
type Group struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"`
	Created string       `json:"created"`
	Profile GroupProfile `json:"profile"`
}

// GroupProfile is a group's profile.
type GroupProfile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Fake is the Okta org.
type Fake struct {
	mu      sync.Mutex
	token   string
	users   map[string]*User
	groups  map[string]*Group
	members map[string]map[string]bool // group id → user ids
	faults  *fakehttp.Faults
	base    string
	pageMax int
	log     systemLog
}

// New returns an empty org that accepts the API token.
func New(token string) *Fake {
	return &Fake{token: token, users: map[string]*User{}, groups: map[string]*Group{}, members: map[string]map[string]bool{},
		faults: fakehttp.NewFaults(fakehttp.Okta), pageMax: 200}
}

// Faults controls latency, failures and rate limits.
func (f *Fake) Faults() *fakehttp.Faults { return f.faults }

// SetBaseURL tells the fake its own URL, for Link headers.
func (f *Fake) SetBaseURL(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.base = strings.TrimRight(u, "/")
}

// SetPageMax caps the page size (limit), to exercise pagination.
func (f *Fake) SetPageMax(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageMax = n
}

func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// AddUser adds an ACTIVE user and returns its id.
func (f *Fake) AddUser(login, first, last string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := newID("00u")
	f.users[id] = &User{ID: id, Status: "ACTIVE", Created: time.Now().UTC().Format(time.RFC3339),
		Profile: Profile{Login: login, Email: login, FirstName: first, LastName: last}}
	return id
}

// AddGroup adds an OKTA_GROUP and returns its id.
func (f *Fake) AddGroup(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addGroup(name, "")
}

func (f *Fake) addGroup(name, desc string) string {
	id := newID("00g")
	f.groups[id] = &Group{ID: id, Type: "OKTA_GROUP", Created: time.Now().UTC().Format(time.RFC3339), Profile: GroupProfile{Name: name, Description: desc}}
	f.members[id] = map[string]bool{}
	return id
}

// GroupID finds a group by exact name.
func (f *Fake) GroupID(name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, g := range f.groups {
		if g.Profile.Name == name {
			return id, true
		}
	}
	return "", false
}

// AddMember puts a user in a group (as an admin would by hand).
func (f *Fake) AddMember(groupID, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[groupID][userID] = true
}

// Members lists the logins in a group, sorted.
func (f *Fake) Members(groupName string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id, g := range f.groups {
		if g.Profile.Name != groupName {
			continue
		}
		for uid := range f.members[id] {
			out = append(out, f.users[uid].Profile.Login)
		}
	}
	sort.Strings(out)
	return out
}

// GroupNames lists every group name, sorted.
func (f *Fake) GroupNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, g := range f.groups {
		out = append(out, g.Profile.Name)
	}
	sort.Strings(out)
	return out
}

func (f *Fake) user(idOrLogin string) *User {
	if u := f.users[idOrLogin]; u != nil {
		return u
	}
	for _, u := range f.users {
		if strings.EqualFold(u.Profile.Login, idOrLogin) {
			return u
		}
	}
	return nil
}

// Handler serves the Management API.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/users", f.listUsers)
	mux.HandleFunc("GET /api/v1/users/{id}", f.getUser)
	mux.HandleFunc("POST /api/v1/users", f.createUser)
	mux.HandleFunc("POST /api/v1/users/{id}/lifecycle/activate", f.activateUser)
	mux.HandleFunc("POST /api/v1/users/{id}/lifecycle/deactivate", f.deactivateUser)
	mux.HandleFunc("DELETE /api/v1/users/{id}", f.deleteUser)
	mux.HandleFunc("GET /api/v1/logs", f.listLogs)
	mux.HandleFunc("GET /api/v1/users/{id}/groups", f.userGroups)
	mux.HandleFunc("GET /api/v1/groups", f.listGroups)
	mux.HandleFunc("POST /api/v1/groups", f.createGroup)
	mux.HandleFunc("GET /api/v1/groups/{gid}/users", f.groupUsers)
	mux.HandleFunc("PUT /api/v1/groups/{gid}/users/{uid}", f.assign)
	mux.HandleFunc("DELETE /api/v1/groups/{gid}/users/{uid}", f.unassign)
	return f.faults.Wrap(f.auth(mux))
}

func (f *Fake) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "SSWS "+f.token {
			fakehttp.WriteError(w, fakehttp.Okta, http.StatusUnauthorized, "Invalid token provided")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter, what string) {
	fakehttp.WriteError(w, fakehttp.Okta, http.StatusNotFound, "Not found: Resource not found: "+what)
}

// page answers one page of items using Okta's cursor pagination: ?limit=n
// and an opaque ?after= cursor, with Link rel="next" while more remain.
func page[T any](f *Fake, w http.ResponseWriter, r *http.Request, items []T) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	f.mu.Lock()
	max, base := f.pageMax, f.base
	f.mu.Unlock()
	if limit <= 0 || limit > max {
		limit = max
	}
	start := 0
	if a := q.Get("after"); a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Api validation failed: after")
			return
		}
		start = n
	}
	end := min(start+limit, len(items))
	if start > len(items) {
		start = len(items)
	}
	links := []string{fmt.Sprintf("<%s%s>; rel=\"self\"", base, r.URL.RequestURI())}
	if end < len(items) {
		u := *r.URL
		nq := u.Query()
		nq.Set("after", base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end))))
		nq.Set("limit", strconv.Itoa(limit))
		u.RawQuery = nq.Encode()
		links = append(links, fmt.Sprintf("<%s%s>; rel=\"next\"", base, u.RequestURI()))
	}
	for _, l := range links {
		w.Header().Add("Link", l)
	}
	writeJSON(w, http.StatusOK, items[start:end])
}

func (f *Fake) getUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u := f.user(r.PathValue("id"))
	var cp User
	if u != nil {
		cp = *u
	}
	f.mu.Unlock()
	if u == nil {
		notFound(w, r.PathValue("id")+" (User)")
		return
	}
	writeJSON(w, http.StatusOK, cp)
}

func (f *Fake) sortedGroups(filter func(*Group) bool) []Group {
	var out []Group
	for _, g := range f.groups {
		if filter(g) {
			out = append(out, *g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (f *Fake) userGroups(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u := f.user(r.PathValue("id"))
	var out []Group
	if u != nil {
		out = f.sortedGroups(func(g *Group) bool { return f.members[g.ID][u.ID] })
	}
	f.mu.Unlock()
	if u == nil {
		notFound(w, r.PathValue("id")+" (User)")
		return
	}
	page(f, w, r, nonNil(out))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// searchName reads the one search expression idsync sends:
// profile.name eq "<name>".
func searchName(search string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(search), "profile.name eq ")
	if !ok {
		return "", false
	}
	name, err := strconv.Unquote(rest)
	return name, err == nil
}

func (f *Fake) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var match func(*Group) bool
	switch {
	case q.Get("search") != "":
		name, ok := searchName(q.Get("search"))
		if !ok {
			fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Invalid search criteria.")
			return
		}
		match = func(g *Group) bool { return g.Profile.Name == name }
	case q.Get("q") != "":
		prefix := strings.ToLower(q.Get("q"))
		match = func(g *Group) bool { return strings.HasPrefix(strings.ToLower(g.Profile.Name), prefix) }
	default:
		match = func(*Group) bool { return true }
	}
	f.mu.Lock()
	out := f.sortedGroups(match)
	f.mu.Unlock()
	page(f, w, r, nonNil(out))
}

func (f *Fake) createGroup(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Profile GroupProfile `json:"profile"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Profile.Name == "" {
		fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Api validation failed: name")
		return
	}
	f.mu.Lock()
	for _, g := range f.groups {
		if g.Profile.Name == body.Profile.Name {
			f.mu.Unlock()
			fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Api validation failed: name: An object with this field already exists in the current organization")
			return
		}
	}
	id := f.addGroup(body.Profile.Name, body.Profile.Description)
	g := *f.groups[id]
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, g)
}

func (f *Fake) groupUsers(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	m, ok := f.members[r.PathValue("gid")]
	var out []User
	for uid := range m {
		out = append(out, *f.users[uid])
	}
	f.mu.Unlock()
	if !ok {
		notFound(w, r.PathValue("gid")+" (UserGroup)")
		return
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	page(f, w, r, nonNil(out))
}

func (f *Fake) membership(w http.ResponseWriter, r *http.Request) (map[string]bool, string, bool) {
	m, ok := f.members[r.PathValue("gid")]
	if !ok {
		notFound(w, r.PathValue("gid")+" (UserGroup)")
		return nil, "", false
	}
	if f.users[r.PathValue("uid")] == nil {
		notFound(w, r.PathValue("uid")+" (User)")
		return nil, "", false
	}
	return m, r.PathValue("uid"), true
}

func (f *Fake) assign(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, uid, ok := f.membership(w, r)
	if !ok {
		return
	}
	m[uid] = true
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) unassign(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, uid, ok := f.membership(w, r)
	if !ok {
		return
	}
	delete(m, uid)
	w.WriteHeader(http.StatusNoContent)
}
