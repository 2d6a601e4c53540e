package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/pkg/rules"
)

// Run is the gateway service: it loads the configuration from args and
// getenv, serves until ctx is cancelled, then shuts down in order (readiness
// off, in-flight requests finish, queued records are published, the NATS
// connection drains).
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg Config
	if _, err := config.Load(&cfg, "gateway", args, getenv, stderr); err != nil {
		return err
	}
	if err := errors.Join(cfg.Validate(true), cfg.NATS.Validate(true)); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	level, _ := logging.ParseLevel(cfg.LogLevel)
	log := logging.New(stderr, level, "gateway")
	log.LogAttrs(ctx, slog.LevelInfo, "starting", cfg.LogAttrs()...)
	reg := metrics.NewRegistry()

	conn, err := bus.Connect(cfg.NATS, "gateway", log, reg)
	if err != nil {
		return err
	}
	gw, health, err := Start(ctx, cfg, conn, getenv, log, reg)
	if err != nil {
		conn.NC.Close()
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		conn.NC.Close()
		return fmt.Errorf("IDSYNC_HTTP_ADDR %s: %w", cfg.HTTP.Addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String())
	err = httpserver.Serve(ctx, ln, gw.Handler(health, metrics.Handler(reg)), cfg.HTTP.Options(), health, log)
	Stop(gw, conn, cfg.HTTP.ShutdownTimeout)
	log.Info("stopped")
	return err
}

// Start wires the gateway to an open NATS connection: it creates or updates
// the streams (retrying in the background while NATS is unreachable), and
// returns the gateway and its readiness checks. The all-in-one calls it too.
func Start(ctx context.Context, cfg Config, conn *bus.Conn, getenv func(string) string, log *slog.Logger, reg prometheus.Registerer) (*Gateway, *httpserver.Health, error) {
	ns := events.Namespace(cfg.Namespace)
	// The okta.verify.email rules' allowedDomains join the configured ones.
	rs, err := rules.Load(cfg.RulesFile, getenv)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range rs.AllowedDomains() {
		if !slices.Contains(cfg.Hook.AllowedDomains, d) {
			cfg.Hook.AllowedDomains = append(cfg.Hook.AllowedDomains, d)
		}
	}
	if cfg.ManageTopology {
		go func() { _ = bus.WaitStreams(ctx, conn, ns, cfg.Streams, log) }()
	}
	pub := bus.NewPublisher(conn, ns.Stream(bus.StreamEvents), cfg.Hook.PublishTimeout, reg)
	gw, err := New(cfg.Hook, ns, pub, log, reg)
	if err != nil {
		return nil, nil, err
	}
	gw.Start()
	if len(cfg.Hook.AllowedDomains) == 0 {
		log.Warn("IDSYNC_ALLOWED_EMAIL_DOMAINS is empty: /okta/verify/email denies every registration")
	}
	return gw, httpserver.NewHealth(ReadinessChecks(conn, ns)), nil
}

// Stop publishes queued records and drains the NATS connection, within timeout.
func Stop(gw *Gateway, conn *bus.Conn, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	gw.Close(ctx)
	conn.Drain(ctx)
}

// ReadinessChecks are the gateway's conditions for taking traffic.
func ReadinessChecks(conn *bus.Conn, ns events.Namespace) map[string]httpserver.Check {
	return map[string]httpserver.Check{
		"nats":    conn.Ready,
		"streams": func(ctx context.Context) error { return bus.StreamsPresent(ctx, conn.JS, ns) },
	}
}
