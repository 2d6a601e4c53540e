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

// spanStart is how a route's requests start their server span, named by
// the method and the route template. Its attributes are the route, the
// method and, at the end, the status and error code: never the URL's query,
// headers or the body. The options of the route's own method are built
// once (they were allocations on every request, tracing on or off).
type spanStart struct {
	method, route, name string
	opts                []trace.SpanStartOption
}

func newSpanStart(method, route string) spanStart {
	return spanStart{method: method, route: route, name: method + " " + route, opts: spanOptions(method, route)}
}

func spanOptions(method, route string) []trace.SpanStartOption {
	return []trace.SpanStartOption{
		trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", method),
			attribute.String("http.route", route),
		),
	}
}

// start starts the server span of r.
func (s spanStart) start(r *http.Request) (context.Context, trace.Span) {
	ctx := r.Context()
	name, opts := s.name, s.opts
	if r.Method != s.method {
		name, opts = r.Method+" "+s.route, spanOptions(r.Method, s.route)
	}
	return tracing.Tracer(ctx).Start(ctx, name, opts...)
}

func endSpan(span trace.Span, status int, err error) {
	if !span.IsRecording() {
		return // what follows would be dropped anyway
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	var ae *apierror.Error
	if errors.As(err, &ae) {
		span.SetAttributes(attribute.String("error.type", string(ae.Code)))
	}
	if status >= 500 {
		span.SetStatus(codes.Error, "")
	}
}
