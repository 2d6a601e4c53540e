package consolesync_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/dlq"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	consolesync "github.com/idsync/idsync/services/console-sync"
)

const rules = `version: 1
rules:
  - id: join
    scope: {event: okta.create.user}
    actions:
      console:
        companies: [{id: acme, role: guest}, {id: beta, role: developer}]
  - id: leave
    scope: {event: okta.delete.user}
    actions:
      console:
        companies: [{id: acme}, {id: beta}]
`

type env struct {
	fake *consolefake.Fake
	h    *synctest.Harness
}

func start(t testing.TB, o synctest.Options) env {
	t.Helper()
	f := consolefake.New()
	f.AddServiceAccount("idsync", "console-sa-secret-123")
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	if o.Rules == "" {
		o.Rules = rules
	}
	if o.Console.URL == "" {
		o.Console = console.Config{URL: srv.URL, ClientID: "idsync", ClientSecret: config.Secret("console-sa-secret-123"), Timeout: 5 * time.Second}
	}
	cfg := consolesync.Config{}
	cfg.Sync.Console = o.Console
	return env{fake: f, h: synctest.Start(t, consolesync.Spec(cfg, nil), o)}
}

func TestOktaCreateUser(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *consolefake.Fake)
		login  string
		dryRun bool
		noAPI  bool
		want   []string
		// members of acme and beta afterwards
		acme, beta []string
	}{
		{name: "joins every company with the rule's role", login: "ann@example.com",
			setup: func(f *consolefake.Fake) { f.AddPlatformUser("ann", "ann@example.com") },
			want:  []string{"company_user.add granted acme guest", "company_user.add granted beta developer"},
			acme:  []string{"ann"}, beta: []string{"ann"}},
		{name: "already a member is left alone", login: "ann@example.com",
			setup: func(f *consolefake.Fake) {
				f.AddPlatformUser("ann", "ann@example.com")
				f.BindCompany("acme", "ann", "maintainer")
			},
			want: []string{"company_user.add unchanged acme guest", "company_user.add granted beta developer"},
			acme: []string{"ann"}, beta: []string{"ann"}},
		{name: "user unknown to the Console is an outcome, not a retry", login: "new@example.com",
			want: []string{"company_user.add skipped acme guest", "company_user.add skipped beta developer"}},
		{name: "login that is not an email", login: "ann",
			want: []string{"company_user.add skipped acme guest", "company_user.add skipped beta developer"}},
		{name: "dry-run plans and writes nothing", login: "ann@example.com", dryRun: true,
			setup: func(f *consolefake.Fake) { f.AddPlatformUser("ann", "ann@example.com") },
			want:  []string{"company_user.add planned acme guest", "company_user.add planned beta developer"}},
		{name: "without the Console API everything is planned", login: "ann@example.com", noAPI: true,
			setup: func(f *consolefake.Fake) { f.AddPlatformUser("ann", "ann@example.com") },
			want:  []string{"company_user.add planned acme guest", "company_user.add planned beta developer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := synctest.Options{DryRun: tc.dryRun}
			if tc.noAPI {
				o.Console = console.Config{URL: "", Timeout: time.Second}
				o.Console.URL = ""
			}
			e := startMaybeNoAPI(t, o, tc.noAPI)
			if tc.setup != nil {
				tc.setup(e.fake)
			}
			e.h.Publish(synctest.OktaUserEvent(events.OktaCreateUser, "ev1", "00u1", tc.login))
			e.h.WaitSettled()
			if got := synctest.Describe(e.h.Outcomes()); !slices.Equal(got, tc.want) {
				t.Fatalf("outcomes %q, want %q", got, tc.want)
			}
			if got := e.fake.Members("acme"); !slices.Equal(got, tc.acme) {
				t.Errorf("acme members %v, want %v", got, tc.acme)
			}
			if got := e.fake.Members("beta"); !slices.Equal(got, tc.beta) {
				t.Errorf("beta members %v, want %v", got, tc.beta)
			}
			if tc.dryRun || tc.noAPI {
				if w := e.fake.Faults().Writes(); w != 0 {
					t.Errorf("%d writes in dry-run", w)
				}
			}
		})
	}
}

func startMaybeNoAPI(t *testing.T, o synctest.Options, noAPI bool) env {
	if !noAPI {
		return start(t, o)
	}
	f := consolefake.New()
	o.Rules = rules
	o.Console.Timeout = time.Second
	return env{fake: f, h: synctest.Start(t, consolesync.Spec(consolesync.Config{}, nil), o)}
}

func TestOktaDeleteUser(t *testing.T) {
	tests := []struct {
		name      string
		protected []string
		setup     func(f *consolefake.Fake)
		want      []string
		acme      []string
	}{
		{name: "removed from every company and its groups",
			setup: func(f *consolefake.Fake) {
				f.BindCompany("acme", "ann", "developer")
				f.AddGroup("beta", "g1", "devs", "developer")
				f.AddGroupMember("beta", "g1", "ann")
			},
			want: []string{"company_user.remove revoked acme ", "company_user.remove revoked beta "}},
		{name: "not a member", want: []string{"company_user.remove unchanged acme ", "company_user.remove unchanged beta "}},
		{name: "protected account is never removed", protected: []string{"ANN@example.com"},
			setup: func(f *consolefake.Fake) { f.BindCompany("acme", "ann", "company-owner") },
			want:  []string{"company_user.remove skipped acme ", "company_user.remove unchanged beta "},
			acme:  []string{"ann"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, synctest.Options{Guard: guard.Config{Protected: tc.protected, Threshold: 100, Window: time.Hour}})
			e.fake.AddPlatformUser("ann", "ann@example.com")
			if tc.setup != nil {
				tc.setup(e.fake)
			}
			e.h.Publish(synctest.OktaUserEvent(events.OktaDeleteUser, "del1", "00u1", "ann@example.com"))
			e.h.WaitSettled()
			if got := synctest.Describe(e.h.Outcomes()); !slices.Equal(got, tc.want) {
				t.Fatalf("outcomes %q, want %q", got, tc.want)
			}
			if got := e.fake.Members("acme"); !slices.Equal(got, tc.acme) {
				t.Errorf("acme members %v, want %v", got, tc.acme)
			}
			if len(e.fake.Members("beta")) != 0 {
				t.Errorf("still in beta")
			}
		})
	}
}

