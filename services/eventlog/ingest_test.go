package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/services/eventlog/store"
)

// settled reports whether the event log's consumers have acknowledged
// every message of the three streams.
func settled(t *testing.T, conn *bus.Conn, ns events.Namespace) func() bool {
	return func() bool {
		ctx := context.Background()
		for _, base := range []string{bus.StreamEvents, bus.StreamOutcomes, bus.StreamDLQ} {
			s, err := conn.JS.Stream(ctx, ns.Stream(base))
			if err != nil {
				t.Fatal(err)
			}
			si, err := s.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Consumer(ctx, Durable)
			if err != nil {
				return false // not created yet
			}
			ci, err := c.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ci.NumPending != 0 || ci.NumAckPending != 0 || ci.AckFloor.Stream < si.State.LastSeq {
				return false
			}
		}
		return true
	}
}

func TestIngestRecordsEveryKind(t *testing.T) {
	h := embedded(t)
	reg := prometheus.NewRegistry()
	h.ingest(h.conn, h.st, testBatch(50), reg)
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	ev := deleteUser("evt-1", "ann", at)
	h.publish(ev)

	// An outcome of gitlab-sync about the event, through the real publisher.
	out := outcome.New(h.conn, h.ns, "gitlab-sync", events.ProviderGitLab, false, prometheus.NewRegistry())
	if err := out.Publish(context.Background(), ev, outcome.Record{
		RuleID: "offboard", Action: "group_member.remove", Result: outcome.Revoked, Role: "developer",
		Target: outcome.Target{Type: "group", Name: "acme"}, Reason: "user deleted in Okta",
		Person: outcome.Person{SourceID: "00uann", Email: "ann@example.com"},
	}); err != nil {
		t.Fatal(err)
	}
	// A guard alert.
	if err := out.Alerter()(context.Background(), guard.Alert{Consumer: "gitlab-sync", Provider: "gitlab", Paused: true, Removals: 12, Threshold: 10, Window: time.Hour, Reason: "too many removals"}); err != nil {
		t.Fatal(err)
	}
	// A dead letter, through a real consumer that gives up on the event.
	spec := bus.SyncConsumer(h.ns, events.Default(), events.ProviderGitHub)
	sc := bus.Settings{Workers: 1, MaxAckPending: 8, AckWait: 2 * time.Second, MaxDeliver: 3, BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond, DrainTimeout: time.Second, LagInterval: time.Second}
	c, err := bus.NewConsumer(h.conn, h.ns, events.Default(), spec, sc, func(context.Context, events.Event) error {
		return errclass.AsPermanent(errors.New("github says 422"))
	}, logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Run(cctx) }()
	// A message that breaks the contract.
	deleteType, _ := events.Default().Lookup(events.OktaDeleteUser)
	bad := nats.NewMsg(h.ns.Subject(deleteType))
	bad.Header.Set(events.HeaderID, "bad-1")
	bad.Header.Set(events.HeaderSubject, "00uzed")
	bad.Data = []byte("not protobuf, not json")
	h.publishMsg(bus.NewPublisher(h.conn, h.ns.Stream(bus.StreamEvents), 5*time.Second, prometheus.NewRegistry()), bad)

	// ann: the event, the outcome, the dead letter; zed: the undecodable
	// message and its dead letter (github-sync refuses it too).
	waitUntil(t, "the records", func() bool {
		return len(personRecords(t, h.st, "00uann")) == 3 && len(personRecords(t, h.st, "00uzed")) == 2
	})
	waitUntil(t, "everything acknowledged", settled(t, h.conn, h.ns))
	byKind := map[string]store.Record{}
	for _, r := range personRecords(t, h.st, "00uann") {
		byKind[r.Kind] = r
	}
	for _, r := range personRecords(t, h.st, "00uzed") {
		if r.Kind == store.KindEvent {
			byKind["undecodable"] = r
		}
	}
	cases := []struct {
		kind                                string
		eventType, actor, outcome, contains string
	}{
		{store.KindEvent, "okta.UserDeletedEvent", "admin@example.com", "success", "offboarding"},
		{store.KindOutcome, "gitlab.GroupMemberRemovedEvent", "gitlab-sync", "revoked", "user deleted in Okta"},
		{store.KindDeadLetter, TypeDeadLetter, "github-sync", "permanent", "github says 422"},
		{"undecodable", TypeUnknown, "", "", "specversion"},
	}
	for _, tc := range cases {
		r, ok := byKind[tc.kind]
		if !ok {
			t.Errorf("no %s record", tc.kind)
			continue
		}
		if r.EventType != tc.eventType || r.Actor != tc.actor || r.Outcome != tc.outcome || !strings.Contains(r.Reason, tc.contains) {
			t.Errorf("%s: type %q actor %q outcome %q reason %q; want %q %q %q …%q…", tc.kind, r.EventType, r.Actor, r.Outcome, r.Reason, tc.eventType, tc.actor, tc.outcome, tc.contains)
		}
		if r.Stream == "" || r.StreamSeq == 0 || r.Subject == "" {
			t.Errorf("%s: not located on the bus: %q %d %q", tc.kind, r.Stream, r.StreamSeq, r.Subject)
		}
	}
	if ev := byKind[store.KindEvent]; !ev.Occurred.Equal(at) || ev.PersonEmail != "ann@example.com" || ev.ClientIP != "192.0.2.7" {
		t.Errorf("event: occurred %v email %q ip %q", ev.Occurred, ev.PersonEmail, ev.ClientIP)
	}
	if o := byKind[store.KindOutcome]; o.SourceEventID != "evt-1" || o.RuleID != "offboard" || o.Provider != "gitlab" {
		t.Errorf("outcome: source %q rule %q provider %q", o.SourceEventID, o.RuleID, o.Provider)
	}
	alerts := count(t, h.st, store.Query{Actor: "gitlab-sync", Outcome: "paused"})
	if alerts != 1 {
		t.Errorf("guard alerts recorded: %d, want 1", alerts)
	}
	if got := counterValue(t, reg, "idsync_eventlog_records_total", "event", "stored"); got < 2 {
		t.Errorf("records_total{event,stored} = %v, want ≥ 2", got)
	}
}

