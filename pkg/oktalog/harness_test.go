package oktalog_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/known"
	"github.com/idsync/idsync/pkg/lock"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/oktalog"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

const oktaToken = "backfill-test-token"

// lockTTL is the lease bucket's TTL in these tests: a crashed instance's
// lease frees itself after it (production: bus.LockTTL).
const lockTTL = 2 * time.Second

// harness is an in-process JetStream with the streams, the Okta fake on
// HTTP and an event log index the test controls.
type harness struct {
	t      testing.TB
	srv    *bustest.Server
	ns     events.Namespace
	conn   *bus.Conn
	fake   *oktafake.Fake
	orgURL string

	mu    sync.Mutex
	held  map[string]bool // ids the event log holds
	asked []string        // ids the event log was asked about
}

func newHarness(t testing.TB, window time.Duration) *harness {
	t.Helper()
	h := &harness{t: t, srv: bustest.Start(t), ns: bustest.Namespace(t), held: map[string]bool{}}
	h.conn = h.connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	streams := bus.StreamConfig{Replicas: 1, MaxAge: 24 * time.Hour, MaxBytes: 64 << 20, Duplicates: window, DLQMaxAge: 24 * time.Hour}
	if err := bus.EnsureStreams(ctx, h.conn.JS, h.ns, streams); err != nil {
		t.Fatal(err)
	}
	h.fake = oktafake.New(oktaToken)
	web := httptest.NewServer(h.fake.Handler())
	t.Cleanup(web.Close)
	h.fake.SetBaseURL(web.URL)
	h.orgURL = web.URL
	return h
}

