package gateway

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// ctxPublisher records the context of each publish.
type ctxPublisher struct {
	mu   sync.Mutex
	ctxs []context.Context
}

func (p *ctxPublisher) PublishAll(ctx context.Context, msgs []*nats.Msg) ([]bus.Ack, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ctxs = append(p.ctxs, ctx)
	return make([]bus.Ack, len(msgs)), nil
}

// TestVerifyRecordContinuesTheRequestTrace: the background record of an
// inline hook decision is published in the request's trace, and is not
// cancelled with the request (it is recorded after the answer).
func TestVerifyRecordContinuesTheRequestTrace(t *testing.T) {
	pub := &ctxPublisher{}
	a := newAsyncPublisher(pub, events.DefaultNamespace, 4, logging.Discard(), newGatewayMetrics(prometheus.NewRegistry()))
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	reqCtx, cancel := context.WithCancel(trace.ContextWithSpanContext(context.Background(), sc))
	typ, ok := events.Default().Lookup(events.OktaVerifyEmail)
	if !ok {
		t.Fatal("no okta.verify.email in the catalog")
	}
	ev := events.Event{ID: "verify-1", Type: typ, Source: "urn:test", Subject: "reg-1", Time: time.Now(), Payload: typ.Payload.New().Interface()}
	a.enqueue(reqCtx, ev)
	cancel() // the request is answered before the record is published
	a.start()
	a.close(context.Background())
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if len(pub.ctxs) != 1 {
		t.Fatalf("%d publishes, want 1", len(pub.ctxs))
	}
	got := pub.ctxs[0]
	if trace.SpanContextFromContext(got).TraceID() != sc.TraceID() {
		t.Errorf("published in trace %v, want the request's %v", trace.SpanContextFromContext(got).TraceID(), sc.TraceID())
	}
	if got.Err() != nil {
		t.Errorf("the publish context ended with the request: %v", got.Err())
	}
}
