package gitlabsync_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/dlq"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	gitlabsync "github.com/idsync/idsync/services/gitlab-sync"
)

// TestOneEffectiveChange delivers each event three times (as different
// deliveries: Okta's create and activate, a Console re-send, a redelivery):
// GitLab sees one effective change.
func TestOneEffectiveChange(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	tests := []struct {
		name   string
		event  func(id string) events.Event
		setup  func(t *testing.T, e env)
		writes int
	}{
		{name: "console.update.user.permission",
			event: func(id string) events.Event {
				return synctest.PermissionEvent(id, added, "u1", "ann@example.com", "developer", "c1", "p1", "")
			},
			setup:  func(t *testing.T, e env) { e.console.BindProject("c1", "u1", "p1", "developer") },
			writes: 1},
		{name: "okta.create.user", event: func(id string) events.Event {
			return synctest.OktaUserEvent(events.OktaCreateUser, id, "00u1", "bob@example.com")
		}, writes: 1},
		{name: "okta.delete.user", event: func(id string) events.Event {
			return synctest.OktaUserEvent(events.OktaDeleteUser, id, "00u1", "ann@example.com")
		}, setup: func(t *testing.T, e env) {
			e.console.BindProject("c1", "u1", "p1", "developer")
			e.h.Publish(synctest.PermissionEvent("grant", added, "u1", "ann@example.com", "developer", "c1", "p1", ""))
			e.settle(t)
		}, writes: 2}, // the membership removal and the block
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, synctest.Options{Server: srv}, false)
			e.gl.AddUser(gitlabfake.User{Email: "ann@example.com"})
			e.gl.AddGroup("acme/p1")
			e.console.AddPlatformUser("u1", "ann@example.com")
			e.console.AddProject("c1", "p1", "P1")
			if tc.setup != nil {
				tc.setup(t, e)
			}
			e.gl.Faults().ResetLog()
			for _, id := range []string{"first", "second", "third"} {
				e.h.Publish(tc.event(id))
			}
			e.settle(t)
			if w := e.gl.Faults().Writes(); w != tc.writes {
				t.Fatalf("%d writes for three deliveries, want %d: %v", w, tc.writes, e.gl.Faults().Requests())
			}
		})
	}
}

func TestRateLimitedCallIsRetriedAfterItsDelay(t *testing.T) {
	t.Parallel()
	e := start(t, synctest.Options{}, false)
	ann := e.gl.AddUser(gitlabfake.User{Email: "ann@example.com"}).ID
	e.gl.AddGroup("acme/p1")
	e.console.AddPlatformUser("u1", "ann@example.com")
	e.console.AddProject("c1", "p1", "P1")
	e.console.BindProject("c1", "u1", "p1", "developer")
	e.gl.Faults().FailNext(1, 429, "POST", "/api/v4/groups/acme/p1/members", time.Second)
	begin := time.Now()
	e.h.Publish(synctest.PermissionEvent("rl", added, "u1", "ann@example.com", "developer", "c1", "p1", ""))
	e.settle(t)
	if l, _ := e.gl.Member("acme/p1", ann); l != gitlabfake.Developer {
		t.Fatal("not added after the rate limit passed")
	}
	if elapsed := time.Since(begin); elapsed < time.Second {
		t.Fatalf("retried after %s, before Retry-After", elapsed)
	}
	if n := e.gl.Faults().Count("POST", "/api/v4/groups/acme/p1/members"); n != 2 {
		t.Fatalf("%d add calls, want 2 (the 429 and the retry)", n)
	}
	if got := e.outcomesOf("rl"); !equal(got, []string{"group_member.add granted acme/p1 developer"}) {
		t.Fatalf("outcomes %q", got)
	}
}

