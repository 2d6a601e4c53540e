package githubsync_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/githubfake"
	"github.com/idsync/idsync/pkg/identity"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	githubsync "github.com/idsync/idsync/services/github-sync"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

// rules: developers join the org and their project's team, project admins
// maintain the team, and a deleted Okta user leaves the org.
const orgRules = `version: 1
rules:
  - id: devs
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions:
      github:
        organizations: [{name: acme, role: member}]
        teams: [{organization: acme, name: "{{projectId}}", role: member}]
  - id: admins
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.project.users.manage]}
    actions:
      github:
        teams: [{organization: acme, name: "{{projectId}}", role: maintainer}]
  - id: leave
    scope: {event: okta.delete.user}
    actions:
      github:
        organizations: [{name: acme}]
`

// teamRules grant team memberships only (the built-in rules' shape).
const teamRules = `version: 1
rules:
  - id: devs
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions:
      github:
        teams: [{organization: acme, name: "{{projectId}}", role: member}]
`

const (
	company = "acme-co"
	ghToken = "ghp_test_token_123"
)

type env struct {
	gh      *githubfake.Fake
	console *consolefake.Fake
	okta    *oktafake.Fake // nil unless setup.okta
	h       *synctest.Harness
	ids     *identity.Map
}

type setup struct {
	opts synctest.Options
	// noGitHub runs without GitHub credentials; noConsole without the Console API.
	noGitHub, noConsole bool
	identityFile        string
	latency             time.Duration
	// okta gives the service Okta as a source (an Okta fake).
	okta bool
	// pageSize > 0 makes GitHub listings ask for pages that small.
	pageSize int
}

// start runs github-sync against a GitHub fake (org acme, teams p1 and p2,
// users ann and bob) and a Console fake (company acme-co).
func start(t testing.TB, s setup) env {
	t.Helper()
	g := githubfake.New()
	g.AddToken(ghToken)
	g.AddOrg("acme")
	g.AddTeam("acme", "p1")
	g.AddTeam("acme", "p2")
	g.AddUser("ann", "")
	g.AddUser("bob", "")
	g.Faults().SetLatency(s.latency)
	gsrv := httptest.NewServer(g.Handler())
	t.Cleanup(gsrv.Close)

	c := consolefake.New()
	c.AddServiceAccount("idsync", "console-sa-secret-123")
	c.AddPlatformUser("u1", "ann@example.com")
	c.AddPlatformUser("u2", "bob@example.com")
	csrv := httptest.NewServer(c.Handler())
	t.Cleanup(csrv.Close)

	o := s.opts
	if o.Rules == "" {
		o.Rules = orgRules
	}
	if !s.noConsole {
		o.Console = console.Config{URL: csrv.URL, ClientID: "idsync", ClientSecret: config.Secret("console-sa-secret-123"), Timeout: 5 * time.Second}
	}
	var of *oktafake.Fake
	if s.okta {
		of = oktafake.New("okta-token")
		osrv := httptest.NewServer(of.Handler())
		t.Cleanup(osrv.Close)
		of.SetBaseURL(osrv.URL)
		o.Okta = okta.Config{OrgURL: osrv.URL, APIToken: config.Secret("okta-token"), Timeout: 5 * time.Second}
	}
	var cfg githubsync.Config
	cfg.GitHub = githubsync.GitHubConfig{APIURL: gsrv.URL + g.BasePath(), Timeout: 5 * time.Second, IdentityFile: s.identityFile}
	if !s.noGitHub {
		cfg.GitHub.Token = config.Secret(ghToken)
	}
	var gh githubsync.GitHub
	if s.pageSize > 0 {
		c, err := ghapi.New(ghapi.Options{APIURL: cfg.GitHub.APIURL, Token: ghToken, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		c.SetPageSize(s.pageSize)
		gh = c
	}
	h := synctest.Start(t, githubsync.Spec(cfg, gh), o)
	kv, err := bus.KeyValue(context.Background(), h.Conn.JS, h.NS, bus.BucketIdentities, 1)
	if err != nil {
		t.Fatal(err)
	}
	return env{gh: g, console: c, okta: of, h: h, ids: identity.Open(kv)}
}

// mapLogin puts email → login in the identity map.
func (e env) mapLogin(t testing.TB, email, login string) {
	t.Helper()
	if err := e.ids.Set(context.Background(), email, login, identity.SourceCLI); err != nil {
		t.Fatal(err)
	}
}

func permission(id string, change eventsv1.PermissionChange, userID, email, role, project string) events.Event {
	return synctest.PermissionEvent(id, change, userID, email, role, company, project, "")
}

const (
	added   = eventsv1.PermissionChange_PERMISSION_CHANGE_ADDED
	edited  = eventsv1.PermissionChange_PERMISSION_CHANGE_EDITED
	removed = eventsv1.PermissionChange_PERMISSION_CHANGE_REMOVED
)

// settle waits until the consumer has settled every event published so far.
func (e env) settle(t testing.TB) {
	t.Helper()
	e.h.WaitSettled()
}
