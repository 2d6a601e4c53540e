package syncsvc

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/ratelimit"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/rules"
	"github.com/idsync/idsync/pkg/tracing"
)

// Deps is what a sync service's handlers get.
type Deps struct {
	Name, Provider string
	NS             events.Namespace
	Conn           *bus.Conn
	Rules          *rules.Set
	Outcomes       *outcome.Publisher
	Guard          *guard.Guard
	Ledger         *ledger.Ledger
	// Console reads effective access; nil when the Console API is not configured.
	Console *console.Client
	// Okta reads Okta users (who is active, who was deprovisioned) for
	// reconciliation, and is okta-sync's provider; nil when
	// IDSYNC_OKTA_ORG_URL and a credential are not set.
	Okta *okta.Client
	// DryRun: plan and record, call nothing that writes.
	DryRun bool
	Log    *slog.Logger
	Reg    prometheus.Registerer
	// Reconciler is the provider's reconciliation: a service's Build sets
	// it, and Start then runs it beside the consumer (on demand on
	// <ns>.reconcile.<provider>, and every Reconcile.Interval). Nil: none.
	Reconciler reconcile.Reconciler
	// Reconcile is the reconciliation's configuration (IDSYNC_RECONCILE_*).
	Reconcile reconcile.Config

	cfg Config
}

// Prepare wires a sync service onto an open connection: it loads the rules,
// opens the KV buckets (guard, ledger) and the outcome publisher. dryRun is
// the provider's effective dry-run (configured, or no credentials).
func Prepare(ctx context.Context, cfg Config, conn *bus.Conn, name, provider string, dryRun bool, getenv func(string) string, log *slog.Logger, reg prometheus.Registerer) (*Deps, error) {
	ns := events.Namespace(cfg.Namespace)
	rs, err := rules.Load(cfg.RulesFile, getenv)
	if err != nil {
		return nil, err
	}
	for _, n := range rs.Notes() {
		log.Info("built-in rules: " + n)
	}
	log = log.With("provider", provider)
	if cfg.ManageTopology {
		if err := bus.WaitStreams(ctx, conn, ns, cfg.Streams, log); err != nil {
			return nil, err
		}
	}
	guardKV, err := bus.KeyValue(ctx, conn.JS, ns, bus.BucketGuard, cfg.Streams.Replicas)
	if err != nil {
		return nil, err
	}
	grantsKV, err := bus.KeyValue(ctx, conn.JS, ns, bus.BucketGrants, cfg.Streams.Replicas)
	if err != nil {
		return nil, err
	}
	d := &Deps{
		Name: name, Provider: provider, NS: ns, Conn: conn, Rules: rs,
		Outcomes: outcome.New(conn, ns, name, provider, dryRun, reg),
		Ledger:   ledger.New(conn.JS, grantsKV),
		DryRun:   dryRun, Log: log, Reg: reg, Reconcile: cfg.Reconcile, cfg: cfg,
	}
	d.Guard = guard.New(guardKV, name, provider, cfg.Guard, d.Outcomes.Alerter(), log, reg)
	if cfg.Console.Configured() {
		// Every sync service reads the Console (effective access before a
		// revoke); its calls are counted under provider "console", and
		// each is a client span.
		rt := metrics.ProviderTransport(ratelimit.PooledTransport(), events.ProviderConsole, reg)
		c, err := console.New(cfg.Console, tracing.Transport(rt, events.ProviderConsole))
		if err != nil {
			return nil, err
		}
		d.Console = c
	}
	if cfg.Okta.Configured() {
		// Paced from Okta's rate-limit headers like okta-sync's writes
		// (it is the same client there); calls are counted under
		// provider "okta", each a client span.
		c, err := okta.New(cfg.Okta, nil, reg)
		if err != nil {
			return nil, err
		}
		d.Okta = c
	}
	return d, nil
}

// KeyValue opens (creating it if needed) one more KV bucket of the
// namespace, replicated like the streams (e.g. github-sync's identity map).
func (d *Deps) KeyValue(ctx context.Context, base string) (jetstream.KeyValue, error) {
	return bus.KeyValue(ctx, d.Conn.JS, d.NS, base, d.cfg.Streams.Replicas)
}

// Consumer builds the service's durable consumer (filtered to exactly its
// rows of the matrix) with handlers by canonical event, gated by the guard.
func (d *Deps) Consumer(handlers map[string]bus.Handler) (*bus.Consumer, error) {
	spec := bus.SyncConsumer(d.NS, events.Default(), d.Provider)
	for _, t := range events.Default().SyncTypesFor(d.Provider) {
		if handlers[t.Name] == nil {
			return nil, fmt.Errorf("syncsvc: %s has no handler for %s", d.Name, t.Name)
		}
	}
	dispatch := func(ctx context.Context, ev events.Event) error {
		h := handlers[ev.Type.Name]
		if h == nil {
			return errclass.AsPermanent(fmt.Errorf("%s does not handle %s", d.Name, ev.Type.Name))
		}
		return h(ctx, ev)
	}
	c, err := bus.NewConsumer(d.Conn, d.NS, events.Default(), spec, d.cfg.Consumer, dispatch, d.Log, d.Reg)
	if err != nil {
		return nil, err
	}
	c.SetGate(d.Guard)
	return c, nil
}

// reconcileRunner builds the Runner of d.Reconciler: the lease and state
// buckets, and the report publisher.
func (d *Deps) reconcileRunner(ctx context.Context) (*reconcile.Runner, error) {
	locks, err := d.KeyValue(ctx, bus.BucketLocks)
	if err != nil {
		return nil, err
	}
	state, err := d.KeyValue(ctx, bus.BucketReconcile)
	if err != nil {
		return nil, err
	}
	return reconcile.NewRunner(ctx, reconcile.RunnerConfig{
		Reconciler: d.Reconciler, Provider: d.Provider, Consumer: d.Name, NS: d.NS, Conn: d.Conn,
		Locks: locks, State: state, Config: d.Reconcile, DryRun: d.DryRun, Log: d.Log, Reg: d.Reg,
	})
}
