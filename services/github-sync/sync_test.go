package githubsync_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/dlq"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	githubsync "github.com/idsync/idsync/services/github-sync"
)

// TestOneEffectiveChange delivers the same change three times (the Console
// re-sends, with new ids): one write per membership, or one invitation.
func TestOneEffectiveChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		login  string
		writes int
	}{
		{"login known: org and team", "ann", 2},
		{"unresolved: one invitation", "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, setup{})
			if tc.login != "" {
				e.mapLogin(t, "ann@example.com", tc.login)
			}
			e.console.BindProject(company, "u1", "p1", "developer")
			for _, id := range []string{"first", "again", "once-more"} {
				e.h.Publish(permission(id, added, "u1", "ann@example.com", "developer", "p1"))
			}
			e.settle(t)
			if w := e.gh.Faults().Writes(); w != tc.writes {
				t.Fatalf("%d writes for three deliveries, want %d", w, tc.writes)
			}
			if n := len(e.gh.Invitations("acme")); tc.login == "" && n != 1 {
				t.Fatalf("%d invitations", n)
			}
		})
	}
}

func TestRateLimitedCallIsRetriedAfterItsDelay(t *testing.T) {
	t.Parallel()
	const path = "/api/v3/orgs/acme/teams/p1/memberships/"
	for _, tc := range []struct {
		name   string
		inject func(e env)
	}{
		{"429 with Retry-After", func(e env) { e.gh.Faults().FailNext(1, 429, "PUT", path, time.Second) }},
		{"secondary limit with Retry-After", func(e env) { e.gh.SecondaryLimitNext(1, "PUT", "orgs/acme/teams/p1/memberships/", time.Second) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, setup{})
			e.mapLogin(t, "ann@example.com", "ann")
			e.console.BindProject(company, "u1", "p1", "developer")
			tc.inject(e)
			begin := time.Now()
			e.h.Publish(permission("rl", added, "u1", "ann@example.com", "developer", "p1"))
			e.settle(t)
			if _, ok := e.gh.TeamMembership("acme", "p1", "ann"); !ok {
				t.Fatal("not added after the rate limit passed")
			}
			if elapsed := time.Since(begin); elapsed < time.Second {
				t.Fatalf("retried after %s, before Retry-After", elapsed)
			}
			if n := e.gh.Faults().Count("PUT", path); n != 2 {
				t.Fatalf("%d team calls, want 2 (the refusal and the retry)", n)
			}
			if n := e.gh.Faults().Count("PUT", "/api/v3/orgs/acme/memberships/"); n != 1 {
				t.Fatalf("%d org calls, want 1 (the retry found it done)", n)
			}
		})
	}
}

func TestPermanentFailureIsDeadLetteredAndReplayConverges(t *testing.T) {
	t.Parallel()
	e := start(t, setup{})
	e.mapLogin(t, "ann@example.com", "ann")
	e.console.BindProject(company, "u1", "p1", "developer")
	e.gh.SetExternallyManaged("acme", "p1", true) // GitHub refuses: 403, the team is IdP-synced
	e.h.Publish(permission("perm", added, "u1", "ann@example.com", "developer", "p1"))
	e.settle(t)
	letters := e.h.DeadLetters()
	if len(letters) != 1 || letters[0].Header.Get("Idsync-Dlq-Class") != "permanent" || !strings.Contains(letters[0].Header.Get("Idsync-Dlq-Reason"), "403") {
		t.Fatalf("dead letters: %d", len(letters))
	}
	if got := synctest.Describe(e.h.Outcomes()); !slices.Contains(got, "team_member.add failed acme/p1 member") {
		t.Fatalf("no failed outcome: %q", got)
	}
	// The operator stops syncing the team from the IdP and replays.
	e.gh.SetExternallyManaged("acme", "p1", false)
	n, err := dlq.New(e.h.Conn.JS, e.h.NS).Replay(context.Background(), dlq.Filter{Consumer: githubsync.Name})
	if err != nil || n != 1 {
		t.Fatalf("replayed %d: %v", n, err)
	}
	e.settle(t)
	if _, ok := e.gh.TeamMembership("acme", "p1", "ann"); !ok {
		t.Fatal("not converged after the replay")
	}
	if len(e.h.DeadLetters()) != 0 {
		t.Fatal("the dead letter is still there")
	}
}

func TestIdentityFileIsLoadedAtStart(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "ids.csv")
	if err := os.WriteFile(file, []byte("email,login\nann@example.com,ann\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, setup{identityFile: file})
	if login, ok, err := e.ids.Resolve(context.Background(), "Ann@Example.com"); err != nil || !ok || login != "ann" {
		t.Fatalf("resolve: %q %v %v", login, ok, err)
	}
	e.console.BindProject(company, "u1", "p1", "developer")
	e.h.Publish(permission("ev", added, "u1", "ann@example.com", "developer", "p1"))
	e.settle(t)
	if _, ok := e.gh.TeamMembership("acme", "p1", "ann"); !ok || len(e.gh.Invitations("acme")) != 1 {
		// one invitation: the pending membership of the login
		t.Fatalf("team %v, invitations %+v", ok, e.gh.Invitations("acme"))
	}
	if inv := e.gh.Invitations("acme"); inv[0].Login != "ann" || inv[0].Email != "" {
		t.Fatalf("invited %+v, want the login", inv[0])
	}
}

// TestWithoutCredentialsEverythingIsPlanned: no GitHub credentials is a
// dry-run; without the Console API nothing is revoked either.
func TestWithoutCredentialsEverythingIsPlanned(t *testing.T) {
	t.Parallel()
	e := start(t, setup{noGitHub: true, noConsole: true})
	e.mapLogin(t, "ann@example.com", "ann")
	e.h.Publish(permission("p", added, "u1", "ann@example.com", "developer", "p1"))
	e.h.Publish(synctest.OktaUserEvent(events.OktaDeleteUser, "d", "00u1", "ann@example.com"))
	e.h.Publish(synctest.OktaUserEvent(events.OktaDeleteUser, "d2", "00u2", "cid@example.com"))
	e.settle(t)
	want := []string{
		"invitation.cancel planned acme ", "org_member.add planned acme member",
		"org_member.remove planned acme ", "team_member.add planned acme/p1 member",
	}
	if got := slices.Sorted(slices.Values(synctest.Describe(e.h.Outcomes()))); !slices.Equal(got, want) {
		t.Fatalf("outcomes %q, want %q", got, want)
	}
	for _, o := range e.h.Outcomes() {
		if !o.GetDryRun() {
			t.Fatalf("outcome not marked dry-run: %v", o)
		}
	}
	if n := len(e.gh.Faults().Requests()); n != 0 {
		t.Fatalf("%d requests to GitHub without credentials", n)
	}
}
