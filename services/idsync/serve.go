package idsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/services/eventlog"
	"github.com/idsync/idsync/services/gateway"
)

// serve runs the all-in-one until ctx is cancelled, then shuts down in
// order: readiness off, in-flight HTTP requests finish, queued records are
// published, the bus connection drains, the embedded server stops.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	start := time.Now()
	var cfg Config
	if _, err := config.Load(&cfg, "idsync run", args, getenv, stderr); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	level, _ := logging.ParseLevel(cfg.Gateway.LogLevel)
	log := logging.New(stderr, level, "idsync")
	reg := metrics.NewRegistry()

	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("IDSYNC_DATA_DIR: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("IDSYNC_DATA_DIR: %w", err)
	}
	gen, err := ensureSecrets(dataDir, &cfg.Gateway.Hook.OktaSecrets, &cfg.Gateway.Hook.ConsoleSecrets, &cfg.EventLog.Users)
	if err != nil {
		return err
	}

	b := banner{dataDir: dataDir, gen: gen, hook: cfg.Gateway.Hook}
	if cfg.Demo {
		d, demoEnv, err := startDemo(&cfg, dataDir, getenv)
		if err != nil {
			return err
		}
		defer d.stop()
		getenv = demoEnv
		b.demo = d.urls
	}
	var embedded *embeddedNATS
	var natsOpts []nats.Option
	if cfg.Gateway.NATS.URL == "" {
		explicit := getenv("IDSYNC_NATS_LISTEN") != "" || flagGiven(args, "nats-listen")
		host, port, note, err := listenPlan(cfg.NATSListen, explicit)
		if err != nil {
			return err
		}
		embedded, err = startEmbedded(dataDir, host, port, log)
		if err != nil {
			return err
		}
		defer embedded.shutdown()
		natsOpts = append(natsOpts, nats.InProcessServer(embedded.srv))
		b.natsURL, b.natsNote = embedded.url, note
	} else {
		b.natsURL, b.external = cfg.Gateway.NATS.URL, true
	}

	conn, err := bus.Connect(cfg.Gateway.NATS, "gateway", log, reg, natsOpts...)
	if err != nil {
		return err
	}
	gw, health, err := gateway.Start(ctx, cfg.Gateway, conn, getenv, log, reg)
	if err != nil {
		conn.NC.Close()
		return err
	}
	ln, err := net.Listen("tcp", cfg.Gateway.HTTP.Addr)
	if err != nil {
		gateway.Stop(gw, conn, time.Second)
		return fmt.Errorf("IDSYNC_HTTP_ADDR %s: %w", cfg.Gateway.HTTP.Addr, err)
	}
	b.httpURL = "http://" + ln.Addr().String()
	b.stream = cfg.Gateway.Namespace

	runs, consumerConns, modes, err := startConsumers(ctx, cfg, getenv, log, reg, natsOpts)
	if err != nil {
		for _, c := range consumerConns {
			c.NC.Close()
		}
		gateway.Stop(gw, conn, time.Second)
		_ = ln.Close()
		return err
	}
	b.consumers = modes
	closeConns := func() {
		for _, c := range consumerConns {
			c.NC.Close()
		}
	}

	st, storeDesc, err := eventlog.OpenStore(ctx, cfg.EventLog.DSN.Reveal(), dataDir)
	if err != nil {
		closeConns()
		gateway.Stop(gw, conn, time.Second)
		_ = ln.Close()
		return err
	}
	defer st.Close()
	b.eventlog = storeDesc
	logConn, err := bus.Connect(cfg.Gateway.NATS, "eventlog", log, reg, natsOpts...)
	if err == nil {
		consumerConns = append(consumerConns, logConn)
	}
	var logSvc *eventlog.Service
	if err == nil {
		logSvc, err = eventlog.Start(cfg.EventLog, st, logConn, events.Namespace(cfg.Gateway.Namespace), log, reg)
	}
	if err != nil {
		closeConns()
		gateway.Stop(gw, conn, time.Second)
		_ = ln.Close()
		return err
	}
	runs = append(runs, logSvc.Run)
	backfill, backfillConn, err := startBackfill(ctx, cfg, log, reg, natsOpts)
	if backfillConn != nil {
		consumerConns = append(consumerConns, backfillConn)
	}
	if err != nil {
		closeConns()
		gateway.Stop(gw, conn, time.Second)
		_ = ln.Close()
		return err
	}
	b.backfill = "off: no Okta API credentials (events the hooks miss are not recovered)"
	if backfill != nil {
		runs = append(runs, backfill)
		b.backfill = fmt.Sprintf("reads %s's System Log every %s for events the hooks missed", cfg.Sync.Okta.OrgURL, cfg.Backfill.Interval)
	}

	router := gateway.NewRouter(log)
	gw.Mount(router)
	logSvc.API.Mount(router)
	health.Mount(router)
	router.Method("GET", "/metrics", metrics.Handler(reg))

	served := make(chan error, 1)
	go func() {
		served <- httpserver.Serve(ctx, ln, router, cfg.Gateway.HTTP.Options(), health, log)
	}()
	var consumers errgroup.Group
	for _, run := range runs {
		consumers.Go(func() error { return run(ctx) })
	}
	waitReady(ctx, health, 10*time.Second)
	b.readyIn = time.Since(start)
	b.print(stdout)
	log.LogAttrs(ctx, slog.LevelInfo, "ready", append(cfg.Gateway.LogAttrs(), slog.Int64("startup_ms", b.readyIn.Milliseconds()))...)

	err = <-served
	log.Info("shutting down")
	// The HTTP server has finished its requests; the consumers drain what
	// they hold, then every connection drains before the server stops.
	// (The event log commits and acknowledges its batches in hand; the
	// store closes after everything below.)
	if cerr := consumers.Wait(); cerr != nil && err == nil {
		err = cerr
	}
	gateway.Stop(gw, conn, cfg.Gateway.HTTP.ShutdownTimeout)
	for _, c := range consumerConns {
		dctx, cancel := context.WithTimeout(context.Background(), cfg.Gateway.HTTP.ShutdownTimeout)
		c.Drain(dctx)
		cancel()
	}
	log.Info("stopped")
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// waitReady polls readiness so the banner is printed once requests succeed.
func waitReady(ctx context.Context, h *httpserver.Health, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if h.Ready(ctx) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// flagGiven reports whether -name or --name appears in args.
func flagGiven(args []string, name string) bool {
	for _, a := range args {
		for _, p := range []string{"-" + name, "--" + name} {
			if a == p || len(a) > len(p) && a[:len(p)+1] == p+"=" {
				return true
			}
		}
	}
	return false
}
