package consolefake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/access"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/errclass"
)

// The fake is checked through the client idsync uses against the real
// Console (there is no official Go SDK for the Console API).

func setup(t *testing.T) (*consolefake.Fake, *console.Client) {
	t.Helper()
	f := consolefake.New()
	f.AddServiceAccount("idsync", "s3cret-s3cret-s3cret")
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	c, err := console.New(console.Config{URL: srv.URL, ClientID: "idsync", ClientSecret: config.Secret("s3cret-s3cret-s3cret"), Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func TestListingsFollowEveryPage(t *testing.T) {
	f, c := setup(t)
	c.SetPageSize(7)
	for i := range 45 {
		id := fmt.Sprintf("u%02d", i)
		f.AddPlatformUser(id, id+"@example.com")
		f.BindCompany("acme", id, access.Developer)
	}
	users, err := c.Users(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 45 {
		t.Fatalf("listed %d users over pages, want 45", len(users))
	}
	if got := f.Faults().Count("GET", "/api/companies/acme/users"); got != 7 {
		t.Errorf("%d page requests, want 7", got)
	}
}

func TestTokensAreReusedAndRefreshedBeforeExpiry(t *testing.T) {
	f, c := setup(t)
	f.AddPlatformUser("u1", "u1@example.com")
	f.BindCompany("acme", "u1", access.Guest)
	for range 5 {
		if _, err := c.Users(context.Background(), "acme"); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.TokensIssued(); n != 1 {
		t.Fatalf("%d tokens for 5 calls with a 1h token, want 1", n)
	}
	// A token closer to expiry than the refresh margin is replaced before use.
	f2, c3 := setup(t)
	f2.SetTokenTTL(console.TokenRefreshMargin - time.Minute)
	for range 3 {
		if _, err := c3.Users(context.Background(), "acme"); err != nil {
			t.Fatal(err)
		}
	}
	if n := f2.TokensIssued(); n != 3 {
		t.Fatalf("%d tokens for 3 calls with tokens inside the refresh margin, want 3", n)
	}
}

func TestEffectiveBindingsAddUpDirectAndGroupRoles(t *testing.T) {
	f, c := setup(t)
	f.AddPlatformUser("ann", "ann@example.com")
	f.AddProject("acme", "p1", "Payments", consolefake.Environment{EnvID: "prod", IsProduction: true})
	f.BindCompany("acme", "ann", access.Guest)
	f.BindEnvironment("acme", "ann", "p1", "prod", access.Maintainer)
	f.AddGroup("acme", "g1", "devs", "")
	f.BindGroupProject("acme", "g1", "p1", access.Developer)
	f.AddGroupMember("acme", "g1", "ann")

	b, found, err := c.EffectiveBindings(context.Background(), "acme", "ann")
	if err != nil || !found {
		t.Fatalf("found=%v err=%v", found, err)
	}
	table := access.Default()
	for _, tc := range []struct {
		scope access.Scope
		key   string
		want  bool
	}{
		{access.Scope{}, "console.company.view", true},
		{access.Scope{}, "console.company.project.configuration.update", false},
		{access.Scope{ProjectID: "p1"}, "console.project.configuration.update", true}, // through the group
		{access.Scope{ProjectID: "p1", EnvironmentID: "prod"}, "console.environment.deploy.trigger", true},
		{access.Scope{ProjectID: "p1", EnvironmentID: "dev"}, "console.environment.deploy.trigger", false},
	} {
		if got := len(table.Missing(b, tc.scope, []string{tc.key})) == 0; got != tc.want {
			t.Errorf("%+v %s = %v, want %v", tc.scope, tc.key, got, tc.want)
		}
	}
	p, err := c.Project(context.Background(), "p1")
	if err != nil || len(p.Environments) != 1 || !p.Environments[0].IsProduction {
		t.Fatalf("project = %+v, %v", p, err)
	}
	if _, found, _ := c.EffectiveBindings(context.Background(), "acme", "nobody"); found {
		t.Fatal("a stranger has access")
	}
}

func TestAddAndRemoveUsers(t *testing.T) {
	f, c := setup(t)
	f.AddPlatformUser("bob", "bob@example.com")
	ctx := context.Background()
	if err := c.AddUser(ctx, "acme", "bob@example.com", access.Guest); err != nil {
		t.Fatal(err)
	}
	if !f.InCompany("acme", "bob") || !slices.Equal(f.CompanyRoles("acme", "bob"), []string{"guest"}) {
		t.Fatal("bob not added as guest")
	}
	err := c.AddUser(ctx, "acme", "ghost@example.com", access.Guest)
	if errclass.Of(err) != errclass.NotFound {
		t.Fatalf("adding a user the Console does not know: %v (class %s), want not_found", err, errclass.Of(err))
	}
	err = c.AddUser(ctx, "acme", "bob@example.com", access.Guest)
	var se *console.StatusError
	if !errors.As(err, &se) || se.Status != 409 || errclass.Of(err) != errclass.Permanent {
		t.Fatalf("adding twice: %v", err)
	}
	if err := c.RemoveUser(ctx, "acme", "bob"); err != nil || f.InCompany("acme", "bob") {
		t.Fatalf("remove: %v", err)
	}
	if err := c.RemoveUser(ctx, "acme", "bob"); errclass.Of(err) != errclass.NotFound {
		t.Fatalf("removing again: %v, want not_found", err)
	}
}

func TestFailuresAreClassified(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	f.Faults().FailNext(1, 429, "GET", "/api/companies/", 7*time.Second)
	_, err := c.Users(ctx, "acme")
	if errclass.Of(err) != errclass.RateLimited || errclass.DelayOf(err) != 7*time.Second {
		t.Fatalf("429: %v (class %s, delay %s)", err, errclass.Of(err), errclass.DelayOf(err))
	}
	f.Faults().FailNext(1, 503, "", "/api/companies/", 0)
	if _, err := c.Users(ctx, "acme"); errclass.Of(err) != errclass.Retryable {
		t.Fatalf("503: %v", err)
	}
	if _, err := c.Project(ctx, "missing"); errclass.Of(err) != errclass.NotFound {
		t.Fatalf("missing project: %v", err)
	}
	bad, err := console.New(console.Config{URL: "http://127.0.0.1:1", ClientID: "x", ClientSecret: "y", Timeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Users(ctx, "acme"); errclass.Of(err) != errclass.Retryable {
		t.Fatalf("unreachable: %v", err)
	}
}
