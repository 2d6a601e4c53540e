package oktabackfill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	oktabackfill "github.com/idsync/idsync/services/okta-backfill"
)

const token = "okta-backfill-test-token"

// logBuffer is a log sink safe across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// addr waits for the "listening" line and returns its address.
func (l *logBuffer) addr(t *testing.T) string {
	t.Helper()
	var got string
	defer func() {
		if t.Failed() {
			t.Logf("logs:\n%s", l.String())
		}
	}()
	waitFor(t, "listening", func() bool {
		for line := range strings.SplitSeq(l.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				got = rec.Addr
				return true
			}
		}
		return false
	})
	return got
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	synctest.Eventually(t, what, 30*time.Second, cond)
}

func TestRunRefusesAnIncompleteConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "no Okta", env: map[string]string{"IDSYNC_NATS_URL": "nats://127.0.0.1:1"},
			want: []string{"IDSYNC_OKTA_ORG_URL and IDSYNC_OKTA_API_TOKEN"}},
		{name: "no NATS, odd values", env: map[string]string{"IDSYNC_OKTA_ORG_URL": "https://x.okta.com", "IDSYNC_OKTA_API_TOKEN": "tok-secret-value",
			"IDSYNC_OKTA_BACKFILL_PAGE_SIZE": "5000", "IDSYNC_OKTA_FORWARD_EVENT_TYPES": "no.such.type"},
			want: []string{"IDSYNC_NATS_URL", "IDSYNC_OKTA_BACKFILL_PAGE_SIZE", "IDSYNC_OKTA_FORWARD_EVENT_TYPES"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := oktabackfill.Run(context.Background(), nil, func(k string) string { return tc.env[k] }, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "tok-secret-value") {
				t.Error("the error shows the token")
			}
		})
	}
}

// TestRun runs the service against NATS and the Okta fake: it serves its
// health, readiness and metrics, publishes what the System Log holds, and
// stops cleanly when its context ends.
func TestRun(t *testing.T) {
	srv := bustest.Start(t)
	ns := bustest.Namespace(t)
	fake := oktafake.New(token)
	web := httptest.NewServer(fake.Handler())
	defer web.Close()
	fake.SetBaseURL(web.URL)
	fake.AppendLog(oktafake.LogEvent{UUID: "run-1", EventType: events.OktaUserDeleteInitiated, Published: time.Now().Add(-time.Minute),
		Target: []oktafake.LogEntity{{ID: "00uann", Type: "User", AlternateID: "ann@example.com"}}})
	env := map[string]string{
		"IDSYNC_NATS_URL": srv.URL(), "IDSYNC_NAMESPACE": string(ns), "IDSYNC_HTTP_ADDR": "127.0.0.1:0",
		"IDSYNC_OKTA_ORG_URL": web.URL, "IDSYNC_OKTA_API_TOKEN": token,
		"IDSYNC_OKTA_BACKFILL_INTERVAL": "200ms", "IDSYNC_OKTA_BACKFILL_SETTLE": "0s", "IDSYNC_STREAM_MAX_BYTES": "16MiB",
	}
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- oktabackfill.Run(ctx, nil, func(k string) string { return env[k] }, io.Discard, logs) }()
	select {
	case err := <-done:
		t.Fatalf("Run returned at once: %v\n%s", err, logs)
	case <-time.After(100 * time.Millisecond):
	}
	base := "http://" + logs.addr(t)
	for path, want := range map[string]string{"/healthz": "", "/metrics": "idsync_okta_backfill_lag_seconds"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, want 200 with %q", path, resp.StatusCode, want)
		}
	}
	waitFor(t, "ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitFor(t, "the event published", func() bool {
		s, err := js.Stream(context.Background(), ns.Stream(bus.StreamEvents))
		if err != nil {
			return false
		}
		m, err := s.GetLastMsgForSubject(context.Background(), ns.Subject(mustType(t, events.OktaDeleteUser)))
		return err == nil && m.Header.Get(events.HeaderID) == "run-1"
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the logs show the Okta token")
	}
}

func mustType(t *testing.T, name string) *events.Type {
	t.Helper()
	typ, ok := events.Default().Lookup(name)
	if !ok {
		t.Fatalf("no type %s", name)
	}
	return typ
}
