package service

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/idsync/idsync/pkg/tracing"
	"github.com/idsync/idsync/pkg/tracing/exporter"
)

// flushTimeout bounds how long exiting waits for the last spans to export.
const flushTimeout = 5 * time.Second

// Traced wraps run with OpenTelemetry tracing set up from getenv (see
// exporter.Setup; off unless an OTLP endpoint is set), name being the
// service.name unless OTEL_SERVICE_NAME says otherwise. The provider travels
// in run's context, so every span of the process uses it; a context that
// already carries one (a test's in-memory provider) keeps it. The buffered
// spans are flushed when run returns.
func Traced(name string, run RunFunc) RunFunc {
	return func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
		if tracing.HasProvider(ctx) {
			return run(ctx, args, getenv, stdout, stderr)
		}
		tp, err := exporter.Setup(ctx, getenv, name)
		if err != nil {
			return fmt.Errorf("tracing: %w", err)
		}
		defer func() {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
			defer cancel()
			if err := tp.Shutdown(fctx); err != nil {
				fmt.Fprintln(stderr, name+": flushing traces:", err)
			}
		}()
		return run(tracing.WithProvider(ctx, tp.TracerProvider), args, getenv, stdout, stderr)
	}
}
