// Package gitlabfake is a stateful in-memory GitLab REST API v4 for tests and
// the demo mode: users (active, blocked, deactivated; last activity), groups
// by full path and numeric id with subgroups, and direct group members with
// access levels. It serves exactly the endpoints idsync's gitlab-sync calls
// through client-go (listing users and a group's direct members included,
// for reconciliation), with GitLab's page-number pagination (x-page,
// x-per-page, x-total, x-total-pages, x-next-page, Link), PRIVATE-TOKEN
// authentication, GitLab-style error bodies and status codes (409 for an
// existing member, 404 for a member that is not direct, 403 when
// deactivating a recently active user), and fakehttp faults in GitLab style
// (latency, failures on demand, RateLimit-* headers and 429s).
//
// The handler serves under any base URL: client-go appends /api/v4/, and
// everything up to and including /api/v4 is ignored.
package gitlabfake

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idsync/idsync/pkg/fakehttp"
)

// User states GitLab reports.
const (
	StateActive      = "active"
	StateBlocked     = "blocked"
	StateDeactivated = "deactivated"
	StateLDAPBlocked = "ldap_blocked"
)

// Access levels of group members.
const (
	Guest      = 10
	Planner    = 15
	Reporter   = 20
	Developer  = 30
	Maintainer = 40
	Owner      = 50
)

// DeactivationInactivity is how long a user must have been inactive before
// GitLab lets an administrator deactivate them.
const DeactivationInactivity = 90 * 24 * time.Hour

// User is a GitLab user.
type User struct {
	ID       int64
	Username string
	Email    string
	Name     string
	// State is active (default), blocked, deactivated or ldap_blocked.
	State    string
	External bool
	// Bot marks a bot: a group or project access token's user, or a
	// service account.
	Bot bool
	// LastActivity is the last sign-in or API activity; zero = never.
	LastActivity time.Time
	// Created holds the creation options given to POST /users.
	SkipConfirmation, ForceRandomPassword, ResetPassword bool
	CreatedAt                                            time.Time
}

// Group is a GitLab group.
type Group struct {
	ID       int64
	FullPath string
	Name     string
	ParentID int64
}

// Fake is the GitLab instance.
type Fake struct {
	mu      sync.Mutex
	tokens  map[string]bool
	users   map[int64]*User
	groups  map[int64]*Group
	paths   map[string]int64        // lower-case full path → group id
	members map[int64]map[int64]int // group id → user id → access level
	nextID  int64
	faults  *fakehttp.Faults
	now     func() time.Time
}

// New returns an empty GitLab that accepts the given personal access tokens.
func New(tokens ...string) *Fake {
	f := &Fake{
		tokens: map[string]bool{}, users: map[int64]*User{}, groups: map[int64]*Group{},
		paths: map[string]int64{}, members: map[int64]map[int64]int{},
		faults: fakehttp.NewFaults(fakehttp.GitLab), now: time.Now,
	}
	for _, t := range tokens {
		f.tokens[t] = true
	}
	return f
}

// Faults controls latency, failures and rate limits.
func (f *Fake) Faults() *fakehttp.Faults { return f.faults }

// AddToken accepts another personal access token.
func (f *Fake) AddToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[token] = true
}

// Handler serves the REST API.
func (f *Fake) Handler() http.Handler { return f.faults.Wrap(http.HandlerFunc(f.serve)) }

func (f *Fake) id() int64 {
	f.nextID++
	return f.nextID
}

// AddUser creates a user (id assigned; state active unless given) and
// returns it.
func (f *Fake) AddUser(u User) User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.addUser(u)
}

func (f *Fake) addUser(u User) *User {
	u.ID = f.id()
	if u.State == "" {
		u.State = StateActive
	}
	if u.Username == "" {
		u.Username, _, _ = strings.Cut(u.Email, "@")
	}
	if u.Name == "" {
		u.Name = u.Username
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = f.now().UTC()
	}
	f.users[u.ID] = &u
	return &u
}

