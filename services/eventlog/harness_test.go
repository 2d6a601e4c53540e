package eventlog

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	"github.com/idsync/idsync/services/eventlog/store"
	"github.com/idsync/idsync/services/eventlog/store/postgres"
	"github.com/idsync/idsync/services/eventlog/store/postgres/pgtest"
	"github.com/idsync/idsync/services/eventlog/store/sqlite"
)

// harness is a bus (in-process or the machine's NATS) with idsync's streams
// and an SQLite event log.
type harness struct {
	t    *testing.T
	url  string
	conn *bus.Conn
	ns   events.Namespace
	st   store.Store
}

func newHarness(t *testing.T, tg bustest.Target) *harness {
	t.Helper()
	h := &harness{t: t, url: tg.URL, ns: tg.NS}
	h.conn = h.connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc := bus.StreamConfig{Replicas: 1, MaxAge: time.Hour, MaxBytes: 8 << 20, Duplicates: time.Minute, DLQMaxAge: time.Hour}
	if err := bus.EnsureStreams(ctx, h.conn.JS, h.ns, sc); err != nil {
		t.Fatal(err)
	}
	h.st = openSQLite(t)
	return h
}

// embedded is a harness on a fresh in-process server.
func embedded(t *testing.T) *harness {
	s := bustest.Start(t)
	return newHarness(t, bustest.Target{Name: "embedded", URL: s.URL(), Embedded: s, NS: bustest.Namespace(t)})
}

func openSQLite(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "eventlog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openPostgres opens a PostgreSQL store in a schema of the test's own on
// the machine's server (pgtest skips, or fails in CI, without one).
func openPostgres(t testing.TB) store.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// stores are the stores the ingest runs on in the tests that are about
// what reaches the store: both of them.
var stores = []struct {
	name string
	open func(testing.TB) store.Store
}{{"sqlite", openSQLite}, {"postgres", openPostgres}}

// connect opens one more connection (a "process" of its own).
func (h *harness) connect() *bus.Conn {
	h.t.Helper()
	conn, err := bus.Connect(bus.ConnConfig{URL: h.url}, "test", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(conn.NC.Close)
	waitUntil(h.t, "connected", conn.Connected)
	return conn
}

func testBatch(size int) bus.BatchSettings {
	return bus.BatchSettings{
		Size: size, Linger: 20 * time.Millisecond, AckWait: 2 * time.Second, MaxDeliver: -1,
		BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, LagInterval: time.Second,
	}
}

// ingest runs the event log's ingest on conn into st until stop is called.
func (h *harness) ingest(conn *bus.Conn, st store.Store, s bus.BatchSettings, reg prometheus.Registerer) (stop func()) {
	h.t.Helper()
	in, err := NewIngest(conn, h.ns, st, s, logging.Discard(), reg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					h.t.Errorf("ingest: %v", err)
				}
			case <-time.After(30 * time.Second):
				h.t.Fatal("ingest did not stop")
			}
		})
	}
	h.t.Cleanup(stop)
	return stop
}

func (h *harness) publish(evs ...events.Event) {
	h.t.Helper()
	p := bus.NewPublisher(h.conn, h.ns.Stream(bus.StreamEvents), 5*time.Second, prometheus.NewRegistry())
	for _, ev := range evs {
		m, err := events.Encode(h.ns, ev)
		if err != nil {
			h.t.Fatal(err)
		}
		h.publishMsg(p, m)
	}
}

func (h *harness) publishMsg(p *bus.Publisher, m *nats.Msg) {
	h.t.Helper()
	if _, err := p.Publish(context.Background(), m); err != nil {
		h.t.Fatal(err)
	}
}

// personRecords returns every record about (or by) user.
func personRecords(t *testing.T, st store.Store, user string) []store.Record {
	t.Helper()
	recs, err := st.Person(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// count counts every record of the store (every test record is about a
// user-… person or an actor named test).
func count(t *testing.T, st store.Store, q store.Query) int {
	t.Helper()
	q.Limit = 1
	p, err := st.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deleteUser is an okta.delete.user event about user, by admin@example.com.
func deleteUser(id, user string, at time.Time) events.Event {
	t, _ := events.Default().Lookup(events.OktaDeleteUser)
	return events.Event{
		ID: id, Type: t, Source: "urn:test", Subject: "00u" + user, Time: at,
		Payload: &eventsv1.OktaUserLifecycle{
			Uuid: id, EventType: events.OktaUserDeleteInitiated, Published: timestamppb.New(at),
			User:          &eventsv1.OktaUser{Id: "00u" + user, Login: user + "@example.com"},
			Actor:         &eventsv1.Actor{Id: "00uadmin", AlternateId: "admin@example.com", DisplayName: "Admin"},
			Client:        &eventsv1.Client{IpAddress: "192.0.2.7", UserAgent: "Mozilla/5.0"},
			OutcomeResult: "SUCCESS", OutcomeReason: "offboarding",
		},
	}
}
