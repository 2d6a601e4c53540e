package eventlog

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/services/eventlog/store/postgres/pgtest"
)

// lockedBuffer collects a process's output safely across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// listenAddr finds the address the service logged it listens on.
func listenAddr(logs string) string {
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			return line.Addr
		}
	}
	return ""
}

// TestRunAsItsOwnService runs the eventlog service as its main does: it
// records what reaches the bus, serves the API, health and metrics, and
// stops cleanly on cancellation.
func TestRunAsItsOwnService(t *testing.T) {
	cases := []struct {
		name string
		// dsn is IDSYNC_EVENTLOG_DSN; empty means the default SQLite file.
		dsn func(tb testing.TB) string
	}{
		{"default sqlite", func(testing.TB) string { return "" }},
		{"postgres", pgtest.DSN},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runAsItsOwnService(t, tc.dsn(t)) })
	}
}

func runAsItsOwnService(t *testing.T, dsn string) {
	srv := bustest.Start(t)
	ns := bustest.Namespace(t)
	dataDir := t.TempDir()
	hash, _ := bcrypt.GenerateFromPassword([]byte(apiPass), bcrypt.MinCost)
	env := map[string]string{
		"IDSYNC_NATS_URL": srv.URL(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NAMESPACE": string(ns),
		"IDSYNC_STREAM_MAX_BYTES": "8MiB", "IDSYNC_DATA_DIR": dataDir, "IDSYNC_API_USERS": apiUser + ":" + string(hash), "IDSYNC_EVENTLOG_BATCH_LINGER": "10ms",
		"IDSYNC_EVENTLOG_DSN": dsn,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, nil, func(k string) string { return env[k] }, &lockedBuffer{}, stderr) }()
	var base string
	waitUntil(t, "listening", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned %v\n%s", err, stderr)
		default:
		}
		if a := listenAddr(stderr.String()); a != "" {
			base = "http://" + a
		}
		return base != ""
	})
	waitUntil(t, "ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// The service made the streams (it may start before the gateway);
	// publish an event there as the gateway would.
	h := &harness{t: t, url: srv.URL(), ns: ns}
	h.conn = h.connect()
	defer func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", stderr)
		}
	}()
	waitUntil(t, "the streams", func() bool { return bus.StreamsPresent(context.Background(), h.conn.JS, ns) == nil })
	h.publish(deleteUser("run-1", "ann", time.Now().Add(-time.Minute)))
	waitUntil(t, "the event in the API", func() bool {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/events?limit=10&offset=0&userId=ann@example.com", nil)
		req.SetBasicAuth(apiUser, apiPass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var rs ResultSet
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&rs) == nil && len(rs.ResultSet) == 1
	})
	for path, want := range map[string]string{
		"/metrics":             "idsync_eventlog_records_total",
		"/api/event-types":     `"okta.delete.user"`,
		"/api/event-types.csv": "okta.UserDeletedEvent",
		"/healthz":             "",
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(b.String(), want) {
			t.Errorf("%s: %d, want 200 with %q", path, resp.StatusCode, want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	if _, err := os.Stat(filepath.Join(dataDir, DefaultSQLiteFile)); (err == nil) != (dsn == "") {
		t.Errorf("the default SQLite file, with IDSYNC_EVENTLOG_DSN %q: %v", dsn, err)
	}
	if dsn != "" && strings.Contains(stderr.String(), dsn) {
		t.Error("the logs contain the whole DSN")
	}
	if strings.Contains(stderr.String(), apiPass) || strings.Contains(stderr.String(), string(hash)) {
		t.Error("the logs contain a credential")
	}
}

// TestRunReportsEveryConfigurationProblem: one error per problem, each
// naming its variable.
func TestRunReportsEveryConfigurationProblem(t *testing.T) {
	env := map[string]string{
		"IDSYNC_EVENTLOG_DSN":          "mysql://db/eventlog",
		"IDSYNC_API_USERS":             "alice:not-a-hash,nocolon",
		"IDSYNC_EVENTLOG_RETENTION":    "10m",
		"IDSYNC_EVENTLOG_BATCH_SIZE":   "0",
		"IDSYNC_EVENTLOG_BATCH_LINGER": "1m",
	}
	err := Run(context.Background(), nil, func(k string) string { return env[k] }, &lockedBuffer{}, &lockedBuffer{})
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, v := range []string{"IDSYNC_EVENTLOG_DSN", "IDSYNC_EVENTLOG_RETENTION", "IDSYNC_EVENTLOG_BATCH_SIZE", "IDSYNC_EVENTLOG_BATCH_LINGER", "IDSYNC_NATS_URL"} {
		if !strings.Contains(msg, v) {
			t.Errorf("no error names %s:\n%s", v, msg)
		}
	}
	if n := strings.Count(msg, "IDSYNC_API_USERS"); n != 2 {
		t.Errorf("%d errors name IDSYNC_API_USERS, want one per bad entry:\n%s", n, msg)
	}
}

func TestParseDSN(t *testing.T) {
	cases := []struct {
		dsn, driver, source string
		bad                 bool
	}{
		{"", DriverSQLite, filepath.Join("data", DefaultSQLiteFile), false},
		{"sqlite:///var/lib/idsync/log.db", DriverSQLite, "/var/lib/idsync/log.db", false},
		{"sqlite://relative/log.db", DriverSQLite, "relative/log.db", false},
		{"postgres://idsync:pw@db:5432/idsync?sslmode=require", DriverPostgres, "postgres://idsync:pw@db:5432/idsync?sslmode=require", false},
		{"postgresql://db/idsync", DriverPostgres, "postgresql://db/idsync", false},
		{"sqlite://", "", "", true},
		{"sqlite:///x.db?mode=ro", "", "", true},
		{"mysql://db/x", "", "", true},
		{"/var/lib/x.db", "", "", true},
		{"postgres://db:99999999999/x", "", "", true},
	}
	for _, tc := range cases {
		driver, source, err := ParseDSN(tc.dsn, "data")
		if (err != nil) != tc.bad || driver != tc.driver || source != tc.source {
			t.Errorf("ParseDSN(%q) = %q, %q, %v", tc.dsn, driver, source, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	if got := redactDSN("postgres://idsync:s3cret@db:5432/idsync"); strings.Contains(got, "s3cret") || got != "db:5432/idsync" {
		t.Errorf("redactDSN = %q", got)
	}
	if got := redactErr(fmt.Errorf("failed to connect to user=idsync password=s3cret"), "postgres://idsync:s3cret@db/x"); strings.Contains(got.Error(), "s3cret") {
		t.Errorf("redactErr = %v", got)
	}
}