// User returns a user by id.
func (f *Fake) User(id int64) (User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[id]; u != nil {
		return *u, true
	}
	return User{}, false
}

// UserByEmail returns the user with this email (case-insensitive).
func (f *Fake) UserByEmail(email string) (User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.sortedUsers() {
		if strings.EqualFold(u.Email, email) {
			return *u, true
		}
	}
	return User{}, false
}

// Users returns every user, by id.
func (f *Fake) Users() []User {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []User
	for _, u := range f.sortedUsers() {
		out = append(out, *u)
	}
	return out
}

func (f *Fake) sortedUsers() []*User {
	out := make([]*User, 0, len(f.users))
	for _, u := range f.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SetState sets a user's state (active, blocked, deactivated, ldap_blocked).
func (f *Fake) SetState(id int64, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[id]; u != nil {
		u.State = state
	}
}

// SetLastActivity records a user's last activity.
func (f *Fake) SetLastActivity(id int64, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[id]; u != nil {
		u.LastActivity = at
	}
}

// AddGroup creates a group by full path (parents included, as needed) and
// returns it; an existing group is returned as is.
func (f *Fake) AddGroup(fullPath string) Group {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.addGroup(strings.Trim(fullPath, "/"))
}

func (f *Fake) addGroup(fullPath string) *Group {
	if id, ok := f.paths[strings.ToLower(fullPath)]; ok {
		return f.groups[id]
	}
	var parent int64
	name := fullPath
	if i := strings.LastIndex(fullPath, "/"); i >= 0 {
		parent, name = f.addGroup(fullPath[:i]).ID, fullPath[i+1:]
	}
	g := &Group{ID: f.id(), FullPath: fullPath, Name: name, ParentID: parent}
	f.groups[g.ID] = g
	f.paths[strings.ToLower(fullPath)] = g.ID
	return g
}

func (f *Fake) groupByPath(fullPath string) *Group {
	if id, ok := f.paths[strings.ToLower(strings.Trim(fullPath, "/"))]; ok {
		return f.groups[id]
	}
	return nil
}

// SetMember makes a user a direct member of a group (created if needed)
// with an access level; level 0 removes the membership.
func (f *Fake) SetMember(fullPath string, userID int64, level int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.addGroup(strings.Trim(fullPath, "/"))
	if level == 0 {
		delete(f.members[g.ID], userID)
		return
	}
	if f.members[g.ID] == nil {
		f.members[g.ID] = map[int64]int{}
	}
	f.members[g.ID][userID] = level
}

// Member returns a user's direct access level in a group.
func (f *Fake) Member(fullPath string, userID int64) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groupByPath(fullPath)
	if g == nil {
		return 0, false
	}
	l, ok := f.members[g.ID][userID]
	return l, ok
}

// Members returns the direct members of a group: user id → access level.
func (f *Fake) Members(fullPath string) map[int64]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64]int{}
	if g := f.groupByPath(fullPath); g != nil {
		for u, l := range f.members[g.ID] {
			out[u] = l
		}
	}
	return out
}

// Memberships returns the full paths of the groups a user is a direct
// member of, sorted.
func (f *Fake) Memberships(userID int64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for gid, ms := range f.members {
		if _, ok := ms[userID]; ok {
			out = append(out, f.groups[gid].FullPath)
		}
	}
	slices.Sort(out)
	return out
}

// inherited is the highest access level a user holds in the ancestors of g.
func (f *Fake) inherited(g *Group, userID int64) (int, *Group) {
	best, from := 0, (*Group)(nil)
	for p := f.groups[g.ParentID]; p != nil; p = f.groups[p.ParentID] {
		if l := f.members[p.ID][userID]; l > best {
			best, from = l, p
		}
	}
	return best, from
}

// descendants lists the groups below g.
func (f *Fake) descendants(g *Group) []*Group {
	var out []*Group
	prefix := strings.ToLower(g.FullPath) + "/"
	for p, id := range f.paths {
		if strings.HasPrefix(p, prefix) {
			out = append(out, f.groups[id])
		}
	}
	return out
}
