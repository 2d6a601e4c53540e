package oktalog_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/oktalog"
)

// TestBackfillPublishes reads the fake's System Log across several pages
// (two events a page) and checks what lands in the events stream: every
// routed event once, mapped as the hook path maps it, with the org as its
// source; nothing the routing does not publish; and an event the hook
// delivered first is stored once.
func TestBackfillPublishes(t *testing.T) {
	ago := time.Now().UTC().Add(-10 * time.Minute)
	lost := []oktafake.LogEvent{
		lifecycle("create-1", events.OktaUserCreate, ago),
		lifecycle("activate-1", events.OktaUserActivate, ago.Add(time.Second)),
		lifecycle("create-2", events.OktaUserCreate, ago.Add(2*time.Second)),
		lifecycle("delete-1", events.OktaUserDeleteInitiated, ago.Add(3*time.Second)),
		lifecycle("delete-2", events.OktaUserDeleteInitiated, ago.Add(4*time.Second)),
	}
	others := []oktafake.LogEvent{
		lifecycle("deactivate-1", events.OktaUserDeactivate, ago.Add(5*time.Second)),
		lifecycle("session-1", "user.session.start", ago.Add(6*time.Second)),
	}
	tests := []struct {
		name    string
		routing oktahook.Routing
		// hooked were delivered by the hook before the backfill ran.
		hooked []oktafake.LogEvent
		want   map[string]string // id → type published
		dups   int
	}{
		{name: "the sync types, every page", want: map[string]string{
			"create-1": events.OktaCreateUser, "activate-1": events.OktaCreateUser, "create-2": events.OktaCreateUser,
			"delete-1": events.OktaDeleteUser, "delete-2": events.OktaDeleteUser}},
		{name: "deactivate deletes when configured", routing: oktahook.Routing{DeactivateDeletes: true}, want: map[string]string{
			"create-1": events.OktaCreateUser, "activate-1": events.OktaCreateUser, "create-2": events.OktaCreateUser,
			"delete-1": events.OktaDeleteUser, "delete-2": events.OktaDeleteUser, "deactivate-1": events.OktaDeleteUser}},
		{name: "forwarded types", routing: oktahook.Routing{Forward: []string{"user.session.start"}}, want: map[string]string{
			"create-1": events.OktaCreateUser, "activate-1": events.OktaCreateUser, "create-2": events.OktaCreateUser,
			"delete-1": events.OktaDeleteUser, "delete-2": events.OktaDeleteUser, "session-1": "okta.user.session.start"}},
		{name: "what the hook delivered is stored once", hooked: lost[3:4], dups: 1, want: map[string]string{
			"create-1": events.OktaCreateUser, "activate-1": events.OktaCreateUser, "create-2": events.OktaCreateUser,
			"delete-1": events.OktaDeleteUser, "delete-2": events.OktaDeleteUser}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 24*time.Hour)
			h.fake.AppendLog(append(slices.Clone(lost), others...)...)
			for _, le := range tc.hooked {
				h.hookDelivery(le)
			}
			in := h.start(testConfig(), tc.routing)
			wantNew := float64(len(tc.want) - tc.dups)
			waitFor(t, "every event handled", func() bool {
				return in.events("published") == wantNew && in.events("duplicate") == float64(tc.dups)
			})
			got := h.stored()
			if len(got) != len(tc.want) {
				t.Fatalf("stream holds %v, want %d events", ids(got), len(tc.want))
			}
			for _, e := range got {
				wantType, ok := tc.want[e.ID]
				hooked := slices.ContainsFunc(tc.hooked, func(le oktafake.LogEvent) bool { return le.UUID == e.ID })
				switch {
				case !ok:
					t.Errorf("%s was published", e.ID)
				case e.Type != wantType:
					t.Errorf("%s published as %s, want %s", e.ID, e.Type, wantType)
				case hooked && e.Channel != oktahook.ChannelEventHook:
					t.Errorf("%s: the hook's delivery was replaced (channel %s)", e.ID, e.Channel)
				case !hooked && (e.Channel != oktahook.ChannelSystemLog || e.Source != h.orgURL):
					t.Errorf("%s: channel %s, source %s; want the System Log of %s", e.ID, e.Channel, e.Source, h.orgURL)
				}
			}
			if pages := in.metric("idsync_okta_backfill_pages_total"); pages < 3 {
				t.Errorf("%v pages read, want the events over several pages", pages)
			}
			// Later polls re-read the overlap and publish nothing more.
			polls := in.metric("idsync_okta_backfill_polls_total", "result", "ok")
			waitFor(t, "two more polls", func() bool { return in.metric("idsync_okta_backfill_polls_total", "result", "ok") >= polls+2 })
			if n := len(h.stored()); n != len(tc.want) {
				t.Errorf("later polls stored more: %d events", n)
			}
		})
	}
}

