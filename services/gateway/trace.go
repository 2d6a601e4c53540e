package gateway

import (
	"context"
	"errors"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/tracing"
)

// startSpan starts the server span of a request, named by its method and
// route template. Its attributes are the route, the method and, at the end,
// the status and error code: never the URL's query, headers or the body.
func startSpan(r *http.Request, route string) (context.Context, trace.Span) {
	ctx := r.Context()
	return tracing.Tracer(ctx).Start(ctx, r.Method+" "+route,
		trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("http.route", route),
		))
}

func endSpan(span trace.Span, status int, err error) {
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	var ae *apierror.Error
	if errors.As(err, &ae) {
		span.SetAttributes(attribute.String("error.type", string(ae.Code)))
	}
	if status >= 500 {
		span.SetStatus(codes.Error, "")
	}
}