func TestPermanentFailureIsDeadLetteredAndReplayConverges(t *testing.T) {
	t.Parallel()
	e := start(t, synctest.Options{}, false)
	ann := e.gl.AddUser(gitlabfake.User{Email: "ann@example.com"}).ID
	e.gl.AddGroup("acme/p1")
	e.console.AddPlatformUser("u1", "ann@example.com")
	e.console.AddProject("c1", "p1", "P1")
	e.console.BindProject("c1", "u1", "p1", "developer")
	e.gl.Faults().FailNext(100, 403, "POST", "/api/v4/groups/acme/p1/members", 0)
	e.h.Publish(synctest.PermissionEvent("perm", added, "u1", "ann@example.com", "developer", "c1", "p1", ""))
	e.settle(t)
	letters := e.h.DeadLetters()
	if len(letters) != 1 || letters[0].Header.Get("Idsync-Dlq-Class") != "permanent" || !strings.Contains(letters[0].Header.Get("Idsync-Dlq-Reason"), "403") {
		t.Fatalf("dead letters: %d %v", len(letters), letters)
	}
	if got := e.outcomesOf("perm"); !slices.Contains(got, "group_member.add failed acme/p1 developer") {
		t.Fatalf("no failed outcome: %q", got)
	}
	// GitLab is fixed; an operator replays the dead letter.
	e.gl.Faults().ClearFailures()
	n, err := dlq.New(e.h.Conn.JS, e.h.NS).Replay(context.Background(), dlq.Filter{Consumer: gitlabsync.Name})
	if err != nil || n != 1 {
		t.Fatalf("replayed %d: %v", n, err)
	}
	e.settle(t)
	if l, _ := e.gl.Member("acme/p1", ann); l != gitlabfake.Developer {
		t.Fatal("not converged after the replay")
	}
	if len(e.h.DeadLetters()) != 0 {
		t.Fatal("the dead letter is still there")
	}
}

func TestRemovalThresholdPausesUntilResumed(t *testing.T) {
	t.Parallel()
	e := start(t, synctest.Options{
		Rules:    offboardRules("block"),
		Guard:    guard.Config{Threshold: 3, Window: time.Hour, RetryDelay: 200 * time.Millisecond, Protected: []string{"root@example.com"}},
		Settings: synctest.FastSettings(),
	}, false)
	var ids []int64
	for i := range 6 {
		ids = append(ids, e.gl.AddUser(gitlabfake.User{Email: fmt.Sprintf("u%d@example.com", i)}).ID)
	}
	root := e.gl.AddUser(gitlabfake.User{Email: "root@example.com"}).ID
	e.h.Publish(synctest.OktaUserEvent(events.OktaDeleteUser, "del-root", "00root", "root@example.com"))
	for i := range 6 {
		e.h.Publish(synctest.OktaUserEvent(events.OktaDeleteUser, fmt.Sprintf("del-u%d", i), fmt.Sprintf("00u%d", i), fmt.Sprintf("u%d@example.com", i)))
	}
	blocked := func() int {
		n := 0
		for _, id := range ids {
			if u, _ := e.gl.User(id); u.State == gitlabfake.StateBlocked {
				n++
			}
		}
		return n
	}
	synctest.Eventually(t, "the guard trips", 20*time.Second, func() bool { return len(e.h.Alerts()) == 1 })
	e.h.WaitEachHandled() // the paused guard's verdicts, not a race, decide what is left
	if n := blocked(); n != 3 {
		t.Fatalf("%d users blocked, want 3 (the threshold stops the fourth)", n)
	}
	if a := e.h.Alerts()[0]; !a.GetPaused() || a.GetThreshold() != 3 {
		t.Fatalf("alert %+v", a)
	}
	if err := e.h.Deps.Guard.Resume(context.Background(), "test-operator"); err != nil {
		t.Fatal(err)
	}
	synctest.Eventually(t, "removals resume", 20*time.Second, func() bool { return blocked() == 6 })
	e.settle(t)
	if u, _ := e.gl.User(root); u.State != gitlabfake.StateActive {
		t.Fatalf("protected account %s", u.State)
	}
	if got := e.outcomesOf("del-root"); !equal(got, []string{"user.block skipped root@example.com "}) {
		t.Fatalf("protected account outcomes %q", got)
	}
}
