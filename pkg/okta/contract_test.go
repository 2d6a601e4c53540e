package okta_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktafake"
)

// These tests drive the fake through the real Okta SDK, so the fake is held
// to what the SDK (and Okta's documented API) does.

func setup(t *testing.T) (*oktafake.Fake, *okta.Client) {
	t.Helper()
	f := oktafake.New("test-token")
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	f.SetBaseURL(srv.URL)
	c, err := okta.New(okta.Config{OrgURL: srv.URL, APIToken: config.Secret("test-token"), Timeout: 5 * time.Second}, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func TestUsersAndGroupsThroughTheSDK(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	f.SetPageMax(2)
	uid := f.AddUser("ann@example.com", "Ann", "Lee")
	for i := range 5 {
		f.AddGroup(fmt.Sprintf("team-%d", i))
	}
	got, found, err := c.UserID(ctx, "ann@example.com")
	if err != nil || !found || got != uid {
		t.Fatalf("UserID = %q %v %v", got, found, err)
	}
	if _, found, err := c.UserID(ctx, "nobody@example.com"); err != nil || found {
		t.Fatalf("unknown user: found=%v err=%v", found, err)
	}
	gid, found, err := c.GroupID(ctx, "team-3")
	if err != nil || !found {
		t.Fatalf("GroupID: %v %v", found, err)
	}
	if _, found, _ := c.GroupID(ctx, "team"); found {
		t.Fatal("a prefix matched a group name")
	}
	// Membership read across pages of the user's groups.
	for i := range 5 {
		id, _, _ := c.GroupID(ctx, fmt.Sprintf("team-%d", i))
		if i != 3 {
			f.AddMember(id, uid)
		}
	}
	if in, err := c.IsMember(ctx, gid, uid); err != nil || in {
		t.Fatalf("IsMember before add = %v %v", in, err)
	}
	if err := c.AddMember(ctx, gid, uid); err != nil {
		t.Fatal(err)
	}
	if err := c.AddMember(ctx, gid, uid); err != nil {
		t.Fatalf("adding twice: %v", err)
	}
	if in, err := c.IsMember(ctx, gid, uid); err != nil || !in {
		t.Fatalf("IsMember after add = %v %v (the membership is on the last page)", in, err)
	}
	if err := c.RemoveMember(ctx, gid, uid); err != nil {
		t.Fatal(err)
	}
	if m := f.Members("team-3"); len(m) != 0 {
		t.Fatalf("members after remove: %v", m)
	}
	id, err := c.CreateGroup(ctx, "console-acme-p1", "Console project p1")
	if err != nil || id == "" {
		t.Fatalf("CreateGroup: %q %v", id, err)
	}
	if _, err := c.CreateGroup(ctx, "console-acme-p1", "again"); errclass.Of(err) != errclass.Permanent {
		t.Fatalf("creating a duplicate: %v", err)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	f.AddUser("ann@example.com", "Ann", "Lee")

	f.Faults().FailNext(1, 500, "", "/api/v1/", 0)
	if _, _, err := c.UserID(ctx, "ann@example.com"); errclass.Of(err) != errclass.Retryable {
		t.Fatalf("500: %v", err)
	}
	if err := c.AddMember(ctx, "00gmissing", "00umissing"); errclass.Of(err) != errclass.NotFound {
		t.Fatalf("missing group: %v", err)
	}
	f.Faults().FailNext(1, 429, "GET", "/api/v1/users/", 0)
	_, _, err := c.UserID(ctx, "ann@example.com")
	if errclass.Of(err) != errclass.RateLimited || errclass.DelayOf(err) <= 0 || errclass.DelayOf(err) > 3*time.Second {
		t.Fatalf("429: %v class %s delay %s", err, errclass.Of(err), errclass.DelayOf(err))
	}
	// The pacer holds further calls until the reset the 429 announced.
	if _, _, err := c.UserID(ctx, "ann@example.com"); errclass.Of(err) != errclass.RateLimited {
		t.Fatalf("right after a 429: %v", err)
	}
}

func TestWrongTokenIsPermanent(t *testing.T) {
	f := oktafake.New("right")
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	c, err := okta.New(okta.Config{OrgURL: srv.URL, APIToken: "wrong", Timeout: time.Second}, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.UserID(context.Background(), "x@example.com"); errclass.Of(err) != errclass.Permanent {
		t.Fatalf("wrong token: %v (class %s)", err, errclass.Of(err))
	}
}

func TestPacingFromRateLimitHeaders(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	f.AddUser("ann@example.com", "Ann", "Lee")
	f.Faults().RateLimit(3, time.Minute)
	for i := range 3 {
		if _, _, err := c.UserID(ctx, "ann@example.com"); err != nil {
			t.Fatalf("call %d within the quota: %v", i, err)
		}
	}
	_, _, err := c.UserID(ctx, "ann@example.com")
	if errclass.Of(err) != errclass.RateLimited || errclass.DelayOf(err) < 30*time.Second {
		t.Fatalf("quota spent: %v (class %s, delay %s), want a wait until the reset", err, errclass.Of(err), errclass.DelayOf(err))
	}
	if n := f.Faults().Count("GET", "/api/v1/users/"); n != 3 {
		t.Fatalf("%d requests reached Okta, want 3: the fourth must be held back, not sent into a 429", n)
	}
}