// TestOneEffectiveChange delivers the same creation three ways (Okta's
// create and activate events, and a redelivery): one write.
func TestOneEffectiveChange(t *testing.T) {
	e := start(t, synctest.Options{Rules: `version: 1
rules:
  - id: join
    scope: {event: okta.create.user}
    actions: {console: {companies: [{id: acme, role: guest}]}}
`})
	e.fake.AddPlatformUser("ann", "ann@example.com")
	for _, id := range []string{"create", "activate", "create-again"} {
		e.h.Publish(synctest.OktaUserEvent(events.OktaCreateUser, id, "00u1", "ann@example.com"))
	}
	e.h.WaitSettled()
	if w := e.fake.Faults().Writes(); w != 1 {
		t.Fatalf("%d writes for three deliveries, want 1", w)
	}
}

func TestRateLimitedCallIsRetriedAfterItsDelay(t *testing.T) {
	e := start(t, synctest.Options{})
	e.fake.AddPlatformUser("ann", "ann@example.com")
	e.fake.Faults().FailNext(1, 429, "POST", "/api/companies/acme/users", time.Second)
	start := time.Now()
	e.h.Publish(synctest.OktaUserEvent(events.OktaCreateUser, "rl", "00u1", "ann@example.com"))
	e.h.WaitSettled()
	if !e.fake.InCompany("acme", "ann") {
		t.Fatal("not added after the rate limit passed")
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Fatalf("retried after %s, before Retry-After", elapsed)
	}
	if n := e.fake.Faults().Count("POST", "/api/companies/acme/users"); n != 2 {
		t.Fatalf("%d add calls, want 2 (the 429 and the retry)", n)
	}
}

func TestPermanentFailureIsDeadLetteredAndReplayConverges(t *testing.T) {
	e := start(t, synctest.Options{})
	e.fake.AddPlatformUser("ann", "ann@example.com")
	e.fake.Faults().FailNext(100, 403, "POST", "/api/companies/beta/users", 0)
	e.h.Publish(synctest.OktaUserEvent(events.OktaCreateUser, "perm", "00u1", "ann@example.com"))
	e.h.WaitSettled()
	letters := e.h.DeadLetters()
	if len(letters) != 1 || letters[0].Header.Get("Idsync-Dlq-Class") != "permanent" || !strings.Contains(letters[0].Header.Get("Idsync-Dlq-Reason"), "403") {
		t.Fatalf("dead letters: %d %v", len(letters), headers(letters))
	}
	if !slices.ContainsFunc(synctest.Describe(e.h.Outcomes()), func(s string) bool { return strings.HasPrefix(s, "company_user.add failed beta") }) {
		t.Fatalf("no failed outcome: %q", synctest.Describe(e.h.Outcomes()))
	}
	// The provider is fixed; an operator replays the dead letter.
	e.fake.Faults().ClearFailures()
	n, err := dlq.New(e.h.Conn.JS, e.h.NS).Replay(context.Background(), dlq.Filter{Consumer: consolesync.Name})
	if err != nil || n != 1 {
		t.Fatalf("replayed %d: %v", n, err)
	}
	e.h.WaitSettled()
	if !e.fake.InCompany("beta", "ann") || !e.fake.InCompany("acme", "ann") {
		t.Fatal("not converged after the replay")
	}
	if len(e.h.DeadLetters()) != 0 {
		t.Fatal("the dead letter is still there")
	}
}

func headers(ls any) string { return fmt.Sprint(ls) }

func TestRemovalThresholdPausesUntilResumed(t *testing.T) {
	e := start(t, synctest.Options{
		Rules:    "version: 1\nrules:\n  - id: leave\n    scope: {event: okta.delete.user}\n    actions: {console: {companies: [{id: acme}]}}\n",
		Guard:    guard.Config{Threshold: 3, Window: time.Hour, RetryDelay: 200 * time.Millisecond},
		Settings: synctest.FastSettings(),
	})
	for i := range 6 {
		id := fmt.Sprintf("u%d", i)
		e.fake.AddPlatformUser(id, id+"@example.com")
		e.fake.BindCompany("acme", id, "developer")
	}
	for i := range 6 {
		id := fmt.Sprintf("u%d", i)
		e.h.Publish(synctest.OktaUserEvent(events.OktaDeleteUser, "del-"+id, "00"+id, id+"@example.com"))
	}
	synctest.Eventually(t, "the guard trips", 20*time.Second, func() bool { return len(e.h.Alerts()) == 1 })
	e.h.WaitEachHandled() // the paused guard's verdicts, not a race, decide what is left
	if left := len(e.fake.Members("acme")); left != 3 {
		t.Fatalf("%d members left, want 3 (the threshold stops the fourth removal)", left)
	}
	if a := e.h.Alerts()[0]; !a.GetPaused() || a.GetThreshold() != 3 {
		t.Fatalf("alert %+v", a)
	}
	if err := e.h.Deps.Guard.Resume(context.Background(), "test-operator"); err != nil {
		t.Fatal(err)
	}
	synctest.Eventually(t, "removals resume", 20*time.Second, func() bool { return len(e.fake.Members("acme")) == 0 })
}