// TestBackfillResumes stops the reading instance — by a restart, by a
// crash, by a graceful handover — and checks the next one resumes from the
// cursor: what came meanwhile is published, nothing twice.
func TestBackfillResumes(t *testing.T) {
	tests := []struct {
		name string
		// standby starts a second instance beside the first.
		standby bool
		crash   bool
	}{
		{name: "restart"},
		{name: "failover after a graceful stop", standby: true},
		{name: "failover after a crash", standby: true, crash: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 24*time.Hour)
			// Within the overlap: the next instance reads them again, and
			// must skip them from the cursor's memory.
			at := time.Now().UTC().Add(-30 * time.Second)
			for i, id := range uuids("before", 5) {
				h.fake.AppendLog(lifecycle(id, events.OktaUserCreate, at.Add(time.Duration(i)*time.Second)))
			}
			a := h.start(testConfig(), oktahook.Routing{})
			waitFor(t, "the first instance active", a.active)
			var b *instance
			if tc.standby {
				b = h.start(testConfig(), oktahook.Routing{})
			}
			waitFor(t, "the first events published", func() bool { return a.events("published") == 5 })
			if b != nil && b.active() {
				t.Fatal("two instances active at once")
			}
			if tc.crash {
				a.crash()
			} else {
				a.stop()
			}
			if b == nil {
				b = h.start(testConfig(), oktahook.Routing{})
			}
			for _, id := range uuids("after", 4) {
				h.fake.AppendLog(lifecycle(id, events.OktaUserDeleteInitiated, time.Now().UTC()))
			}
			waitFor(t, "the next instance publishes what came since", func() bool { return b.events("published") == 4 })
			if !b.active() {
				t.Error("the instance publishing is not the active one")
			}
			want := append(uuids("after", 4), uuids("before", 5)...)
			slices.Sort(want)
			if got := ids(h.stored()); !slices.Equal(got, want) {
				t.Fatalf("stream holds %v, want %v", got, want)
			}
			if d, r := b.events("duplicate"), b.events("reread"); d != 0 || r < 5 {
				t.Errorf("the next instance republished %v events and skipped %v: it did not resume from the cursor", d, r)
			}
		})
	}
}

// TestBackfillHonoursRateLimit reads pages under a quota of three calls a
// second: the pacer holds the calls back and Okta refuses none.
func TestBackfillHonoursRateLimit(t *testing.T) {
	h := newHarness(t, 24*time.Hour)
	at := time.Now().UTC().Add(-20 * time.Minute)
	for i, id := range uuids("rl", 14) {
		h.fake.AppendLog(lifecycle(id, events.OktaUserCreate, at.Add(time.Duration(i)*time.Second)))
	}
	h.fake.Faults().RateLimit(3, time.Second)
	in := h.start(testConfig(), oktahook.Routing{})
	waitFor(t, "every event published", func() bool { return in.events("published") == 14 })
	refused := 0
	for _, r := range h.fake.Faults().Requests() {
		if r.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 0 {
		t.Fatalf("Okta refused %d calls with 429", refused)
	}
	if waits := in.metric("idsync_provider_rate_limit_waits_total", "provider", "okta"); waits == 0 {
		t.Error("the pacer never held a call back: the test did not reach the quota")
	}
}

// TestBackfillLongGap: events older than the stream's duplicate window are
// checked against the event log — one it holds is not published again, one
// it lacks is — and while the event log does not answer, nothing of the
// page is published (and nothing skipped). Recent events are not asked about.
func TestBackfillLongGap(t *testing.T) {
	h := newHarness(t, 10*time.Minute)
	old := time.Now().UTC().Add(-time.Hour)
	h.fake.AppendLog(
		lifecycle("old-held", events.OktaUserDeleteInitiated, old),
		lifecycle("old-missing", events.OktaUserDeleteInitiated, old.Add(time.Second)),
		lifecycle("recent", events.OktaUserCreate, time.Now().UTC().Add(-time.Minute)),
	)
	h.held["old-held"] = true
	cfg := testConfig()
	cfg.Lookback, cfg.PageSize = 2*time.Hour, 1000
	in := h.start(cfg, oktahook.Routing{})
	waitFor(t, "a retry while the event log is away", func() bool {
		return in.metric("idsync_okta_backfill_eventlog_retries_total") >= 2
	})
	if got := h.stored(); len(got) != 0 {
		t.Fatalf("published %v while the event log could not say what it holds", ids(got))
	}
	stop := h.serveIndex()
	defer stop()
	waitFor(t, "the page published", func() bool { return in.events("published") == 2 && in.events("known") == 1 })
	if got := ids(h.stored()); !slices.Equal(got, []string{"old-missing", "recent"}) {
		t.Fatalf("stream holds %v, want old-missing and recent", got)
	}
	h.mu.Lock()
	asked := slices.Clone(h.asked)
	h.mu.Unlock()
	slices.Sort(asked)
	if !slices.Equal(slices.Compact(asked), []string{"old-held", "old-missing"}) {
		t.Errorf("the event log was asked about %v, want the two old events only", asked)
	}
}

// TestFilter is the filter sent to Okta for a routing.
func TestFilter(t *testing.T) {
	t.Parallel()
	cat := events.Default()
	tests := []struct {
		name    string
		routing oktahook.Routing
		want    string
	}{
		{name: "the sync types", want: `eventType eq "user.lifecycle.activate" or eventType eq "user.lifecycle.create" or eventType eq "user.lifecycle.delete.initiated"`},
		{name: "deactivate deletes", routing: oktahook.Routing{DeactivateDeletes: true},
			want: `eventType eq "user.lifecycle.activate" or eventType eq "user.lifecycle.create" or eventType eq "user.lifecycle.deactivate" or eventType eq "user.lifecycle.delete.initiated"`},
		{name: "forwarded", routing: oktahook.Routing{Forward: []string{"group.user_membership.add"}},
			want: `eventType eq "group.user_membership.add" or eventType eq "user.lifecycle.activate" or eventType eq "user.lifecycle.create" or eventType eq "user.lifecycle.delete.initiated"`},
		{name: "every type forwarded: no filter", routing: oktahook.Routing{Forward: []string{"*"}}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			types, all := tc.routing.EventTypes(cat)
			got := ""
			if !all {
				got = oktalog.Filter(types)
			}
			if got != tc.want {
				t.Fatalf("filter %q, want %q", got, tc.want)
			}
		})
	}
	long := make([]string, 200)
	for i := range long {
		long[i] = "some.rather.long.event.type.name"
	}
	if f := oktalog.Filter(long); f != "" {
		t.Errorf("a filter of %d bytes was sent rather than filtering here", len(f))
	}
}
