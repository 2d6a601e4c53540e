package gateway

import (
	"context"
	"log/slog"

	"github.com/idsync/idsync/pkg/logging"
)

// requestLogger is base.With(request_id, route) that formats those two
// attributes only if the request logs something: slog's JSON handler
// formats a With's attributes at once, which the gateway's profile showed
// on every request although an accepted delivery logs nothing at the
// default level.
func requestLogger(base *slog.Logger, id, route string) *slog.Logger {
	return slog.New(&lazyAttrs{h: base.Handler(), attrs: [2]slog.Attr{
		slog.String(logging.KeyRequestID, id), slog.String("route", route),
	}})
}

// lazyAttrs is a handler with attributes, added to the one it wraps when a
// record is handled (or when more attributes or a group are added, so
// that the output is what WithAttrs would have written).
type lazyAttrs struct {
	h     slog.Handler
	attrs [2]slog.Attr
}

func (l *lazyAttrs) resolved() slog.Handler { return l.h.WithAttrs(l.attrs[:]) }

func (l *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	return l.resolved().Handle(ctx, r)
}

func (l *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return l.resolved().WithAttrs(attrs)
}

func (l *lazyAttrs) WithGroup(name string) slog.Handler { return l.resolved().WithGroup(name) }
