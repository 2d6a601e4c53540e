package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/metrics"
)

// Process is a service that works off the bus (a sync consumer, the event
// log) as its own process: its HTTP side and its readiness.
type Process struct {
	HTTP httpserver.Config
	Conn *bus.Conn
	// Checks are readiness conditions beyond the NATS connection.
	Checks map[string]httpserver.Check
	// Mount adds the service's own routes, if any.
	Mount func(chi.Router)
	Reg   *prometheus.Registry
	Log   *slog.Logger
}

// Serve serves /healthz, /readyz, /metrics and the service's routes on
// HTTP.Addr while work runs. It returns nil once ctx ends and both have
// stopped (work finishing what it holds); if work stops on its own, or the
// server fails, it stops the other and returns the error, so that the
// process exits and is restarted.
func Serve(ctx context.Context, p Process, work func(context.Context) error) error {
	checks := map[string]httpserver.Check{"nats": p.Conn.Ready}
	maps.Copy(checks, p.Checks)
	health := httpserver.NewHealth(checks)
	r := chi.NewRouter()
	health.Mount(r)
	r.Method(http.MethodGet, "/metrics", metrics.Handler(p.Reg))
	if p.Mount != nil {
		p.Mount(r)
	}
	ln, err := net.Listen("tcp", p.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("IDSYNC_HTTP_ADDR %s: %w", p.HTTP.Addr, err)
	}
	p.Log.Info("listening", "addr", ln.Addr().String())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return httpserver.Serve(gctx, ln, r, p.HTTP.Options(), health, p.Log) })
	g.Go(func() error {
		err := work(gctx)
		if ctx.Err() == nil && err == nil {
			return errors.New("stopped on its own")
		}
		return err
	})
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}
