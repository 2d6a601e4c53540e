package reconcile_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/reconcile"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// fake is a Reconciler whose diff is a fixed list of items and whose apply
// is a function of the item; it records what it was asked.
type fake struct {
	items   []reconcile.Item
	stats   reconcile.Stats
	diffErr error
	// panics makes Diff panic.
	panics bool
	// block, when set, holds Diff until it is closed (or ctx ends);
	// diffing is closed when Diff starts.
	block   chan struct{}
	diffing chan struct{}
	// apply decides an item (nil: applied).
	apply func(ctx context.Context, it reconcile.Item) (reconcile.Item, error)

	mu      sync.Mutex
	applied []reconcile.Item
	evs     []events.Event
	opts    []reconcile.Options
}

func (f *fake) Diff(ctx context.Context) ([]reconcile.Item, reconcile.Stats, error) {
	if f.diffing != nil {
		close(f.diffing)
	}
	if f.panics {
		panic("test: a bug in the comparison")
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, f.stats, ctx.Err()
		}
	}
	return append([]reconcile.Item(nil), f.items...), f.stats, f.diffErr
}

func (f *fake) Apply(ctx context.Context, ev events.Event, it reconcile.Item, opts reconcile.Options) (reconcile.Item, error) {
	f.mu.Lock()
	f.applied = append(f.applied, it)
	f.evs = append(f.evs, ev)
	f.opts = append(f.opts, opts)
	f.mu.Unlock()
	if f.apply != nil {
		return f.apply(ctx, it)
	}
	it.Result, it.Detail = reconcile.Applied, "done"
	return it, nil
}

func (f *fake) calls() []reconcile.Item {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]reconcile.Item(nil), f.applied...)
}

// item makes an item of gitlab's kind.
func item(op reconcile.Op, n int) reconcile.Item {
	action := map[reconcile.Op]string{reconcile.OpAdd: "group_member.add", reconcile.OpChange: "group_member.update", reconcile.OpRemove: "group_member.remove"}[op]
	return reconcile.Item{
		Provider: events.ProviderGitLab, Op: op, Action: action,
		Target: reconcile.Target{Type: "group", Key: "group:acme/dev", Name: "acme/dev", ID: "42"},
		Person: reconcile.Person{SourceID: fmt.Sprintf("00u%d", n), Email: fmt.Sprintf("p%d@example.com", n), Login: fmt.Sprintf("p%d", n), ProviderID: fmt.Sprint(1000 + n)},
		Role:   "developer", RuleID: "project-developers", CompanyID: "acme", ProjectID: "payments",
		Managed: op == reconcile.OpRemove, Reason: "test drift",
	}
}

// bed is a namespace on a server with the streams and the buckets a
// runner uses.
type bed struct {
	t     testing.TB
	srv   *bustest.Server
	ns    events.Namespace
	locks jetstream.KeyValue
	state jetstream.KeyValue
	conn  *bus.Conn
}

func newBed(t testing.TB, lockTTL time.Duration) *bed {
	t.Helper()
	b := &bed{t: t, srv: bustest.Start(t), ns: bustest.Namespace(t)}
	b.conn = b.connect()
	ctx := context.Background()
	if err := bus.EnsureStreams(ctx, b.conn.JS, b.ns, bus.StreamConfig{Replicas: 1, MaxAge: time.Hour, MaxBytes: 64 << 20, Duplicates: time.Hour, DLQMaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	var err error
	if lockTTL == 0 {
		b.locks, err = bus.KeyValue(ctx, b.conn.JS, b.ns, bus.BucketLocks, 1)
	} else {
		// A short TTL, for the crashed-holder test.
		b.locks, err = b.conn.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b.ns.Stream(bus.BucketLocks), History: 1, TTL: lockTTL})
	}
	if err != nil {
		t.Fatal(err)
	}
	if b.state, err = bus.KeyValue(ctx, b.conn.JS, b.ns, bus.BucketReconcile, 1); err != nil {
		t.Fatal(err)
	}
	return b
}

// connect opens one more connection (a replica's).
func (b *bed) connect() *bus.Conn {
	b.t.Helper()
	conn, err := bus.Connect(bus.ConnConfig{URL: b.srv.URL()}, "test", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(conn.NC.Close)
	for deadline := time.Now().Add(10 * time.Second); !conn.Connected(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.t.Fatal("not connected")
		}
	}
	return conn
}

type runnerOpt func(*reconcile.RunnerConfig)

// runner is one replica's runner of gitlab-sync on its own connection.
func (b *bed) runner(rec reconcile.Reconciler, opts ...runnerOpt) (*reconcile.Runner, *prometheus.Registry) {
	b.t.Helper()
	conn := b.connect()
	reg := prometheus.NewRegistry()
	locks, err := conn.JS.KeyValue(context.Background(), b.ns.Stream(bus.BucketLocks))
	if err != nil {
		b.t.Fatal(err)
	}
	state, err := conn.JS.KeyValue(context.Background(), b.ns.Stream(bus.BucketReconcile))
	if err != nil {
		b.t.Fatal(err)
	}
	c := reconcile.RunnerConfig{
		Reconciler: rec, Provider: events.ProviderGitLab, Consumer: "gitlab-sync", NS: b.ns, Conn: conn,
		Locks: locks, State: state, Log: logging.Discard(), Reg: reg, Heartbeat: 100 * time.Millisecond,
	}
	for _, o := range opts {
		o(&c)
	}
	r, err := reconcile.NewRunner(context.Background(), c)
	if err != nil {
		b.t.Fatal(err)
	}
	return r, reg
}

// serve runs r's endpoint and schedule until the test ends.
func (b *bed) serve(r *reconcile.Runner) {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	b.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.t.Errorf("serve: %v", err)
		}
	})
	// Ready once the server knows the queue subscription: a request sent
	// before would be answered "no responders".
	waitFor(b.t, "the endpoint", func() bool {
		return subscribed(b, reconcile.Subject(b.ns, events.ProviderGitLab))
	})
}

// subscribed reports whether a subscription on subject has reached the
// server (a request would find a responder).
func subscribed(b *bed, subject string) bool {
	srv := b.srv.NATS()
	return srv != nil && srv.GlobalAccount().SubscriptionInterest(subject)
}

// request asks the bed's gitlab-sync for a reconciliation.
func (b *bed) request(req reconcile.Request) (reconcile.Report, error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return reconcile.Ask(ctx, b.conn.NC, b.ns, events.ProviderGitLab, req, reconcile.RequestOptions{})
}

// reports reads the report events on the events stream, decoded through
// the catalog as the event log does.
func (b *bed) reports() []*eventsv1.ReconcileReport {
	b.t.Helper()
	ctx := context.Background()
	s, err := b.conn.JS.Stream(ctx, b.ns.Stream(bus.StreamEvents))
	if err != nil {
		b.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	var out []*eventsv1.ReconcileReport
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		ev, err := events.Default().Decode(b.ns, m.Subject, m.Header, m.Data)
		if err != nil {
			b.t.Fatalf("the report event does not decode: %v", err)
		}
		p, ok := ev.Payload.(*eventsv1.ReconcileReport)
		if !ok || ev.Type.Name != events.ReconcileReport || ev.ID != p.GetId() {
			b.t.Fatalf("event %s of type %s on the events stream", ev.ID, ev.Type.Name)
		}
		out = append(out, p)
	}
	return out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
