package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/lock"
	"github.com/idsync/idsync/pkg/logging"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// ErrBusy is returned by Run when a run of the same provider is in
// progress, on this replica or another (errors.As a *lock.HeldError says
// whose).
var ErrBusy = errors.New("reconcile: a reconciliation of this provider is already running")

// RunnerConfig is what a Runner needs; syncsvc.Start fills it.
type RunnerConfig struct {
	Reconciler         Reconciler
	Provider, Consumer string
	NS                 events.Namespace
	Conn               *bus.Conn
	// Locks is the lease bucket (bus.BucketLocks): one run per provider
	// across replicas. State is bus.BucketReconcile, where each run leaves
	// its summary and the schedules find when the last scheduled run was.
	Locks, State jetstream.KeyValue
	Config       Config
	// DryRun is the consumer's effective dry-run, recorded on reports.
	DryRun bool
	Log    *slog.Logger
	Reg    prometheus.Registerer
	// Heartbeat is how often a streamed reply shows that the run is alive
	// (default 10s).
	Heartbeat time.Duration
	// ItemTimeout bounds the apply of the item in progress once the run is
	// cancelled (shutdown): it finishes rather than being cut half-way
	// (default 2m; provider calls have their own, shorter, timeouts).
	ItemTimeout time.Duration
}

// Runner runs one provider's reconciliations: on demand (Run, and the
// <ns>.reconcile.<provider> endpoint) and on a schedule (Serve).
type Runner struct {
	c       RunnerConfig
	locker  *lock.Locker
	pub     *bus.Publisher
	m       runnerMetrics
	now     func() time.Time
	running sync.WaitGroup
}

// NewRunner checks c and opens the lease bucket.
func NewRunner(ctx context.Context, c RunnerConfig) (*Runner, error) {
	if c.Reconciler == nil || c.Conn == nil || c.Locks == nil || c.State == nil || c.Provider == "" || c.Consumer == "" {
		return nil, errors.New("reconcile.NewRunner: reconciler, connection, buckets, provider and consumer are required")
	}
	if c.Log == nil {
		c.Log = logging.Discard()
	}
	if c.Reg == nil {
		c.Reg = prometheus.NewRegistry()
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 10 * time.Second
	}
	if c.ItemTimeout <= 0 {
		c.ItemTimeout = 2 * time.Minute
	}
	locker, err := lock.Open(ctx, c.Locks)
	if err != nil {
		return nil, err
	}
	return &Runner{
		c: c, locker: locker, now: time.Now,
		pub: bus.NewPublisher(c.Conn, c.NS.Stream(bus.StreamEvents), 10*time.Second, c.Reg),
		m:   newRunnerMetrics(c.Reg, c.Provider),
	}, nil
}

// Subject is where a provider's reconciliation is requested.
func Subject(ns events.Namespace, provider string) string {
	return string(ns) + ".reconcile." + provider
}

// Run runs one reconciliation now (trigger "request"): it takes the
// provider's lock (ErrBusy if held), calls Diff, with opts.Apply converges
// the items in order, publishes the report event and returns the report.
// An error that stopped the run is returned with the report so far (its
// Error says it too).
func (r *Runner) Run(ctx context.Context, opts Options) (Report, error) {
	return r.run(ctx, runSpec{opts: opts, trigger: TriggerRequest})
}

// runSpec is one run's parameters.
type runSpec struct {
	opts    Options
	trigger string
	// started is called once the lock is held, with the report's id.
	started func(id string)
	// prog, when set, follows the run for heartbeats.
	prog *progress
	// skip, when set, is asked once the lock is held whether the run is
	// still needed (the schedule: another replica may have just run it).
	skip func(context.Context) bool
}

// errSkipped: the schedule found the run already done by another replica.
var errSkipped = errors.New("reconcile: run not needed")

// progress is what a heartbeat reports.
type progress struct {
	phase atomic.Value // string
	done  atomic.Int64
	total atomic.Int64
}

func (p *progress) set(phase string, done, total int) {
	if p == nil {
		return
	}
	p.phase.Store(phase)
	p.done.Store(int64(done))
	p.total.Store(int64(total))
}

