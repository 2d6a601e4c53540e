// Package logging builds the one JSON slog logger each program creates in run
// and passes down. Attribute names used across idsync are constants here so
// that logs can be queried uniformly.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Attribute keys shared by every service.
const (
	KeyRequestID = "request_id"
	KeyEventID   = "event_id"
	KeySubject   = "subject"
	KeyConsumer  = "consumer"
	KeyDelivery  = "delivery"
	KeyService   = "service"
	KeyError     = "error"
)

// ParseLevel maps debug, info, warn and error to a slog level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("%q is not a log level (debug, info, warn, error)", s)
	}
	return l, nil
}

// New returns a JSON logger writing to w at the given level, tagged with the
// service name.
func New(w io.Writer, level slog.Level, service string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(h).With(KeyService, service)
}

// Discard returns a logger that drops everything (for tests and benchmarks).
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Err is the conventional attribute for an error.
func Err(err error) slog.Attr { return slog.Any(KeyError, err) }

type ctxKey struct{}

// WithLogger stores a request-scoped logger in ctx.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the logger stored by WithLogger, or fallback.
func FromContext(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}
