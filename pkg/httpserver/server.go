// Package httpserver runs idsync's HTTP servers the same way everywhere:
// bounded timeouts, /healthz and /readyz, and an ordered shutdown (readiness
// fails first, then in-flight requests finish within a deadline).
package httpserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Options bound the server.
type Options struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	// ShutdownDelay keeps serving, with readiness failing, before shutdown
	// starts, so load balancers stop sending new requests first.
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take.
	ShutdownTimeout time.Duration
}

// Serve serves handler on ln until ctx is cancelled, then shuts down in
// order. It returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, handler http.Handler, o Options, health *Health, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if health != nil {
		health.SetDraining()
	}
	if o.ShutdownDelay > 0 {
		log.Info("shutting down: readiness off, still serving", "delay", o.ShutdownDelay)
		time.Sleep(o.ShutdownDelay)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown deadline passed; closing open connections", slog.Any("error", err))
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
