package natsconf_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/dlq"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/identity"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/service"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// syncCase is the table row of provider's sync consumer; other is another
// provider, whose durable, subjects and keys it must not touch.
func syncCase(provider, other string) struct {
	user        string
	does        func(t *testing.T, h *harness, c *client)
	denyCall    func(ctx context.Context, c *client) error
	denySubject string
	denyPublish []string
	denySub     []string
} {
	o := other + "-sync"
	deny := []string{
		"idsync.events.okta.delete.user", "idsync.outcomes." + other + ".okta.delete.user", "idsync.outcomes." + other + ".guard",
		"idsync.dlq." + o,
		"$JS.API.CONSUMER.MSG.NEXT.IDSYNC_EVENTS." + o, "$JS.ACK.IDSYNC_EVENTS." + o + ".1.1.1.1.1.0",
		"$JS.API.CONSUMER.CREATE.IDSYNC_EVENTS." + o, "$JS.API.CONSUMER.DELETE.IDSYNC_EVENTS." + provider + "-sync",
		"$JS.API.CONSUMER.CREATE.IDSYNC_OUTCOMES." + provider + "-sync",
		"$KV.IDSYNC_GUARD." + o, "$JS.API.DIRECT.GET.KV_IDSYNC_GUARD.$KV.IDSYNC_GUARD." + o,
		"$KV.IDSYNC_GRANTS." + other + ".x", "$JS.API.DIRECT.GET.KV_IDSYNC_GRANTS.$KV.IDSYNC_GRANTS." + other + ".x",
		"$JS.API.CONSUMER.CREATE.KV_IDSYNC_GRANTS.w.$KV.IDSYNC_GRANTS." + other + ".>",
		"$KV.IDSYNC_SERVICES." + o,
		"idsync.reconcile." + other, "idsync.events.okta.user.lifecycle.create", "_INBOX_operator.x",
		"$KV.IDSYNC_LOCKS.reconcile." + other, "$KV.IDSYNC_RECONCILE." + other,
		"$JS.API.DIRECT.GET.KV_IDSYNC_LOCKS.$KV.IDSYNC_LOCKS.reconcile." + other,
		"$JS.API.STREAM.DELETE.IDSYNC_EVENTS", "$JS.API.STREAM.CREATE.OTHER", "$JS.API.STREAM.UPDATE.IDSYNC_EVENTS",
		"$JS.API.STREAM.MSG.DELETE.IDSYNC_EVENTS", "$JS.API.STREAM.MSG.GET.IDSYNC_EVENTS", "$JS.API.STREAM.PURGE.KV_IDSYNC_GRANTS",
	}
	if provider != "github" {
		deny = append(deny, "$KV.IDSYNC_IDENTITIES.github.x", "$JS.API.DIRECT.GET.KV_IDSYNC_IDENTITIES.$KV.IDSYNC_IDENTITIES.github.x",
			"$JS.API.STREAM.UPDATE.KV_IDSYNC_IDENTITIES")
	}
	return struct {
		user        string
		does        func(t *testing.T, h *harness, c *client)
		denyCall    func(ctx context.Context, c *client) error
		denySubject string
		denyPublish []string
		denySub     []string
	}{
		user: provider + "-sync",
		does: func(t *testing.T, h *harness, c *client) { syncDoes(t, h, c, provider) },
		denyCall: func(ctx context.Context, c *client) error {
			_, err := c.conn.JS.Consumer(ctx, ns.Stream(bus.StreamEvents), o)
			return err
		},
		denySubject: "$JS.API.CONSUMER.INFO.IDSYNC_EVENTS." + o,
		denyPublish: deny,
		denySub:     []string{"idsync.>", "$KV.>", "idsync.reconcile." + other},
	}
}

