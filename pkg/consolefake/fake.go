// Package consolefake is a stateful in-memory Mia-Platform Console API for
// tests and the demo mode: platform users, companies with user and group role
// bindings at company, project and environment level, projects with
// environments, service accounts with expiring client-credentials tokens,
// page-number pagination with x-total-pages, and faults on demand.
package consolefake

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idsync/idsync/pkg/fakehttp"
)

// Fake is the Console.
type Fake struct {
	mu        sync.Mutex
	accounts  map[string]string    // client id → secret
	tokens    map[string]time.Time // token → expiry
	tokenTTL  time.Duration
	issued    int
	platform  map[string]string // user id → email
	companies map[string]*company
	projects  map[string]*Project
	faults    *fakehttp.Faults
	now       func() time.Time
}

type binding struct {
	companyRoles []string
	projects     map[string]*projectBinding
}

type projectBinding struct {
	roles []string
	envs  map[string][]string
}

type company struct {
	users  map[string]*binding // user id → direct bindings (presence = member)
	groups map[string]*group
}

type group struct {
	name    string
	binding binding
	members []string
}

// Environment of a project.
type Environment struct {
	EnvID        string `json:"envId"`
	Label        string `json:"label"`
	IsProduction bool   `json:"isProduction"`
}

// Project is a Console project.
type Project struct {
	ID           string        `json:"_id"`
	ProjectID    string        `json:"projectId"`
	TenantID     string        `json:"tenantId"`
	Name         string        `json:"name"`
	Environments []Environment `json:"environments"`
}

// New returns an empty Console.
func New() *Fake {
	return &Fake{
		accounts: map[string]string{}, tokens: map[string]time.Time{}, tokenTTL: time.Hour,
		platform: map[string]string{}, companies: map[string]*company{}, projects: map[string]*Project{},
		faults: fakehttp.NewFaults(fakehttp.Console), now: time.Now,
	}
}

// Faults controls latency, failures and rate limits.
func (f *Fake) Faults() *fakehttp.Faults { return f.faults }

// AddServiceAccount registers client credentials.
func (f *Fake) AddServiceAccount(clientID, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts[clientID] = secret
}

// SetTokenTTL sets the lifetime of issued tokens (expires_in).
func (f *Fake) SetTokenTTL(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenTTL = d
}

// TokensIssued counts the tokens issued so far.
func (f *Fake) TokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

// AddPlatformUser makes a user exist in the Console (as the IdP sync would).
func (f *Fake) AddPlatformUser(userID, email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.platform[userID] = email
}

// AddProject adds a project of a company.
func (f *Fake) AddProject(companyID, projectID, name string, envs ...Environment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.company(companyID)
	f.projects[projectID] = &Project{ID: projectID, ProjectID: projectID, TenantID: companyID, Name: name, Environments: envs}
}

func (f *Fake) company(id string) *company {
	c := f.companies[id]
	if c == nil {
		c = &company{users: map[string]*binding{}, groups: map[string]*group{}}
		f.companies[id] = c
	}
	return c
}

func (f *Fake) member(companyID, userID string) *binding {
	c := f.company(companyID)
	b := c.users[userID]
	if b == nil {
		b = &binding{projects: map[string]*projectBinding{}}
		c.users[userID] = b
	}
	return b
}

func (b *binding) project(pid string) *projectBinding {
	if b.projects == nil {
		b.projects = map[string]*projectBinding{}
	}
	p := b.projects[pid]
	if p == nil {
		p = &projectBinding{envs: map[string][]string{}}
		b.projects[pid] = p
	}
	return p
}

// BindCompany gives a user a company role (making the user a member).
func (f *Fake) BindCompany(companyID, userID, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.member(companyID, userID)
	b.companyRoles = []string{role}
}

// BindProject gives a user a role on a project (making the user a member).
func (f *Fake) BindProject(companyID, userID, projectID, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.member(companyID, userID).project(projectID).roles = []string{role}
}

// BindEnvironment gives a user a role on one environment.
func (f *Fake) BindEnvironment(companyID, userID, projectID, envID, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.member(companyID, userID).project(projectID).envs[envID] = []string{role}
}

// UnbindProject removes a user's project role (and environment roles).
func (f *Fake) UnbindProject(companyID, userID, projectID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b := f.company(companyID).users[userID]; b != nil {
		delete(b.projects, projectID)
	}
}

// AddGroup adds a group with a company role ("" for none).
func (f *Fake) AddGroup(companyID, groupID, name, companyRole string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := &group{name: name}
	if companyRole != "" {
		g.binding.companyRoles = []string{companyRole}
	}
	f.company(companyID).groups[groupID] = g
}

// BindGroupProject gives a group a role on a project.
func (f *Fake) BindGroupProject(companyID, groupID, projectID, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.company(companyID).groups[groupID].binding.project(projectID).roles = []string{role}
}

// AddGroupMember puts a user in a group (which makes the user a company member).
func (f *Fake) AddGroupMember(companyID, groupID, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.company(companyID).groups[groupID]
	if !slices.Contains(g.members, userID) {
		g.members = append(g.members, userID)
	}
	f.member(companyID, userID)
}

// RemoveGroupMember takes a user out of a group.
func (f *Fake) RemoveGroupMember(companyID, groupID, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.company(companyID).groups[groupID]
	g.members = slices.DeleteFunc(g.members, func(m string) bool { return m == userID })
}

// RemoveUser removes a user from a company (direct roles and groups).
func (f *Fake) RemoveUser(companyID, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removeUser(companyID, userID)
}

func (f *Fake) removeUser(companyID, userID string) bool {
	c := f.company(companyID)
	_, ok := c.users[userID]
	delete(c.users, userID)
	for _, g := range c.groups {
		g.members = slices.DeleteFunc(g.members, func(m string) bool { return m == userID })
	}
	return ok
}

// InCompany reports whether a user is a member of a company.
func (f *Fake) InCompany(companyID, userID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.company(companyID).users[userID]
	return ok
}

// CompanyRoles returns a user's direct company roles.
func (f *Fake) CompanyRoles(companyID, userID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b := f.company(companyID).users[userID]; b != nil {
		return slices.Clone(b.companyRoles)
	}
	return nil
}

// Members lists a company's user ids, sorted.
func (f *Fake) Members(companyID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := range f.company(companyID).users {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (f *Fake) userByEmail(email string) (string, bool) {
	for id, e := range f.platform {
		if strings.EqualFold(e, email) {
			return id, true
		}
	}
	return "", false
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Handler serves the Console API.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/m2m/oauth/token", f.token)
	mux.Handle("GET /api/companies/{company}/users", f.auth(f.listUsers))
	mux.Handle("POST /api/companies/{company}/users", f.auth(f.addUser))
	mux.Handle("DELETE /api/companies/{company}/users/{user}", f.auth(f.deleteUser))
	mux.Handle("GET /api/companies/{company}/identities", f.auth(f.listIdentities))
	mux.Handle("GET /api/backend/projects/{project}/", f.auth(f.getProject))
	return f.faults.Wrap(mux, "/api/m2m/")
}