func (h *harness) connect() *bus.Conn {
	h.t.Helper()
	conn, err := bus.Connect(bus.ConnConfig{URL: h.srv.URL()}, "test", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(conn.NC.Close)
	waitFor(h.t, "NATS connected", conn.Connected)
	return conn
}

// serveIndex answers eventlog.known from h.held, as the event log does
// from its store; stop makes the event log unavailable again.
func (h *harness) serveIndex() (stop func()) {
	h.t.Helper()
	sub, err := known.Serve(h.conn.NC, h.ns, func(_ context.Context, ids []string) (map[string]bool, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.asked = append(h.asked, ids...)
		out := map[string]bool{}
		for _, id := range ids {
			if h.held[id] {
				out[id] = true
			}
		}
		return out, nil
	}, time.Second, logging.Discard())
	if err != nil {
		h.t.Fatal(err)
	}
	return func() { _ = sub.Unsubscribe() }
}

// testConfig polls often and waits for nothing to settle (the fake's log
// is consistent at once).
func testConfig() oktalog.Config {
	return oktalog.Config{Interval: 200 * time.Millisecond, Lookback: time.Hour, Settle: 0, Overlap: time.Minute, PageSize: 2}
}

// instance is one running backfill, on its own NATS connection.
type instance struct {
	t      testing.TB
	conn   *bus.Conn
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func (h *harness) start(cfg oktalog.Config, routing oktahook.Routing) *instance {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := &instance{t: h.t, conn: h.connect(), reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	client, err := okta.New(okta.Config{OrgURL: h.orgURL, APIToken: config.Secret(oktaToken), Timeout: 5 * time.Second}, nil, in.reg)
	if err != nil {
		h.t.Fatal(err)
	}
	cursors, err := bus.KeyValue(ctx, in.conn.JS, h.ns, bus.BucketOktaBackfill, 1)
	if err != nil {
		h.t.Fatal(err)
	}
	lockKV, err := in.conn.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: h.ns.Stream("TEST_LOCKS"), History: 1, TTL: lockTTL, Storage: jetstream.FileStorage})
	if err != nil {
		h.t.Fatal(err)
	}
	locker, err := lock.Open(ctx, lockKV)
	if err != nil {
		h.t.Fatal(err)
	}
	bf, err := oktalog.New(oktalog.Options{
		Config: cfg, Routing: routing, RawMax: 64 << 10, OrgURL: h.orgURL,
		Source: client, Index: known.NewClient(in.conn.NC, h.ns, time.Second),
		Publisher: bus.NewPublisher(in.conn, h.ns.Stream(bus.StreamEvents), 5*time.Second, in.reg),
		NS:        h.ns, JS: in.conn.JS, Cursors: cursors, Locker: locker, Log: logging.Discard(), Reg: in.reg,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	in.cancel = rcancel
	go func() { in.done <- bf.Run(rctx) }()
	h.t.Cleanup(in.stop)
	return in
}

// stop ends the instance as a shutdown does: it releases its lease.
func (in *instance) stop() {
	in.cancel()
	select {
	case <-in.done:
	case <-time.After(20 * time.Second):
		in.t.Errorf("the backfill did not stop within 20 s of its cancellation")
		return
	}
	in.done <- nil // later stops return at once
}

// crash cuts the instance off NATS without letting it release anything.
func (in *instance) crash() { in.conn.NC.Close() }

// metric reads a counter or gauge of the instance (labels: name=value).
func (in *instance) metric(name string, label ...string) float64 {
	mfs, err := in.reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(label); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || lp.GetName() == label[i] && lp.GetValue() == label[i+1]
				}
				if !found {
					continue metrics
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func (in *instance) events(result string) float64 {
	return in.metric("idsync_okta_backfill_events_total", "result", result)
}

func (in *instance) active() bool { return in.metric("idsync_okta_backfill_active") == 1 }

// storedEvent is an event of the events stream.
type storedEvent struct {
	ID, Type, Source, Channel string
}

// stored reads the events stream.
func (h *harness) stored() []storedEvent {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.conn.JS.Stream(ctx, h.ns.Stream(bus.StreamEvents))
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []storedEvent
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			h.t.Fatal(err)
		}
		ev, err := events.Default().Decode(h.ns, m.Subject, m.Header, m.Data)
		if err != nil {
			h.t.Fatalf("seq %d: %v", seq, err)
		}
		se := storedEvent{ID: ev.ID, Type: ev.Type.Name, Source: ev.Source}
		if o, ok := ev.Payload.(interface{ GetOrigin() *eventsv1.Origin }); ok {
			se.Channel = o.GetOrigin().GetChannel()
		}
		out = append(out, se)
	}
	return out
}

func ids(evs []storedEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	slices.Sort(out)
	return out
}

// waitFor polls cond until it holds (a failure after 30 s).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	synctest.Eventually(t, what, 30*time.Second, cond)
}

// lifecycle is a System Log event about a user, published at.
func lifecycle(uuid, eventType string, at time.Time) oktafake.LogEvent {
	return oktafake.LogEvent{UUID: uuid, EventType: eventType, Published: at,
		Actor:  oktafake.LogEntity{ID: "00uadmin", Type: "User", AlternateID: "admin@example.com"},
		Target: []oktafake.LogEntity{{ID: "00u" + uuid, Type: "User", AlternateID: uuid + "@example.com", DisplayName: "Test " + uuid}}}
}

// hookDelivery publishes ev as the gateway does for an event hook delivery.
func (h *harness) hookDelivery(le oktafake.LogEvent) {
	h.t.Helper()
	cat := events.Default()
	typ, ok := oktahook.Routing{}.Route(cat, le.EventType)
	if !ok {
		h.t.Fatalf("%s is not routed", le.EventType)
	}
	ev, err := oktahook.Event(typ, &oktahook.LogEvent{
		UUID: le.UUID, EventType: le.EventType, Published: le.Published.Format(time.RFC3339Nano),
		Target: []oktahook.Entity{{ID: le.Target[0].ID, Type: "User", AlternateID: le.Target[0].AlternateID}},
	}, oktahook.Meta{Channel: oktahook.ChannelEventHook, Source: "https://example.okta.com/api/v1/eventHooks/who1", ReceivedAt: time.Now()}, 1<<16)
	if err != nil {
		h.t.Fatal(err)
	}
	m, err := events.Encode(h.ns, ev)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := bus.NewPublisher(h.conn, h.ns.Stream(bus.StreamEvents), 5*time.Second, prometheus.NewRegistry()).PublishAll(context.Background(), []*nats.Msg{m}); err != nil {
		h.t.Fatal(err)
	}
}

func uuids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}