// syncDoes runs a sync service as it runs in production with
// IDSYNC_NATS_MANAGE_TOPOLOGY=false (syncsvc.Start: KV buckets, the mode
// announcement, outcome publisher, guard as the consumer's gate, the
// durable consumer), with handlers that use the ledger, the guard, the
// outcomes (and for github-sync the identity map) and dead-letter one
// poison event.
func syncDoes(t *testing.T, h *harness, c *client, provider string) {
	name := provider + "-sync"
	var mu sync.Mutex
	seen := map[string]bool{}
	var failures []error
	build := func(d *syncsvc.Deps) (map[string]bus.Handler, error) {
		var idents *identity.Map
		if provider == "github" {
			kv, err := d.KeyValue(context.Background(), bus.BucketIdentities)
			if err != nil {
				return nil, err
			}
			idents = identity.Open(kv)
		}
		handler := func(ctx context.Context, ev events.Event) error {
			if strings.HasPrefix(ev.ID, "poison-") {
				mu.Lock()
				seen[ev.ID] = true
				mu.Unlock()
				return errclass.AsPermanent(errors.New("test: poison"))
			}
			err := does(ctx, d, idents, ev)
			mu.Lock()
			seen[ev.ID] = true
			if err != nil {
				failures = append(failures, err)
			}
			mu.Unlock()
			return err
		}
		hs := map[string]bus.Handler{}
		for _, typ := range events.Default().SyncTypesFor(provider) {
			hs[typ.Name] = handler
		}
		d.Reconciler = permReconciler{d}
		return hs, nil
	}
	cfg := syncsvc.Config{
		Base: service.Base{
			HTTP: httpserver.Config{Addr: "127.0.0.1:0"}, Streams: streamConfig,
			Namespace: string(ns), ManageTopology: false, LogLevel: "info",
		},
		Settings: syncsvc.Settings{Consumer: settings, Guard: guard.Config{Threshold: 1000, Window: time.Hour}},
	}
	spec := syncsvc.Spec{Name: name, Provider: provider, Configured: true, Build: build}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run, _, err := syncsvc.Start(ctx, cfg, c.conn, spec, func(string) string { return "" }, logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()

	typ := events.Default().SyncTypesFor(provider)[0]
	ok, poison := provider+"-ok", "poison-"+provider
	gw := h.connect(t, "gateway")
	publishEvents(t, gw, eventFor(t, typ.Name, ok), eventFor(t, typ.Name, poison))
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		both := seen[ok] && seen[poison]
		mu.Unlock()
		if both {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not handle its events", name)
		}
	}
	h.settled(t, bus.StreamEvents, name)
	mu.Lock()
	for _, err := range failures {
		t.Errorf("%s: handler: %v", name, err)
	}
	mu.Unlock()

	// A reconciliation requested by the operator (idsync reconcile): the
	// service answers on its subject, takes its lock, records its state,
	// publishes the report and the outcome of the applied item.
	op := h.connect(t, "operator")
	var rep reconcile.Report
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		rctx, rcancel := context.WithTimeout(context.Background(), 15*time.Second)
		rep, err = reconcile.Ask(rctx, op.conn.NC, ns, provider, reconcile.Request{Apply: true}, reconcile.RequestOptions{})
		rcancel()
		if !errors.Is(err, reconcile.ErrNoResponders) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || rep.Counts.Applied != 1 {
		t.Errorf("%s: reconcile: %v (%+v)", name, err, rep.Counts)
	}
	op.noViolations(t)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("consumer did not stop")
	}

	// What it stored, read back with the operator's rights.
	rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer rcancel()
	letters, err := dlq.New(op.conn.JS, ns).List(rctx, dlq.Filter{Consumer: name})
	if err != nil || len(letters) == 0 {
		t.Errorf("%s: no dead letter (%v)", name, err)
	}
	st, err := op.conn.JS.Stream(rctx, ns.Stream(bus.StreamOutcomes))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(rctx, jetstream.WithSubjectFilter("idsync.outcomes."+provider+".>"))
	if err != nil || len(info.State.Subjects) == 0 {
		t.Errorf("%s: no outcome stored (%v)", name, err)
	}
}