func (r *Runner) run(ctx context.Context, s runSpec) (Report, error) {
	r.running.Add(1)
	defer r.running.Done()
	lease, err := r.locker.Acquire(ctx, "reconcile."+r.c.Provider, s.trigger)
	if errors.Is(err, lock.ErrHeld) {
		r.m.runs.WithLabelValues(r.c.Provider, s.trigger, RunBusy).Inc()
		return Report{}, fmt.Errorf("%w: %w", ErrBusy, err)
	}
	if err != nil {
		r.m.runs.WithLabelValues(r.c.Provider, s.trigger, RunFailed).Inc()
		return Report{}, fmt.Errorf("reconcile %s: %w", r.c.Provider, err)
	}
	// Released after the report is out, on a context of its own: a
	// shutdown must not leave the lease to its TTL.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := lease.Release(rctx); err != nil {
			r.c.Log.Warn("reconcile: releasing the lock failed; it expires by itself", logging.Err(err))
		}
	}()
	if s.skip != nil && s.skip(ctx) {
		return Report{}, errSkipped
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-lease.Lost():
			cancel(errors.New("the reconciliation lock was lost (NATS unreachable for longer than its TTL)"))
		case <-runCtx.Done():
		}
	}()
	rep := Report{
		ID: newID(r.c.Provider, r.now()), Provider: r.c.Provider, Consumer: r.c.Consumer, Trigger: s.trigger,
		Started: r.now().UTC(), Apply: s.opts.Apply, DryRun: r.c.DryRun, RemoveUnmanaged: s.opts.RemoveUnmanaged,
	}
	if s.started != nil {
		s.started(rep.ID)
	}
	log := r.c.Log.With("report_id", rep.ID, "trigger", s.trigger)
	log.Info("reconciliation started", "apply", s.opts.Apply, "remove_unmanaged", s.opts.RemoveUnmanaged)
	s.prog.set("diff", 0, 0)

	items, stats, runErr := r.diff(runCtx, log)
	rep.Stats = stats
	switch {
	case runErr != nil:
		// A comparison that did not finish is not a diff: items computed
		// against a partial listing would show differences that are not.
		rep.Items = []Item{}
	case s.opts.Apply:
		runErr = r.apply(runCtx, &rep, items, s)
	default:
		rep.Items = append([]Item{}, items...)
	}
	// Interrupted only if the cancellation stopped something: a run that
	// reached its end just before a shutdown is complete.
	if cause := context.Cause(runCtx); cause != nil && runErr != nil {
		rep.Interrupted = true
		if errors.Is(runErr, context.Canceled) {
			runErr = cause
		}
	}
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	rep.Finished = r.now().UTC()
	rep.count()
	r.finish(ctx, log, &rep)
	return rep, runErr
}

// apply converges items in order into rep.Items. Items Diff already
// decided (a Result set: an unresolved person, skipped) are kept as they
// are. A guard.ErrPaused marks the item and every later removal Paused,
// while adds and changes go on; any other error from Apply stops the run
// (the items not reached stay Pending).
func (r *Runner) apply(ctx context.Context, rep *Report, items []Item, s runSpec) error {
	ev, err := reportEvent(*rep, &eventsv1.ReconcileReport{Id: rep.ID, Provider: rep.Provider, Consumer: rep.Consumer, Trigger: rep.Trigger})
	if err != nil {
		return err
	}
	rep.Items = make([]Item, len(items))
	copy(rep.Items, items)
	paused := ""
	for i, it := range rep.Items {
		s.prog.set("apply", i, len(items))
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if it.Result != Pending {
			continue
		}
		if paused != "" && it.Op == OpRemove {
			rep.Items[i].Result, rep.Items[i].Detail = Paused, paused
			continue
		}
		// The item in progress finishes even when the run is cancelled:
		// a provider call cut half-way would leave the outcome unknown.
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.c.ItemTimeout)
		got, err := r.applyOne(ictx, ev, it, s.opts)
		cancel()
		switch {
		case errors.Is(err, guard.ErrPaused):
			paused = "the removal guard paused " + r.c.Consumer + " (IDSYNC_REMOVAL_THRESHOLD within IDSYNC_REMOVAL_WINDOW): " +
				"no more removals until an operator runs idsync guard resume --consumer " + r.c.Consumer
			rep.Items[i].Result, rep.Items[i].Detail = Paused, paused
		case err != nil:
			rep.Items[i].Result, rep.Items[i].Detail = Failed, err.Error()
			return fmt.Errorf("reconcile %s: applying %s on %s: %w", r.c.Provider, it.Action, it.Target.Name, err)
		case got.Result == Pending:
			rep.Items[i].Result, rep.Items[i].Detail = Failed, "the reconciler returned the item without a result"
		default:
			rep.Items[i] = got
		}
	}
	s.prog.set("apply", len(items), len(items))
	return nil
}

