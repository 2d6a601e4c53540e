package bus_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/tracing"
)

// TestTraceContextCrossesTheBus publishes under a span and checks that the
// message carries its trace context beside its other headers, that the
// consumer's span continues the trace as a child of the publish with the
// messaging attributes and the outcome, that the handler's context holds
// that span, and that a dead-lettered copy keeps the trace context.
func TestTraceContextCrossesTheBus(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		tests := []struct {
			name       string
			err        error
			wantResult string
			wantClass  string
			wantDLQ    bool
		}{
			{name: "handled", wantResult: "ack"},
			{name: "not found", err: errclass.AsNotFound(errors.New("gone")), wantResult: "not_found", wantClass: "not_found"},
			{name: "dead-lettered", err: errclass.AsPermanent(errors.New("refused")), wantResult: "dead_lettered", wantClass: "permanent", wantDLQ: true},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ns := events.Namespace(string(tg.NS) + "t" + string(rune('a'+i)))
				if tg.Embedded == nil {
					bustest.CleanupNamespace(t, tg.URL, ns)
				}
				if err := bus.EnsureStreams(context.Background(), conn.JS, ns, testStreams); err != nil {
					t.Fatal(err)
				}
				exp := tracetest.NewInMemoryExporter()
				tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
				t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				ctx := tracing.WithProvider(context.Background(), tp)

				var mu sync.Mutex
				var handlerSpan trace.SpanContext
				runConsumerIn(ctx, t, conn, ns, deleteUserSpec(ns), testSettings(), func(ctx context.Context, _ events.Event) error {
					mu.Lock()
					handlerSpan = trace.SpanContextFromContext(ctx)
					mu.Unlock()
					return tc.err
				})

				rctx, root := tp.Tracer("test").Start(ctx, "request")
				m, err := events.Encode(ns, deleteUserEvent("tr-1", "00u1"))
				if err != nil {
					t.Fatal(err)
				}
				m.Header.Set("X-Keep", "kept")
				p := bus.NewPublisher(conn, ns.Stream(bus.StreamEvents), 5*time.Second, prometheus.NewRegistry())
				if _, err := p.Publish(rctx, m); err != nil {
					t.Fatal(err)
				}
				root.End()
				traceID := root.SpanContext().TraceID()

				stored := lastMsg(t, conn, ns.Stream(bus.StreamEvents))
				tp0 := stored.Get("traceparent")
				if tp0 == "" || tp0[3:35] != traceID.String() {
					t.Fatalf("stored traceparent %q, want trace %s", tp0, traceID)
				}
				if stored.Get("X-Keep") != "kept" || stored.Get(events.HeaderID) != "tr-1" || stored.Get(nats.MsgIdHdr) != "tr-1" {
					t.Fatalf("other headers lost: %v", stored)
				}
				waitFor(t, "settled", settled(t, conn, ns, "test-sync"))
				waitFor(t, "consumer span", func() bool { return findSpan(exp.GetSpans(), "process test-sync") != nil })

				spans := exp.GetSpans()
				pub := findSpan(spans, "publish "+ns.Stream(bus.StreamEvents))
				proc := findSpan(spans, "process test-sync")
				if pub == nil || pub.SpanKind != trace.SpanKindProducer || pub.Parent.SpanID() != root.SpanContext().SpanID() {
					t.Fatalf("publish span %+v: want a producer child of the request", pub)
				}
				if proc.SpanKind != trace.SpanKindConsumer || proc.SpanContext.TraceID() != traceID || proc.Parent.SpanID() != pub.SpanContext.SpanID() {
					t.Fatalf("consumer span: kind %v trace %s parent %s; want consumer, %s, %s", proc.SpanKind,
						proc.SpanContext.TraceID(), proc.Parent.SpanID(), traceID, pub.SpanContext.SpanID())
				}
				mu.Lock()
				if handlerSpan.SpanID() != proc.SpanContext.SpanID() {
					t.Errorf("the handler's context holds span %s, want the consumer span %s", handlerSpan.SpanID(), proc.SpanContext.SpanID())
				}
				mu.Unlock()
				want := map[attribute.Key]string{
					"messaging.system": "nats", "messaging.destination.name": m.Subject, "messaging.consumer.group.name": "test-sync",
					"messaging.message.delivery_count": "1", "idsync.result": tc.wantResult, "idsync.error_class": tc.wantClass,
				}
				got := map[attribute.Key]string{}
				for _, kv := range proc.Attributes {
					got[kv.Key] = kv.Value.String()
				}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("consumer span %s = %q, want %q", k, got[k], v)
					}
				}
				if tc.wantDLQ {
					dl := dlqMessages(t, conn, ns)
					if len(dl) != 1 || dl[0].Header.Get("traceparent") != tp0 || dl[0].Header.Get("X-Keep") != "kept" {
						t.Fatalf("dead letter does not keep the trace context: %+v", dl)
					}
				}
			})
		}
	})
}

func lastMsg(t *testing.T, conn *bus.Conn, stream string) nats.Header {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := conn.JS.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	return m.Header
}

func findSpan(spans tracetest.SpanStubs, name string) *tracetest.SpanStub {
	for i := range spans {
		if spans[i].Name == name {
			return &spans[i]
		}
	}
	return nil
}

// TestHeaderCarrier checks the adapter round-trips the W3C headers.
func TestHeaderCarrier(t *testing.T) {
	t.Parallel()
	h := nats.Header{"Other": {"x"}}
	c := bus.HeaderCarrier(h)
	c.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	if got := c.Get("traceparent"); got == "" || h.Get("Other") != "x" || len(c.Keys()) != 2 {
		t.Fatalf("carrier: %q, keys %v", got, c.Keys())
	}
	ctx := tracing.Propagator.Extract(context.Background(), c)
	if sc := trace.SpanContextFromContext(ctx); sc.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || !sc.IsRemote() {
		t.Fatalf("extracted %+v", sc)
	}
}
