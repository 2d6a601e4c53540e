package syncsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/pkg/service"
)

// Spec describes one sync service.
type Spec struct {
	// Name is the service and durable consumer name (e.g. gitlab-sync).
	Name string
	// Provider is the provider it acts on (gitlab).
	Provider string
	// Configured reports whether the provider's credentials are given;
	// without them the service runs in dry-run.
	Configured bool
	// Build makes the handlers, by canonical event, once the deps are ready.
	Build func(d *Deps) (map[string]bus.Handler, error)
}

// Start prepares a service on an open connection and returns the function
// that runs its consumer until ctx ends (the all-in-one runs several), and
// beside it, when Build set Deps.Reconciler, the reconciliation's endpoint
// and schedule.
func Start(ctx context.Context, cfg Config, conn *bus.Conn, spec Spec, getenv func(string) string, log *slog.Logger, reg prometheus.Registerer) (func(context.Context) error, *Deps, error) {
	dryRun := cfg.DryRun || !spec.Configured
	log = log.With(logging.KeyConsumer, spec.Name)
	switch {
	case cfg.DryRun:
		log.Warn("dry-run (IDSYNC_DRY_RUN): actions are planned and recorded, nothing is written to " + spec.Provider)
	case !spec.Configured:
		log.Warn("dry-run: no " + spec.Provider + " credentials configured; actions are planned and recorded, nothing is written")
	}
	d, err := Prepare(ctx, cfg, conn, spec.Name, spec.Provider, dryRun, getenv, log, reg)
	if err != nil {
		return nil, nil, err
	}
	if err := announce(ctx, d, newAnnouncement(spec, cfg, dryRun, time.Now())); err != nil {
		log.Warn("cannot announce the mode in the services bucket; idsync status will infer it", logging.Err(err))
	}
	handlers, err := spec.Build(d)
	if err != nil {
		return nil, nil, err
	}
	c, err := d.Consumer(handlers)
	if err != nil {
		return nil, nil, err
	}
	if d.Reconciler == nil {
		return c.Run, d, nil
	}
	runner, err := d.reconcileRunner(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The consumer and the reconciliation run side by side; if one stops
	// with an error the other is stopped too, and both drain on ctx's end.
	return func(ctx context.Context) error {
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return c.Run(gctx) })
		g.Go(func() error { return runner.Serve(gctx) })
		return g.Wait()
	}, d, nil
}

// Run is a sync service as its own process: it connects to NATS, serves
// /healthz, /readyz and /metrics on IDSYNC_HTTP_ADDR, and runs the consumer
// until ctx ends, then drains it and the connection.
func Run(ctx context.Context, cfg Config, spec Spec, getenv func(string) string, stderr io.Writer) error {
	if err := errors.Join(cfg.Validate(), cfg.NATS.Validate(true)); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	level, _ := logging.ParseLevel(cfg.LogLevel)
	log := logging.New(stderr, level, spec.Name)
	reg := metrics.NewRegistry()
	conn, err := bus.Connect(cfg.NATS, spec.Name, log, reg)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		conn.Drain(dctx)
	}()
	run, _, err := Start(ctx, cfg, conn, spec, getenv, log, reg)
	if err != nil {
		return err
	}
	err = service.Serve(ctx, service.Process{HTTP: cfg.HTTP, Conn: conn, Reg: reg, Log: log}, run)
	log.Info("stopped")
	return err
}
