package bus

import (
	"context"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/tracing"
)

// HeaderCarrier adapts NATS headers to OpenTelemetry propagation: the trace
// context travels as the traceparent and tracestate headers of a message,
// beside its other headers.
type HeaderCarrier nats.Header

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string { return nats.Header(c).Get(key) }

// Set replaces key's values with value.
func (c HeaderCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }

// Keys lists the header names.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// startPublish starts the producer span of a publish and writes its context
// into every message's headers.
func startPublish(ctx context.Context, stream string, msgs []*nats.Msg) (context.Context, trace.Span) {
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "nats"),
		attribute.String("messaging.operation.type", "send"),
		attribute.String("idsync.stream", stream),
	}
	if len(msgs) > 0 {
		attrs = append(attrs, attribute.String("messaging.destination.name", msgs[0].Subject))
	}
	if len(msgs) > 1 {
		attrs = append(attrs, attribute.Int("messaging.batch.message_count", len(msgs)))
	}
	ctx, span := tracing.Tracer(ctx).Start(ctx, "publish "+stream, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	for _, m := range msgs {
		if m.Header == nil {
			m.Header = nats.Header{}
		}
		tracing.Propagator.Inject(ctx, HeaderCarrier(m.Header))
	}
	return ctx, span
}

// endPublish records a publish failure on its span and ends it.
func endPublish(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, "publish failed")
		if pe, ok := err.(*PublishError); ok {
			span.SetAttributes(attribute.String("error.type", pe.Failure.String()))
		}
	}
	span.End()
}

// startProcess continues the trace a message carries with a consumer span
// for its handling: attributes name the system, the subject, the consumer
// and the delivery, never the payload.
func startProcess(ctx context.Context, consumer string, msg jetstream.Msg, delivered uint64) (context.Context, trace.Span) {
	ctx = tracing.Propagator.Extract(ctx, HeaderCarrier(msg.Headers()))
	return tracing.Tracer(ctx).Start(ctx, "process "+consumer,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", msg.Subject()),
			attribute.String("messaging.consumer.group.name", consumer),
			attribute.String("messaging.message.id", msg.Headers().Get(events.HeaderID)),
			attribute.Int64("messaging.message.delivery_count", int64(delivered)),
		))
}

// setOutcome records how a message was settled (ack, not_found, retry,
// dead_lettered) and the error class on the span in ctx.
func setOutcome(ctx context.Context, result, class string) {
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.String("idsync.result", result))
	if class != "" {
		span.SetAttributes(attribute.String("idsync.error_class", class))
	}
	if result == "retry" || result == "dead_lettered" {
		span.SetStatus(codes.Error, result)
	}
}