// eventlogDoes runs the event log's three batch consumers (the runtime and
// specs of services/eventlog) until each has stored what its stream holds.
func eventlogDoes(t *testing.T, h *harness, c *client) {
	s := bus.BatchSettings{Size: 100, Linger: 50 * time.Millisecond, AckWait: 5 * time.Second, MaxDeliver: -1,
		BackoffBase: 50 * time.Millisecond, BackoffMax: time.Second, LagInterval: time.Second}
	var mu sync.Mutex
	stored := map[string]int{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, spec := range eventlogSpecs() {
		handler := func(_ context.Context, msgs []jetstream.Msg) error {
			mu.Lock()
			stored[spec.Stream] += len(msgs)
			mu.Unlock()
			return nil
		}
		bc, err := bus.NewBatchConsumer(c.conn, ns, spec, s, handler, logging.Discard(), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := bc.Run(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	for _, spec := range eventlogSpecs() {
		h.settled(t, spec.Stream, spec.Durable)
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, base := range []string{bus.StreamEvents, bus.StreamOutcomes, bus.StreamDLQ} {
		if stored[base] == 0 {
			t.Errorf("eventlog stored nothing from %s", base)
		}
	}
}

// operatorDoes runs what the idsync CLI does: status (streams, consumers,
// guards, announcements), dlq list/replay/purge, guard resume, identities,
// send, and an erasure's secure delete.
func operatorDoes(t *testing.T, _ *harness, c *client) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js := c.conn.JS
	fatal := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("operator: %s: %v", what, err)
		}
	}
	// status, streams, consumers
	for _, base := range []string{bus.StreamEvents, bus.StreamOutcomes, bus.StreamDLQ} {
		st, err := js.Stream(ctx, ns.Stream(base))
		fatal("stream", err)
		l := st.ListConsumers(ctx)
		n := 0
		for range l.Info() {
			n++
		}
		fatal("consumers", l.Err())
		if n == 0 {
			t.Errorf("operator: no consumers on %s", base)
		}
	}
	ann, err := syncsvc.Announcements(ctx, js, ns)
	fatal("announcements", err)
	if len(ann) != len(providers) {
		t.Errorf("operator: %d announcements, want %d", len(ann), len(providers))
	}
	// status: each provider's last reconciliation and the backfill's
	// cursors (read only; a bucket not created yet is no error)
	rkv, err := js.KeyValue(ctx, ns.Stream(bus.BucketReconcile))
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		fatal("reconcile bucket", err)
		for _, p := range providers {
			_, err := reconcile.ReadState(ctx, rkv, p)
			fatal("reconcile state", err)
		}
	}
	bkv, err := js.KeyValue(ctx, ns.Stream(bus.BucketOktaBackfill))
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		fatal("backfill bucket", err)
		keys, err := bkv.ListKeys(ctx)
		fatal("backfill cursors", err)
		for k := range keys.Keys() {
			_, err := bkv.Get(ctx, k)
			fatal("backfill cursor", err)
		}
	}
	// guard status and resume
	gkv, err := js.KeyValue(ctx, ns.Stream(bus.BucketGuard))
	fatal("guard bucket", err)
	for _, p := range providers {
		out := outcome.New(c.conn, ns, p+"-sync", p, false, prometheus.NewRegistry())
		g := guard.New(gkv, p+"-sync", p, guard.Config{Window: time.Hour}, out.Alerter(), logging.Discard(), prometheus.NewRegistry())
		_, err := g.State(ctx)
		fatal("guard state", err)
		fatal("guard resume", g.Resume(ctx, "cli:test"))
	}
	// identities
	ikv, err := bus.KeyValue(ctx, js, ns, bus.BucketIdentities, 1)
	fatal("identity bucket", err)
	m := identity.Open(ikv)
	fatal("identities set", m.Set(ctx, "op@example.com", "op-login", "cli"))
	_, err = m.List(ctx)
	fatal("identities list", err)
	fatal("identities delete", m.Delete(ctx, "op@example.com"))
	// dlq
	store := dlq.New(js, ns)
	letters, err := store.List(ctx, dlq.Filter{})
	fatal("dlq list", err)
	if len(letters) < 2 {
		t.Fatalf("operator: %d dead letters, want one per sync consumer", len(letters))
	}
	_, err = store.Replay(ctx, dlq.Filter{Seq: letters[0].Seq})
	fatal("dlq replay", err)
	_, err = store.Purge(ctx, dlq.Filter{Seq: letters[1].Seq})
	fatal("dlq purge", err)
	// send
	publishEvents(t, c, eventFor(t, "console.tag_deleted", "op-1"))
	// erasure: every consumer has processed the first event; erase it.
	st, err := js.Stream(ctx, ns.Stream(bus.StreamEvents))
	fatal("events stream", err)
	info, err := st.Info(ctx)
	fatal("events info", err)
	_, err = st.GetMsg(ctx, info.State.FirstSeq)
	fatal("get msg", err)
	fatal("secure delete", st.SecureDeleteMsg(ctx, info.State.FirstSeq))
}

