package okta_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v6/okta"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktafake"
)

// logEvent is what these tests read of a System Log event.
type logEvent struct {
	UUID      string `json:"uuid"`
	EventType string `json:"eventType"`
	Published string `json:"published"`
	Target    []struct {
		ID, Type, AlternateID string
	} `json:"target"`
}

// readAll reads q to its last page and returns the events and the pages read.
func readAll(t *testing.T, c *okta.Client, q okta.LogQuery) ([]logEvent, int) {
	t.Helper()
	var out []logEvent
	pages := 0
	err := c.Logs(context.Background(), q, func(p okta.LogPage) error {
		pages++
		for _, raw := range p.Events {
			var e logEvent
			if err := json.Unmarshal(raw, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, pages
}

func types(evs []logEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.EventType
	}
	return out
}

// TestSystemLogThroughTheSDK reads the fake's System Log with the SDK's
// SystemLogAPI: bounded and polling requests, several pages, the filter
// the backfill sends, the time bounds, and the errors Okta answers.
func TestSystemLogThroughTheSDK(t *testing.T) {
	f, c := setup(t)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var evs []oktafake.LogEvent
	for i, typ := range []string{"user.lifecycle.create", "group.user_membership.add", "user.lifecycle.activate", "user.session.start",
		"user.lifecycle.delete.initiated", "user.lifecycle.create", "user.lifecycle.deactivate"} {
		evs = append(evs, oktafake.LogEvent{UUID: fmt.Sprintf("u-%d", i), EventType: typ, Published: base.Add(time.Duration(i) * time.Minute),
			Target: []oktafake.LogEntity{{ID: "00u" + fmt.Sprint(i), Type: "User", AlternateID: fmt.Sprintf("p%d@example.com", i)}}})
	}
	// Stored out of order: a bounded read sorts by published.
	f.AppendLog(evs[3:]...)
	f.AppendLog(evs[:3]...)
	lifecycle := `eventType eq "user.lifecycle.create" or eventType eq "user.lifecycle.activate" or eventType eq "user.lifecycle.delete.initiated"`

	tests := []struct {
		name      string
		q         okta.LogQuery
		want      []string
		wantPages int
	}{
		{name: "bounded, every page in published order", q: okta.LogQuery{Since: base, Until: base.Add(time.Hour), Limit: 2},
			want: []string{"u-0", "u-1", "u-2", "u-3", "u-4", "u-5", "u-6"}, wantPages: 4},
		{name: "bounded, a full last page has no next link", q: okta.LogQuery{Since: base, Until: base.Add(6 * time.Minute), Limit: 3},
			want: []string{"u-0", "u-1", "u-2", "u-3", "u-4", "u-5"}, wantPages: 2},
		{name: "since is inclusive, until exclusive", q: okta.LogQuery{Since: base.Add(2 * time.Minute), Until: base.Add(5 * time.Minute), Limit: 100},
			want: []string{"u-2", "u-3", "u-4"}, wantPages: 1},
		{name: "filter on event types", q: okta.LogQuery{Since: base, Until: base.Add(time.Hour), Filter: lifecycle, Limit: 2},
			want: []string{"u-0", "u-2", "u-4", "u-5"}, wantPages: 2},
		{name: "polling: ends at the empty page its next link leads to", q: okta.LogQuery{Since: base.Add(-time.Hour), Limit: 3},
			want: []string{"u-3", "u-4", "u-5", "u-6", "u-0", "u-1", "u-2"}, wantPages: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := readAll(t, c, tc.q)
			var ids []string
			for _, e := range got {
				ids = append(ids, e.UUID)
			}
			if !slices.Equal(ids, tc.want) || pages != tc.wantPages {
				t.Fatalf("read %v in %d pages, want %v in %d", ids, pages, tc.want, tc.wantPages)
			}
		})
	}

	t.Run("a polling link read later returns what came since", func(t *testing.T) {
		p, err := c.LogPage(context.Background(), okta.LogQuery{Since: base.Add(-time.Hour), Limit: 100})
		if err != nil || len(p.Events) != 7 || p.Next == "" {
			t.Fatalf("first polling page: %d events, next %q, %v", len(p.Events), p.Next, err)
		}
		f.AppendLog(oktafake.LogEvent{UUID: "later", EventType: "user.lifecycle.create"})
		p, err = c.LogPage(context.Background(), okta.LogQuery{Since: base.Add(-time.Hour), Limit: 100, After: p.Next})
		if err != nil || len(p.Events) != 1 || p.Next == "" {
			t.Fatalf("polling page after a new event: %d events, next %q, %v", len(p.Events), p.Next, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			q    okta.LogQuery
		}{
			{"unsupported filter", okta.LogQuery{Since: base, Until: base.Add(time.Hour), Filter: `eventType gt "a"`}},
			{"unknown attribute", okta.LogQuery{Since: base, Until: base.Add(time.Hour), Filter: `colour eq "red"`}},
			{"since after until", okta.LogQuery{Since: base.Add(time.Hour), Until: base}},
			{"a cursor Okta never gave", okta.LogQuery{Since: base, Until: base.Add(time.Hour), After: "bm90IGEgY3Vyc29y"}},
		} {
			if _, err := c.LogPage(context.Background(), tc.q); errclass.Of(err) != errclass.Permanent {
				t.Errorf("%s: %v (class %s), want a permanent error", tc.name, err, errclass.Of(err))
			}
		}
	})
}

// TestSystemLogRecordsTheUserLifecycle changes users through the SDK's
// user APIs and reads the events Okta logs for them.
func TestSystemLogRecordsTheUserLifecycle(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	start := time.Now().UTC().Add(-time.Second)
	api := sdkClient(t, f)
	login := "dora@example.com"
	u, _, err := api.UserAPI.CreateUser(ctx).Body(sdk.CreateUserRequest{Profile: sdk.UserProfile{Login: &login, Email: &login}}).Activate(true).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.UserLifecycleAPI.DeactivateUser(ctx, u.GetId()).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := api.UserAPI.DeleteUser(ctx, u.GetId()).Execute(); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, c, okta.LogQuery{Since: start, Until: time.Now().Add(time.Second), Limit: 1})
	want := []string{"user.lifecycle.create", "user.lifecycle.activate", "user.lifecycle.deactivate", "user.lifecycle.delete.initiated"}
	if !slices.Equal(types(got), want) {
		t.Fatalf("logged %v, want %v", types(got), want)
	}
	for _, e := range got {
		if len(e.Target) != 1 || e.Target[0].ID != u.GetId() || e.Target[0].Type != "User" || e.Target[0].AlternateID != login {
			t.Errorf("%s: target %+v, want the user", e.EventType, e.Target)
		}
	}
	if _, found, _ := c.UserID(ctx, login); found {
		t.Error("the user is still there after the second DELETE")
	}
}

// TestSystemLogHonoursTheRateLimit reads many pages under a small quota:
// the pacer holds the calls back until each reset, so Okta refuses none.
func TestSystemLogHonoursTheRateLimit(t *testing.T) {
	f, c := setup(t)
	base := time.Now().UTC().Add(-time.Hour)
	for i := range 12 {
		f.AppendLog(oktafake.LogEvent{EventType: "user.lifecycle.create", Published: base.Add(time.Duration(i) * time.Second)})
	}
	f.Faults().RateLimit(3, time.Second)
	got, pages := readAll(t, c, okta.LogQuery{Since: base, Until: time.Now(), Limit: 2})
	if len(got) != 12 || pages != 6 {
		t.Fatalf("read %d events in %d pages, want 12 in 6", len(got), pages)
	}
	refused := 0
	for _, r := range f.Faults().Requests() {
		if r.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 0 {
		t.Fatalf("Okta refused %d calls with 429; the pacer should have waited", refused)
	}
}

// sdkClient is a bare SDK client on the fake, to change users as an admin's
// script would.
func sdkClient(t *testing.T, f *oktafake.Fake) *sdk.APIClient {
	t.Helper()
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	conf, err := sdk.NewConfiguration(sdk.WithOrgUrl(srv.URL), sdk.WithToken("test-token"), sdk.WithCache(false),
		sdk.WithHttpClientPtr(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	// NewConfiguration keeps only the host name: put the port back.
	u, _ := url.Parse(srv.URL)
	conf.Host, conf.Scheme = u.Host, u.Scheme
	return sdk.NewAPIClient(conf)
}