// flakyStore wraps a store: the first failures Inserts fail, before or
// after committing.
type flakyStore struct {
	store.Store
	failures    atomic.Int32
	afterCommit bool
	// onCommit runs after a successful commit (the crash test closes the
	// connection there).
	onCommit func()
	inserts  atomic.Int32
}

func (f *flakyStore) Insert(ctx context.Context, recs []store.Record) ([]bool, error) {
	f.inserts.Add(1)
	if !f.afterCommit && f.failures.Add(-1) >= 0 {
		return nil, errors.New("database unavailable")
	}
	isNew, err := f.Store.Insert(ctx, recs)
	if err != nil {
		return nil, err
	}
	if f.onCommit != nil {
		f.onCommit()
	}
	if f.afterCommit && f.failures.Add(-1) >= 0 {
		return nil, errors.New("connection reset after commit")
	}
	return isNew, nil
}

func TestIngestStoresEachMessageOnce(t *testing.T) {
	cases := []struct {
		name        string
		failures    int32
		afterCommit bool
		// sameIDs publishes every event a second time under another
		// Nats-Msg-Id (an internal publisher repeating itself).
		sameIDs bool
	}{
		{name: "database outage: retried until stored", failures: 3},
		{name: "commit acknowledged late: redelivery stored once", failures: 2, afterCommit: true},
		{name: "same event id published twice", sameIDs: true},
	}
	for _, kind := range stores {
		for _, tc := range cases {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				h := embedded(t)
				h.st = kind.open(t)
				fs := &flakyStore{Store: h.st, afterCommit: tc.afterCommit}
				fs.failures.Store(tc.failures)
				reg := prometheus.NewRegistry()
				h.ingest(h.conn, fs, testBatch(7), reg)
				const n = 30
				base := time.Now().Add(-time.Hour)
				p := bus.NewPublisher(h.conn, h.ns.Stream(bus.StreamEvents), 5*time.Second, prometheus.NewRegistry())
				for i := range n {
					ev := deleteUser(fmt.Sprintf("once-%02d", i), fmt.Sprintf("user%02d", i), base.Add(time.Duration(i)*time.Second))
					h.publish(ev)
					if tc.sameIDs {
						m, err := events.Encode(h.ns, ev)
						if err != nil {
							t.Fatal(err)
						}
						m.Header.Set(nats.MsgIdHdr, "republished-"+ev.ID)
						h.publishMsg(p, m)
					}
				}
				waitUntil(t, "every message acknowledged", settled(t, h.conn, h.ns))
				if got := count(t, h.st, store.Query{Actor: "admin@example.com"}); got != n {
					t.Fatalf("stored %d records, want %d", got, n)
				}
				for i := range n {
					if recs := personRecords(t, h.st, fmt.Sprintf("00uuser%02d", i)); len(recs) != 1 {
						t.Errorf("user%02d has %d records, want 1", i, len(recs))
					}
				}
				// A batch whose commit was not confirmed is counted when it
				// comes back, as duplicates: stored and duplicates add up to
				// n; otherwise every record is counted stored exactly once.
				stored := counterValue(t, reg, "idsync_eventlog_records_total", "event", "stored")
				dups := counterValue(t, reg, "idsync_eventlog_records_total", "event", "duplicate")
				if want := float64(n); tc.afterCommit && stored+dups != want || !tc.afterCommit && stored != want {
					t.Errorf("records_total{event}: stored %v, duplicate %v; want %d in all", stored, dups, n)
				}
				if tc.afterCommit || tc.sameIDs {
					if dup := counterValue(t, reg, "idsync_eventlog_records_total", "event", "duplicate"); dup == 0 {
						t.Error("no duplicate counted; the redelivery was not exercised")
					}
				}
			})
		}
	}
}