// permReconciler is a reconciliation that finds one difference and applies
// it through the service's ledger and outcome publisher.
type permReconciler struct{ d *syncsvc.Deps }

func (permReconciler) Diff(context.Context) ([]reconcile.Item, reconcile.Stats, error) {
	return []reconcile.Item{{Op: reconcile.OpAdd, Action: "user.resolve", Person: reconcile.Person{Email: "rec@example.com"}, RuleID: "test"}},
		reconcile.Stats{People: 1}, nil
}

func (r permReconciler) Apply(ctx context.Context, ev events.Event, it reconcile.Item, _ reconcile.Options) (reconcile.Item, error) {
	g := ledger.Grant{Provider: r.d.Provider, Target: "team-reconcile", User: it.Person.Email, RuleID: it.RuleID, At: time.Now()}
	if err := r.d.Ledger.Put(ctx, g); err != nil {
		return it, err
	}
	it.Result = reconcile.Applied
	return it, r.d.Outcomes.Publish(ctx, ev, outcome.Record{Action: it.Action, Result: outcome.Skipped, Reason: "permission test", Person: outcome.Person{Email: it.Person.Email}})
}

// does is what syncDoes' handler does with an event: the ledger, the guard,
// the identity map (github-sync) and an outcome.
func does(ctx context.Context, d *syncsvc.Deps, idents *identity.Map, ev events.Event) error {
	provider := d.Provider
	user := ev.Subject + "@example.com"
	g := ledger.Grant{Provider: provider, Target: "team-" + ev.ID, User: user, RuleID: "test", At: time.Now()}
	if err := d.Ledger.Put(ctx, g); err != nil {
		return err
	}
	if _, ok, err := d.Ledger.Get(ctx, provider, g.Target, user); err != nil || !ok {
		return errors.Join(errors.New("ledger get"), err)
	}
	if gs, err := d.Ledger.ForUser(ctx, provider, user); err != nil || len(gs) == 0 {
		return errors.Join(errors.New("ledger for user"), err)
	}
	if err := d.Ledger.Delete(ctx, provider, g.Target, user); err != nil {
		return err
	}
	if err := d.Guard.AllowRemoval(ctx, user); err != nil {
		return err
	}
	if idents != nil {
		if err := idents.Set(ctx, user, "login-"+ev.ID, "test"); err != nil {
			return err
		}
		if _, ok, err := idents.Resolve(ctx, user); err != nil || !ok {
			return errors.Join(errors.New("identity resolve"), err)
		}
		if _, err := idents.List(ctx); err != nil {
			return err
		}
	}
	return d.Outcomes.Publish(ctx, ev, outcome.Record{Action: "user.resolve", Result: outcome.Skipped, Reason: "permission test", Person: outcome.Person{Email: user}})
}
