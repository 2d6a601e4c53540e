package tracing

import (
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/idsync/idsync/pkg/metrics"
)

// Transport wraps base so that every call to a provider API is a client span
// named by metrics.Operation (method and path template: never ids, emails or
// the query), with the provider, the method, the host and the status. It
// does not send traceparent to the provider: trace ids mean nothing to a
// third party.
func Transport(base http.RoundTripper, provider string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, provider: provider}
}

type transport struct {
	base     http.RoundTripper
	provider string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := Tracer(req.Context()).Start(req.Context(), metrics.Operation(req),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("idsync.provider", t.provider),
			attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()),
		))
	defer span.End()
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		span.SetStatus(codes.Error, "no response")
		span.SetAttributes(attribute.String("error.type", "transport"))
		return resp, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, "")
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(resp.StatusCode)))
	}
	return resp, err
}