// TestCrashBetweenWriteAndAck: a process commits a batch and dies before
// acknowledging it; the next process gets the batch again and stores
// nothing twice, and nothing is missing.
func TestCrashBetweenWriteAndAck(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		for _, kind := range stores {
			t.Run(kind.name, func(t *testing.T) {
				// A namespace of its own: the streams and the durable
				// consumer must start empty for each store.
				tg.NS = bustest.Namespace(t)
				if tg.Embedded == nil {
					bustest.CleanupNamespace(t, tg.URL, tg.NS)
				}
				crashBetweenWriteAndAck(t, tg, kind.open)
			})
		}
	})
}

func crashBetweenWriteAndAck(t *testing.T, tg bustest.Target, open func(testing.TB) store.Store) {
	h := newHarness(t, tg)
	h.st = open(t)
	const n = 25
	base := time.Now().Add(-time.Hour)
	for i := range n {
		h.publish(deleteUser(fmt.Sprintf("crash-%02d", i), fmt.Sprintf("c%02d", i), base.Add(time.Duration(i)*time.Second)))
	}
	// Process one: its connection dies right after its first commit.
	doomed := h.connect()
	var once sync.Once
	crashed := make(chan struct{})
	fs := &flakyStore{Store: h.st, onCommit: func() {
		once.Do(func() { doomed.NC.Close(); close(crashed) })
	}}
	stop := h.ingest(doomed, fs, testBatch(10), prometheus.NewRegistry())
	select {
	case <-crashed:
	case <-time.After(20 * time.Second):
		t.Fatal("the first process never committed")
	}
	stop()
	committed := count(t, h.st, store.Query{Actor: "admin@example.com"})
	if committed == 0 {
		t.Fatal("nothing committed before the crash")
	}
	// Process two takes over after the ack wait.
	h.ingest(h.connect(), h.st, testBatch(10), prometheus.NewRegistry())
	waitUntil(t, "every message acknowledged", settled(t, h.conn, h.ns))
	if got := count(t, h.st, store.Query{Actor: "admin@example.com"}); got != n {
		t.Fatalf("after the crash: %d records, want %d (committed before the crash: %d)", got, n, committed)
	}
	for i := range n {
		if recs := personRecords(t, h.st, fmt.Sprintf("00uc%02d", i)); len(recs) != 1 {
			t.Errorf("c%02d has %d records, want exactly 1", i, len(recs))
		}
	}
}

// counterValue reads the counter of name with the given label values
// (in the order of the label names, sorted).
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var vals []string
			for _, lp := range m.GetLabel() {
				vals = append(vals, lp.GetValue())
			}
			if strings.Join(vals, ",") == strings.Join(labels, ",") {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