// diff and applyOne call the reconciler, turning a panic into an error of
// the run: a bug in one provider's comparison must not take the consumer
// down, and the run still releases its lock and leaves its report.
func (r *Runner) diff(ctx context.Context, log *slog.Logger) (items []Item, st Stats, err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("reconcile: the comparison panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			items, err = nil, fmt.Errorf("reconcile %s: the comparison panicked: %v", r.c.Provider, p)
		}
	}()
	return r.c.Reconciler.Diff(ctx)
}

func (r *Runner) applyOne(ctx context.Context, ev events.Event, it Item, opts Options) (got Item, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.c.Log.Error("reconcile: applying an item panicked", "report_id", ev.ID, "action", it.Action, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			got, err = it, fmt.Errorf("applying panicked: %v", p)
		}
	}()
	return r.c.Reconciler.Apply(ctx, ev, it, opts)
}

// finish publishes the report event, records the run in the state bucket
// and the metrics, on contexts that outlive a shutdown: an interrupted run
// still leaves its report.
func (r *Runner) finish(ctx context.Context, log *slog.Logger, rep *Report) {
	bg := context.WithoutCancel(ctx)
	if err := r.publish(bg, *rep); err != nil {
		log.Error("reconcile: publishing the report failed", logging.Err(err))
		if rep.Error == "" {
			rep.Error = "the report event could not be published: " + err.Error()
		}
	}
	result := RunOK
	switch {
	case rep.Interrupted:
		result = RunInterrupted
	case rep.Error != "":
		result = RunFailed
	}
	r.m.runs.WithLabelValues(r.c.Provider, rep.Trigger, result).Inc()
	r.m.duration.Observe(rep.Finished.Sub(rep.Started).Seconds())
	for _, it := range rep.Items {
		r.m.items.WithLabelValues(r.c.Provider, string(it.Op), resultName(it.Result)).Inc()
	}
	if result == RunOK {
		r.m.lastSuccess.Set(float64(rep.Finished.Unix()))
		r.m.pending.Set(float64(rep.Remaining))
	}
	sctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	if err := r.saveState(sctx, *rep, result); err != nil {
		log.Warn("reconcile: recording the run failed; the schedule may run again early", logging.Err(err))
	}
	attrs := []any{"items", rep.ItemCount, "remaining", rep.Remaining, "result", result,
		"duration", rep.Finished.Sub(rep.Started).Round(time.Millisecond).String()}
	if rep.Error != "" {
		log.Warn("reconciliation finished: "+rep.Summary(), attrs...)
		return
	}
	log.Info("reconciliation finished: "+rep.Summary(), attrs...)
}

func (r *Runner) publish(ctx context.Context, rep Report) error {
	p, err := eventPayload(rep, MaxEventBytes)
	if err != nil {
		return err
	}
	ev, err := reportEvent(rep, p)
	if err != nil {
		return err
	}
	m, err := events.Encode(r.c.NS, ev)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err = r.pub.Publish(pctx, m)
	return err
}

// newID is a report id: readable (provider, time) and unique.
func newID(provider string, now time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "reconcile-" + provider + "-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// wait blocks until the runs in progress have finished.
func (r *Runner) wait() { r.running.Wait() }
