// Package githubfake is a stateful in-memory GitHub REST API for tests and
// the demo mode: users, organizations, organization memberships (role
// member or admin; state active, or pending until the invitation is
// accepted), teams by slug with numeric ids, team memberships (member or
// maintainer), and organization invitations by email or login with team
// ids. It serves what go-github calls for org and team membership (one
// person's, and the member listings by role, which like GitHub's show
// active members only) and invitations, mounted under a non-empty base
// path (default /api/v3/, the GitHub Enterprise Server layout) so that a
// client building absolute paths fails loudly. Listings paginate with
// per_page and Link headers; requests authenticate with a token
// ("Bearer" or "token") or an installation token minted by POST
// /app/installations/{id}/access_tokens with a GitHub App JWT (RS256,
// checked against the app's public key). Errors have GitHub's {message,
// documentation_url} shape; faults (latency, failures, the primary rate
// limit as 403 with x-ratelimit-remaining 0, secondary limits with
// Retry-After) come on demand.
package githubfake

import (
	"crypto/rsa"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/idsync/idsync/pkg/fakehttp"
)

// Org roles, team roles, states and invitation roles as GitHub spells them.
const (
	RoleMember     = "member"
	RoleAdmin      = "admin"
	RoleMaintainer = "maintainer"
	StateActive    = "active"
	StatePending   = "pending"
	InviteMember   = "direct_member"
	InviteAdmin    = "admin"
)

// DefaultBasePath is where the API is mounted unless New is given another.
const DefaultBasePath = "/api/v3/"

// Fake is GitHub.
type Fake struct {
	mu       sync.Mutex
	base     string
	users    map[string]*user // lower-cased login → user
	orgs     map[string]*org  // lower-cased name → org
	nextID   int64
	tokens   map[string]time.Time // token → expiry (zero: never)
	apps     map[int64]*rsa.PublicKey
	installs map[int64]int64 // installation id → app id
	tokenTTL time.Duration
	minted   int
	faults   *fakehttp.Faults
	limits   []*secondaryLimit
	now      func() time.Time
}

type user struct {
	id           int64
	login, email string
}

type org struct {
	id          int64
	name        string
	members     map[string]*membership // lower-cased login → membership
	teams       map[string]*team       // slug → team
	invitations map[int64]*invitation
}

type membership struct {
	login, role, state string
}

type team struct {
	id          int64
	slug, name  string
	members     map[string]*membership
	externalIdP bool
}

type invitation struct {
	id           int64
	email, login string
	role         string
	teamIDs      []int64
	created      time.Time
}

// Option configures a Fake.
type Option func(*Fake)

// WithBasePath mounts the API under p (e.g. "/api/v3/"; "/" for api.github.com's layout).
func WithBasePath(p string) Option {
	return func(f *Fake) { f.base = "/" + strings.Trim(p, "/") + "/" }
}

// New returns an empty GitHub.
func New(opts ...Option) *Fake {
	f := &Fake{
		base: DefaultBasePath, users: map[string]*user{}, orgs: map[string]*org{}, nextID: 1000,
		tokens: map[string]time.Time{}, apps: map[int64]*rsa.PublicKey{}, installs: map[int64]int64{},
		tokenTTL: time.Hour, faults: fakehttp.NewFaults(fakehttp.GitHub), now: time.Now,
	}
	for _, o := range opts {
		o(f)
	}
	if f.base == "//" {
		f.base = "/"
	}
	return f
}

// BasePath is where the API is mounted; a client's base URL is the
// server's URL followed by it.
func (f *Fake) BasePath() string { return f.base }

// Faults controls latency, failures and the primary rate limit.
func (f *Fake) Faults() *fakehttp.Faults { return f.faults }

func (f *Fake) id() int64 {
	f.nextID++
	return f.nextID
}

// Handler serves the API (and the management API under /_fake/).
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	b := f.base
	mux.HandleFunc("POST "+b+"app/installations/{id}/access_tokens", f.mintToken)
	api := http.NewServeMux()
	api.HandleFunc("GET "+b+"orgs/{org}", f.getOrg)
	api.HandleFunc("GET "+b+"orgs/{org}/memberships/{user}", f.getOrgMembership)
	api.HandleFunc("PUT "+b+"orgs/{org}/memberships/{user}", f.setOrgMembership)
	api.HandleFunc("DELETE "+b+"orgs/{org}/memberships/{user}", f.removeOrgMembership)
	api.HandleFunc("GET "+b+"orgs/{org}/members", f.listOrgMembers)
	api.HandleFunc("GET "+b+"orgs/{org}/teams/{slug}", f.getTeam)
	api.HandleFunc("GET "+b+"orgs/{org}/teams/{slug}/memberships/{user}", f.getTeamMembership)
	api.HandleFunc("PUT "+b+"orgs/{org}/teams/{slug}/memberships/{user}", f.setTeamMembership)
	api.HandleFunc("DELETE "+b+"orgs/{org}/teams/{slug}/memberships/{user}", f.removeTeamMembership)
	api.HandleFunc("GET "+b+"orgs/{org}/teams/{slug}/members", f.listTeamMembers)
	api.HandleFunc("GET "+b+"orgs/{org}/invitations", f.listInvitations)
	api.HandleFunc("POST "+b+"orgs/{org}/invitations", f.createInvitation)
	api.HandleFunc("DELETE "+b+"orgs/{org}/invitations/{id}", f.cancelInvitation)
	api.HandleFunc("GET "+b+"orgs/{org}/invitations/{id}/teams", f.invitationTeams)
	api.HandleFunc(b, func(w http.ResponseWriter, r *http.Request) { notFound(w) })
	mux.Handle(b, f.authenticate(f.secondary(api)))
	if b != "/" {
		// A client that drops the base path gets GitHub's 404.
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { notFound(w) })
	}
	f.mountAdmin(mux)
	return f.faults.Wrap(mux, b+"app/", "/_fake/")
}
