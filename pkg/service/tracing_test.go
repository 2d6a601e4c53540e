package service_test

import (
	"context"
	"io"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/idsync/idsync/pkg/service"
	"github.com/idsync/idsync/pkg/tracing"
)

// TestTraced checks what run receives: without an endpoint a no-op provider
// (nothing exported, no exporter), and a provider the caller already put in
// the context is kept.
func TestTraced(t *testing.T) {
	t.Parallel()
	injected := noop.NewTracerProvider()
	tests := []struct {
		name  string
		ctx   context.Context
		check func(trace.TracerProvider) bool
	}{
		{name: "no endpoint: no-op", ctx: context.Background(), check: func(tp trace.TracerProvider) bool {
			_, ok := tp.(noop.TracerProvider)
			return ok
		}},
		{name: "injected provider kept", ctx: tracing.WithProvider(context.Background(), marker{injected}), check: func(tp trace.TracerProvider) bool {
			_, ok := tp.(marker)
			return ok
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got trace.TracerProvider
			run := service.Traced("test", func(ctx context.Context, _ []string, _ func(string) string, _, _ io.Writer) error {
				got = tracing.ProviderFrom(ctx)
				return nil
			})
			if err := run(tc.ctx, nil, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			if !tc.check(got) {
				t.Fatalf("run got %T", got)
			}
		})
	}
}

type marker struct{ noop.TracerProvider }
