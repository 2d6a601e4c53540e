package github_test

// Contract tests: the GitHub fake (pkg/githubfake) driven through the real
// go-github v92 and ghinstallation, asserting what the SDK sees — paths
// under the base path, pagination through resp.NextPage, invitations,
// 404s, rate-limit errors — and how the adapter classifies it.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	gh "github.com/google/go-github/v92/github"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/githubfake"
	"github.com/idsync/idsync/pkg/ratelimit"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

const token = "ghp_contract"

type env struct {
	fake   *githubfake.Fake
	srv    *httptest.Server
	apiURL string
	c      *ghapi.Client
}

func setup(t *testing.T) env {
	t.Helper()
	f := githubfake.New()
	f.AddToken(token)
	f.AddOrg("acme")
	f.AddUser("ann", "ann@example.com")
	f.AddUser("bob", "")
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	e := env{fake: f, srv: srv, apiURL: srv.URL + f.BasePath()}
	c, err := ghapi.New(ghapi.Options{APIURL: e.apiURL, Token: token, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	return e
}

// sdk is a plain go-github client on the fake.
func (e env) sdk(t *testing.T) *gh.Client {
	t.Helper()
	c, err := gh.NewClient(gh.WithURLs(&e.apiURL, &e.apiURL), gh.WithAuthToken(token), gh.WithDisableRateLimitCheck())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPaginationFollowsNextPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	devs := e.fake.AddTeam("acme", "devs")
	ctx := context.Background()
	for _, email := range []string{"a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"} {
		if _, err := e.c.Invite(ctx, "acme", email, ghapi.InviteMember, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.Invite(ctx, "acme", "Zed@X.io", ghapi.InviteAdmin, []int64{devs}); err != nil {
		t.Fatal(err)
	}
	var emails []string
	var nexts []int
	opts := &gh.ListOptions{PerPage: 3}
	for {
		page, resp, err := e.sdk(t).Organizations.ListPendingOrgInvitations(ctx, "acme", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range page {
			emails = append(emails, inv.GetEmail())
		}
		nexts = append(nexts, resp.NextPage)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if !slices.Equal(nexts, []int{2, 3, 0}) || len(emails) != 7 || emails[6] != "zed@x.io" {
		t.Fatalf("pages %v, emails %v", nexts, emails)
	}
	// The adapter reads every page and the invitation's teams.
	e.c.SetPageSize(2)
	invs, err := e.c.Invitations(ctx, "acme", "zed@x.io")
	if err != nil || len(invs) != 1 || invs[0].Role != ghapi.InviteAdmin || !slices.Equal(invs[0].TeamIDs, []int64{devs}) {
		t.Fatalf("invitations %+v %v", invs, err)
	}
}

func TestMembershipOperations(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.fake.AddTeam("acme", "devs")
	ctx := context.Background()
	steps := []struct {
		name string
		do   func() (any, error)
		want any
		// class of the error, Unknown for none.
		class errclass.Class
	}{
		{"org exists", func() (any, error) { return e.c.OrgExists(ctx, "acme") }, true, errclass.Unknown},
		{"unknown org", func() (any, error) { return e.c.OrgExists(ctx, "nope") }, false, errclass.Unknown},
		{"non-member", func() (any, error) { _, ok, err := e.c.OrgMembership(ctx, "acme", "ann"); return ok, err }, false, errclass.Unknown},
		{"invite to the org", func() (any, error) { return nil, e.c.SetOrgMembership(ctx, "acme", "ann", "member") }, nil, errclass.Unknown},
		{"pending membership", func() (any, error) { m, _, err := e.c.OrgMembership(ctx, "acme", "ann"); return m, err },
			ghapi.Membership{Role: "member", State: "pending"}, errclass.Unknown},
		{"unknown user", func() (any, error) { return nil, e.c.SetOrgMembership(ctx, "acme", "nobody", "member") }, nil, errclass.NotFound},
		{"bad role", func() (any, error) { return nil, e.c.SetOrgMembership(ctx, "acme", "ann", "owner") }, nil, errclass.Permanent},
		{"team id", func() (any, error) { id, ok, err := e.c.Team(ctx, "acme", "devs"); return ok && id > 0, err }, true, errclass.Unknown},
		{"unknown team", func() (any, error) { _, ok, err := e.c.Team(ctx, "acme", "nope"); return ok, err }, false, errclass.Unknown},
		{"add to team", func() (any, error) { return nil, e.c.SetTeamMembership(ctx, "acme", "devs", "ann", "maintainer") }, nil, errclass.Unknown},
		{"team membership", func() (any, error) { m, _, err := e.c.TeamMembership(ctx, "acme", "devs", "ann"); return m, err },
			ghapi.Membership{Role: "maintainer", State: "pending"}, errclass.Unknown},
		{"remove from team", func() (any, error) { return nil, e.c.RemoveTeamMembership(ctx, "acme", "devs", "ann") }, nil, errclass.Unknown},
		{"remove from team again", func() (any, error) { return nil, e.c.RemoveTeamMembership(ctx, "acme", "devs", "ann") }, nil, errclass.NotFound},
		{"remove from org", func() (any, error) { return nil, e.c.RemoveOrgMembership(ctx, "acme", "ann") }, nil, errclass.Unknown},
		{"remove from org again", func() (any, error) { return nil, e.c.RemoveOrgMembership(ctx, "acme", "ann") }, nil, errclass.NotFound},
	}
	for _, s := range steps {
		got, err := s.do()
		if errclass.Of(err) != s.class || (s.class == errclass.Unknown && err != nil) {
			t.Fatalf("%s: error %v (class %s), want class %s", s.name, err, errclass.Of(err), s.class)
		}
		if s.want != nil && got != s.want {
			t.Fatalf("%s: %v, want %v", s.name, got, s.want)
		}
	}
}

func TestInvitationLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ops := e.fake.AddTeam("acme", "ops")
	ctx := context.Background()
	inv, err := e.c.Invite(ctx, "acme", "cid@example.com", ghapi.InviteMember, []int64{ops})
	if err != nil || inv.ID == 0 {
		t.Fatalf("invite: %+v %v", inv, err)
	}
	if _, err := e.c.Invite(ctx, "acme", "cid@example.com", ghapi.InviteMember, nil); errclass.Of(err) != errclass.Permanent {
		t.Fatalf("second invitation: %v, want Permanent (422)", err)
	}
	if _, err := e.c.Invitations(ctx, "nope", "cid@example.com"); errclass.Of(err) != errclass.NotFound {
		t.Fatalf("unknown org: %v", err)
	}
	if invs, err := e.c.Invitations(ctx, "acme", "CID@example.com"); err != nil || len(invs) != 1 || invs[0].ID != inv.ID {
		t.Fatalf("by email: %+v %v", invs, err)
	}
	if invs, _ := e.c.Invitations(ctx, "acme", "other@example.com"); len(invs) != 0 {
		t.Fatalf("another email matched: %+v", invs)
	}
	if err := e.c.CancelInvitation(ctx, "acme", inv.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.c.CancelInvitation(ctx, "acme", inv.ID); errclass.Of(err) != errclass.NotFound {
		t.Fatalf("cancel again: %v", err)
	}
	// Accepting turns the invitation into memberships.
	if _, err := e.c.Invite(ctx, "acme", "dan@example.com", ghapi.InviteAdmin, []int64{ops}); err != nil {
		t.Fatal(err)
	}
	e.fake.AcceptInvitation("dan@example.com", "dan")
	if m, ok, err := e.c.OrgMembership(ctx, "acme", "dan"); err != nil || !ok || m != (ghapi.Membership{Role: "admin", State: "active"}) {
		t.Fatalf("after accepting: %+v %v %v", m, ok, err)
	}
	if m, ok, _ := e.c.TeamMembership(ctx, "acme", "ops", "dan"); !ok || m.Role != "member" {
		t.Fatalf("team after accepting: %+v", m)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(e env)
		// call the adapter makes
		call      func(e env) error
		class     errclass.Class
		delay     time.Duration // for RateLimited: at least
		maxDelay  time.Duration // and at most
		sdkTarget any           // the go-github error type the SDK returns
	}{
		{name: "5xx is retryable",
			inject: func(e env) { e.fake.Faults().FailNext(1, 502, "", "/", 0) },
			class:  errclass.Retryable},
		{name: "403 on an IdP-synced team is permanent",
			inject: func(e env) { e.fake.AddTeam("acme", "synced"); e.fake.SetExternallyManaged("acme", "synced", true) },
			call: func(e env) error {
				return e.c.SetTeamMembership(context.Background(), "acme", "synced", "ann", "member")
			},
			class: errclass.Permanent, sdkTarget: new(*gh.ErrorResponse)},
		{name: "422 is permanent",
			call:  func(e env) error { return e.c.SetOrgMembership(context.Background(), "acme", "ann", "owner") },
			class: errclass.Permanent},
		{name: "404 is not found",
			call:  func(e env) error { return e.c.RemoveOrgMembership(context.Background(), "acme", "ann") },
			class: errclass.NotFound},
		{name: "primary limit: 403 with x-ratelimit-remaining 0 waits for the reset",
			inject: func(e env) { e.fake.Faults().FailNext(1, 403, "", "/", 0) },
			class:  errclass.RateLimited, delay: time.Second, maxDelay: 3 * time.Second, sdkTarget: new(*gh.RateLimitError)},
		{name: "429 with Retry-After waits as asked",
			inject: func(e env) { e.fake.Faults().FailNext(1, 429, "", "/", 5*time.Second) },
			class:  errclass.RateLimited, delay: 5 * time.Second, maxDelay: 5 * time.Second, sdkTarget: new(*gh.RateLimitError)},
		{name: "secondary limit with Retry-After",
			inject: func(e env) { e.fake.SecondaryLimitNext(1, "", "orgs/", 7*time.Second) },
			class:  errclass.RateLimited, delay: 7 * time.Second, maxDelay: 7 * time.Second, sdkTarget: new(*gh.AbuseRateLimitError)},
		{name: "secondary limit without Retry-After waits a minute",
			inject: func(e env) { e.fake.SecondaryLimitNext(1, "", "orgs/", 0) },
			class:  errclass.RateLimited, delay: time.Minute, maxDelay: time.Minute, sdkTarget: new(*gh.AbuseRateLimitError)},
		{name: "bad credentials are permanent",
			call: func(e env) error {
				c, _ := ghapi.New(ghapi.Options{APIURL: e.apiURL, Token: "wrong", Timeout: time.Second})
				_, _, err := c.OrgMembership(context.Background(), "acme", "ann")
				return err
			},
			class: errclass.Permanent},
		{name: "an unreachable server is retryable",
			call: func(e env) error {
				e.srv.Close()
				_, err := e.c.OrgExists(context.Background(), "acme")
				return err
			},
			class: errclass.Retryable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			if tc.inject != nil {
				tc.inject(e)
			}
			call := tc.call
			if call == nil {
				call = func(e env) error { _, _, err := e.c.OrgMembership(context.Background(), "acme", "ann"); return err }
			}
			err := call(e)
			if errclass.Of(err) != tc.class {
				t.Fatalf("%v: class %s, want %s", err, errclass.Of(err), tc.class)
			}
			if d := errclass.DelayOf(err); tc.class == errclass.RateLimited && (d < tc.delay || d > tc.maxDelay) {
				t.Fatalf("delay %s, want %s…%s", d, tc.delay, tc.maxDelay)
			}
			if tc.sdkTarget != nil && !errors.As(err, tc.sdkTarget) {
				t.Fatalf("%T is not the SDK's %T", err, tc.sdkTarget)
			}
		})
	}
}

// TestRateLimitHoldsRequestsBackUntilTheReset: once GitHub says the quota
// is spent, the transport refuses locally (no request reaches GitHub) and
// the adapter classifies that as RateLimited with the time left; after the
// reset requests flow again.
func TestRateLimitHoldsRequestsBackUntilTheReset(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.fake.Faults().FailNext(1, 403, "GET", "/api/v3/orgs/acme/memberships/", 0)
	_, _, err := e.c.OrgMembership(ctx, "acme", "ann")
	var rle *gh.RateLimitError
	if !errors.As(err, &rle) || rle.Rate.Remaining != 0 || errclass.Of(err) != errclass.RateLimited {
		t.Fatalf("first refusal: %v", err)
	}
	served := len(e.fake.Faults().Requests())
	_, err = e.c.OrgExists(ctx, "acme")
	d, held := ratelimit.AsWait(err)
	if !held || errclass.Of(err) != errclass.RateLimited || errclass.DelayOf(err) != d || d <= 0 {
		t.Fatalf("second call not held back: %v", err)
	}
	if n := len(e.fake.Faults().Requests()); n != served {
		t.Fatalf("%d requests reached GitHub while the quota was spent", n-served)
	}
	time.Sleep(d)
	if ok, err := e.c.OrgExists(ctx, "acme"); err != nil || !ok {
		t.Fatalf("after the reset: %v %v", ok, err)
	}

	// The same when the quota runs out on a successful answer (remaining 0).
	e2 := setup(t)
	e2.fake.Faults().RateLimit(2, time.Hour)
	for range 2 {
		if _, err := e2.c.OrgExists(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e2.c.OrgExists(ctx, "acme"); errclass.Of(err) != errclass.RateLimited || errclass.DelayOf(err) < 59*time.Minute {
		t.Fatalf("third call: %v (delay %s)", err, errclass.DelayOf(err))
	}
	if n := e2.fake.Faults().Count("", "/api/v3/"); n != 2 {
		t.Fatalf("%d requests served, want 2", n)
	}
}

func TestGitHubAppAuthentication(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	e.fake.AddApp(12, 34, &key.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	app, err := ghapi.New(ghapi.Options{APIURL: e.apiURL, AppID: 12, InstallationID: 34, PrivateKey: pemKey, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		if ok, err := app.OrgExists(ctx, "acme"); err != nil || !ok {
			t.Fatalf("as the App: %v %v", ok, err)
		}
	}
	if n := e.fake.TokensMinted(); n != 1 {
		t.Fatalf("%d installation tokens minted for 3 calls, want 1 (reused until near expiry)", n)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	e.fake.AddApp(13, 35, &other.PublicKey)
	wrong, _ := ghapi.New(ghapi.Options{APIURL: e.apiURL, AppID: 13, InstallationID: 35, PrivateKey: pemKey, Timeout: 5 * time.Second})
	if _, err := wrong.OrgExists(ctx, "acme"); errclass.Of(err) != errclass.Permanent {
		t.Fatalf("JWT signed with the wrong key: %v (%s), want Permanent", err, errclass.Of(err))
	}
	if _, err := ghapi.New(ghapi.Options{APIURL: e.apiURL, AppID: 12, InstallationID: 34, PrivateKey: []byte("not a key")}); err == nil {
		t.Fatal("a bad private key was accepted")
	}
	if _, err := ghapi.New(ghapi.Options{APIURL: e.apiURL, Token: "t", AppID: 12}); err == nil {
		t.Fatal("token and App together were accepted")
	}
}

func TestBasePathIsHonoured(t *testing.T) {
	t.Parallel()
	e := setup(t)
	root := e.srv.URL + "/"
	c, err := ghapi.New(ghapi.Options{APIURL: root, Token: token, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Without the /api/v3/ base path GitHub (Enterprise Server) has nothing.
	if ok, err := c.OrgExists(context.Background(), "acme"); ok || err != nil {
		t.Fatalf("outside the base path: %v %v", ok, err)
	}
	if n := e.fake.Faults().Count("GET", "/orgs/acme"); n != 1 {
		t.Fatalf("request paths %v", e.fake.Faults().Requests())
	}
}
