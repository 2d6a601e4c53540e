package gitlab_test

// The contract of pkg/gitlabfake: driven through the real client-go v2 SDK
// (directly and through the adapter), the fake behaves as GitLab documents.

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

const token = "glpat-contract-test"

type setup struct {
	fake *gitlabfake.Fake
	srv  *httptest.Server
	c    *gitlab.Client
	sdk  *gl.Client // the raw SDK, for what it shows of responses
}

// start serves the fake under a non-empty base path, so that a client that
// drops the base URL's path fails loudly.
func start(t *testing.T) setup {
	t.Helper()
	f := gitlabfake.New(token)
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	base := srv.URL + "/gitlab"
	c, err := gitlab.New(gitlab.Options{URL: base, Token: token, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := gl.NewClient(token, gl.WithBaseURL(base), gl.WithoutRetries())
	if err != nil {
		t.Fatal(err)
	}
	return setup{fake: f, srv: srv, c: c, sdk: sdk}
}

func TestFindUserReadsEveryPageAndMatchesExactly(t *testing.T) {
	t.Parallel()
	s := start(t)
	ann := s.fake.AddUser(gitlabfake.User{Email: "ann@example.com"}) // oldest: listed last
	for i := range 230 {
		// Near matches: GitLab's search matches substrings of these too.
		s.fake.AddUser(gitlabfake.User{Email: fmt.Sprintf("jo%dann@example.com", i)})
	}
	ctx := context.Background()
	u, found, err := s.c.FindUser(ctx, "ANN@example.com")
	if err != nil || !found || u.ID != ann.ID || u.Username != "ann" || u.State != gitlab.StateActive {
		t.Fatalf("FindUser = %+v %v %v", u, found, err)
	}
	if n := s.fake.Faults().Count("GET", "/gitlab/api/v4/users"); n != 3 {
		t.Fatalf("%d list calls, want 3 pages of 100", n)
	}
	if _, found, err := s.c.FindUser(ctx, "nobody@example.com"); found || err != nil {
		t.Fatalf("unknown email: %v %v", found, err)
	}

	// What the SDK reads from the pagination headers.
	users, resp, err := s.sdk.Users.ListUsers(&gl.ListUsersOptions{Search: gl.Ptr("ann@example.com"), ListOptions: gl.ListOptions{Page: 2, PerPage: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 100 || resp.TotalItems != 231 || resp.TotalPages != 3 || resp.CurrentPage != 2 ||
		resp.NextPage != 3 || resp.PreviousPage != 1 || resp.ItemsPerPage != 100 ||
		!strings.Contains(resp.NextLink, "page=3") || !strings.Contains(resp.NextLink, "/gitlab/api/v4/users") {
		t.Fatalf("page 2: %d users, %+v", len(users), resp)
	}
	_, resp, err = s.sdk.Users.ListUsers(&gl.ListUsersOptions{Search: gl.Ptr("ann@example.com"), ListOptions: gl.ListOptions{Page: 3, PerPage: 100}})
	if err != nil || resp.NextPage != 0 || resp.NextLink != "" {
		t.Fatalf("last page: %+v %v", resp, err)
	}
}

func TestMembersAreDirectAndIdempotent(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx := context.Background()
	u := s.fake.AddUser(gitlabfake.User{Email: "ann@example.com"})
	s.fake.AddGroup("acme/p1")

	// Adding twice: GitLab answers 409 "Member already exists".
	opt := &gl.AddGroupMemberOptions{UserID: gl.Ptr(u.ID), AccessLevel: gl.Ptr(gl.DeveloperPermissions)}
	m, _, err := s.sdk.GroupMembers.AddGroupMember("acme/p1", opt)
	if err != nil || m.AccessLevel != gl.DeveloperPermissions || m.ID != u.ID {
		t.Fatalf("add: %+v %v", m, err)
	}
	_, resp, err := s.sdk.GroupMembers.AddGroupMember("acme/p1", opt)
	var er *gl.ErrorResponse
	if resp == nil || resp.StatusCode != 409 || !errors.As(err, &er) || !strings.Contains(er.Message, "Member already exists") {
		t.Fatalf("second add: %v", err)
	}
	// The adapter treats 409 as success and raises a lower level...
	if err := s.c.AddMember(ctx, "acme/p1", u.ID, gitlabfake.Maintainer); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.fake.Member("acme/p1", u.ID); l != gitlabfake.Maintainer {
		t.Fatalf("level %d after add over 409, want maintainer", l)
	}
	// ...and never lowers a higher one.
	if err := s.c.AddMember(ctx, "acme/p1", u.ID, gitlabfake.Reporter); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.fake.Member("acme/p1", u.ID); l != gitlabfake.Maintainer {
		t.Fatalf("level %d, want maintainer kept", l)
	}

	// A member of the parent group is not a direct member of the subgroup.
	s.fake.SetMember("acme", u.ID, gitlabfake.Owner)
	s.fake.AddGroup("acme/p2")
	if _, _, err := s.sdk.GroupMembers.GetGroupMember("acme/p2", u.ID); !errors.Is(err, gl.ErrNotFound) {
		t.Fatalf("direct member of acme/p2: %v, want 404", err)
	}
	if l, member, err := s.c.MemberLevel(ctx, "acme/p2", u.ID); member || l != 0 || err != nil {
		t.Fatalf("MemberLevel = %d %v %v", l, member, err)
	}
	if l, member, err := s.c.EffectiveLevel(ctx, "acme/p2", u.ID); !member || l != gitlabfake.Owner || err != nil {
		t.Fatalf("EffectiveLevel = %d %v %v", l, member, err)
	}
	if err := s.c.EditMember(ctx, "acme/p2", u.ID, gitlabfake.Developer); errclass.Of(err) != errclass.NotFound {
		t.Fatalf("edit of an inherited member: %v, want not found", err)
	}
	if err := s.c.RemoveMember(ctx, "acme/p2", u.ID); errclass.Of(err) != errclass.NotFound {
		t.Fatalf("remove of an inherited member: %v, want not found", err)
	}
	// GitLab refuses a direct membership below the inherited one.
	if err := s.c.AddMember(ctx, "acme/p2", u.ID, gitlabfake.Developer); errclass.Of(err) != errclass.Permanent || !strings.Contains(err.Error(), "400") {
		t.Fatalf("add below inherited: %v", err)
	}

	// Removing the direct membership keeps subgroup memberships.
	s.fake.SetMember("acme/p1/sub", u.ID, gitlabfake.Developer)
	if err := s.c.RemoveMember(ctx, "acme/p1", u.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.fake.Member("acme/p1", u.ID); ok {
		t.Fatal("still a member of acme/p1")
	}
	if _, ok := s.fake.Member("acme/p1/sub", u.ID); !ok {
		t.Fatal("the subgroup membership went too")
	}
	if ok, err := s.c.GroupExists(ctx, "acme/p1"); !ok || err != nil {
		t.Fatalf("GroupExists(acme/p1) = %v %v", ok, err)
	}
	if ok, err := s.c.GroupExists(ctx, "acme/none"); ok || err != nil {
		t.Fatalf("GroupExists(acme/none) = %v %v", ok, err)
	}
}

func TestUserModeration(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx := context.Background()
	state := func(id int64) string { u, _ := s.fake.User(id); return u.State }

	u := s.fake.AddUser(gitlabfake.User{Email: "ann@example.com", LastActivity: time.Now()})
	if err := s.c.BlockUser(ctx, u.ID); err != nil || state(u.ID) != gitlabfake.StateBlocked {
		t.Fatalf("block: %v, state %s", err, state(u.ID))
	}
	if got, _, _ := s.c.FindUser(ctx, "ann@example.com"); !got.Blocked() {
		t.Fatalf("found %+v, want blocked", got)
	}
	if err := s.c.UnblockUser(ctx, u.ID); err != nil || state(u.ID) != gitlabfake.StateActive {
		t.Fatalf("unblock: %v, state %s", err, state(u.ID))
	}
	// Active in the last 90 days: GitLab answers 403.
	err := s.c.DeactivateUser(ctx, u.ID)
	if !errors.Is(err, gitlab.ErrDeactivateRefused) || errclass.Of(err) != errclass.Permanent || state(u.ID) != gitlabfake.StateActive {
		t.Fatalf("deactivate a recently active user: %v, state %s", err, state(u.ID))
	}
	s.fake.SetLastActivity(u.ID, time.Now().Add(-100*24*time.Hour))
	if err := s.c.DeactivateUser(ctx, u.ID); err != nil || state(u.ID) != gitlabfake.StateDeactivated {
		t.Fatalf("deactivate: %v, state %s", err, state(u.ID))
	}
	if err := s.c.UnblockUser(ctx, u.ID); errclass.Of(err) != errclass.Permanent {
		t.Fatalf("unblock a deactivated user: %v, want permanent (403)", err)
	}
	s.fake.SetMember("acme", u.ID, gitlabfake.Developer)
	if err := s.c.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.fake.User(u.ID); ok || len(s.fake.Memberships(u.ID)) != 0 {
		t.Fatal("user or memberships left after delete")
	}
	for name, err := range map[string]error{
		"block": s.c.BlockUser(ctx, u.ID), "unblock": s.c.UnblockUser(ctx, u.ID),
		"deactivate": s.c.DeactivateUser(ctx, u.ID), "delete": s.c.DeleteUser(ctx, u.ID),
	} {
		if errclass.Of(err) != errclass.NotFound {
			t.Errorf("%s of a deleted user: %v, want not found", name, err)
		}
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx := context.Background()
	s.fake.AddUser(gitlabfake.User{Email: "ann@other.example", Username: "ann.smith"})
	s.fake.AddUser(gitlabfake.User{Email: "ann2@other.example", Username: "ANN.SMITH2"})
	u, err := s.c.CreateUser(ctx, gitlab.NewUser{Email: "Ann.Smith@example.com", Name: "Ann Smith", External: true, SkipConfirmation: true, ForceRandomPassword: true})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.fake.User(u.ID)
	if got.Username != "ann.smith3" || got.Name != "Ann Smith" || !got.External || !got.SkipConfirmation || !got.ForceRandomPassword || got.ResetPassword {
		t.Fatalf("created %+v", got)
	}
	// Without a random password GitLab sends a reset link.
	u, err = s.c.CreateUser(ctx, gitlab.NewUser{Email: "bob@example.com", Name: "Bob"})
	if got, _ := s.fake.User(u.ID); err != nil || !got.ResetPassword || got.External {
		t.Fatalf("created %+v: %v", got, err)
	}
	// Created meanwhile (another replica): the existing user is returned.
	s.fake.Faults().ResetLog()
	u2, err := s.c.CreateUser(ctx, gitlab.NewUser{Email: "BOB@example.com", Name: "Bob"})
	if err != nil || u2.ID != u.ID {
		t.Fatalf("create of an existing email: %+v %v", u2, err)
	}
}

func TestUsername(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ann@example.com":          "ann",
		"Ann.Smith@example.com":    "ann.smith",
		"ann+test@example.com":     "ann-test",
		"-ann..smith-@example.com": "ann.smith",
		"a__b--c@example.com":      "a_b-c",
		"repo.git@example.com":     "repo",
		"über@example.com":         "ber",
		"+++@example.com":          "user",
		"ann":                      "ann",
	} {
		if got := gitlab.Username(in); got != want {
			t.Errorf("Username(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorsAreClassified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("429 with Retry-After is rate limited by that delay", func(t *testing.T) {
		t.Parallel()
		s := start(t)
		s.fake.Faults().FailNext(1, 429, "GET", "/gitlab/api/v4/users", 3*time.Second)
		_, _, err := s.c.FindUser(ctx, "ann@example.com")
		if errclass.Of(err) != errclass.RateLimited || errclass.DelayOf(err) != 3*time.Second {
			t.Fatalf("%v: class %s, delay %s", err, errclass.Of(err), errclass.DelayOf(err))
		}
	})
	t.Run("5xx is retryable", func(t *testing.T) {
		t.Parallel()
		s := start(t)
		s.fake.Faults().FailNext(1, 503, "", "/gitlab/api/v4/groups", 0)
		if _, err := s.c.GroupExists(ctx, "acme"); errclass.Of(err) != errclass.Retryable {
			t.Fatalf("%v: class %s", err, errclass.Of(err))
		}
	})
	t.Run("other 4xx is permanent", func(t *testing.T) {
		t.Parallel()
		s := start(t)
		s.fake.AddGroup("acme")
		s.fake.Faults().FailNext(1, 403, "POST", "/gitlab/api/v4/groups/acme/members", 0)
		err := s.c.AddMember(ctx, "acme", 1, gitlabfake.Developer)
		if errclass.Of(err) != errclass.Permanent || !strings.Contains(err.Error(), "403") {
			t.Fatalf("%v: class %s", err, errclass.Of(err))
		}
	})
	t.Run("a wrong token is permanent and not shown", func(t *testing.T) {
		t.Parallel()
		s := start(t)
		c, _ := gitlab.New(gitlab.Options{URL: s.srv.URL, Token: "glpat-wrong", Timeout: time.Second})
		_, _, err := c.FindUser(ctx, "ann@example.com")
		if errclass.Of(err) != errclass.Permanent || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "glpat") {
			t.Fatalf("%v: class %s", err, errclass.Of(err))
		}
	})
	t.Run("an unreachable GitLab is retryable and the URL is not shown", func(t *testing.T) {
		t.Parallel()
		s := start(t)
		s.srv.Close()
		_, _, err := s.c.FindUser(ctx, "ann@example.com")
		if errclass.Of(err) != errclass.Retryable || strings.Contains(err.Error(), "ann@") {
			t.Fatalf("%v: class %s", err, errclass.Of(err))
		}
	})
}

// TestRateLimitHeadersHoldRequestsBack: once GitLab's RateLimit-Remaining
// says the quota is spent, the transport refuses further calls until the
// reset (without sending them), classified rate limited with that delay.
func TestRateLimitHeadersHoldRequestsBack(t *testing.T) {
	t.Parallel()
	s := start(t)
	s.fake.AddGroup("acme")
	s.fake.Faults().RateLimit(3, 2*time.Second)
	ctx := context.Background()
	for i := range 3 {
		if _, err := s.c.GroupExists(ctx, "acme"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err := s.c.GroupExists(ctx, "acme")
	if d := errclass.DelayOf(err); errclass.Of(err) != errclass.RateLimited || d <= 0 || d > 4*time.Second {
		t.Fatalf("fourth call: %v (class %s, delay %s)", err, errclass.Of(err), d)
	}
	if n := s.fake.Faults().Count("", "/gitlab/api/v4/groups"); n != 3 {
		t.Fatalf("%d requests reached GitLab, want 3 (the fourth held back)", n)
	}
}
