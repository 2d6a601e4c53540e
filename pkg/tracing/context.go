package tracing

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Scope names idsync's tracer (the instrumentation scope of every span).
const Scope = "github.com/idsync/idsync"

// Propagator is the W3C trace-context propagator (traceparent, tracestate)
// used on the bus.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

type providerKey struct{}

// WithProvider returns ctx carrying tp: every span started below ctx (the
// gateway's requests, the consumers' messages, provider calls) uses it.
func WithProvider(ctx context.Context, tp trace.TracerProvider) context.Context {
	return context.WithValue(ctx, providerKey{}, tp)
}

// ProviderFrom returns the provider ctx carries, or OpenTelemetry's global
// one (a no-op unless something set it).
func ProviderFrom(ctx context.Context) trace.TracerProvider {
	if tp, ok := ctx.Value(providerKey{}).(trace.TracerProvider); ok {
		return tp
	}
	return otel.GetTracerProvider()
}

// HasProvider reports whether ctx carries a provider.
func HasProvider(ctx context.Context) bool {
	_, ok := ctx.Value(providerKey{}).(trace.TracerProvider)
	return ok
}

// Tracer returns idsync's tracer from ctx's provider.
func Tracer(ctx context.Context) trace.Tracer { return ProviderFrom(ctx).Tracer(Scope) }
