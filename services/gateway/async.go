package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// asyncPublisher publishes okta.verify.email events off the request path.
// The inline hook's answer is what matters to the user registering; the
// record of it is retried until the bus takes it or the queue overflows
// (counted and logged: the answer was already given).
type asyncPublisher struct {
	pub   Publisher
	queue chan queued
	log   *slog.Logger
	m     *gatewayMetrics
	ns    events.Namespace

	once sync.Once
	stop chan struct{}
	done chan struct{}
	// carry holds the event the loop was retrying when told to stop; close
	// reads it after done is closed.
	carry []queued
}

// queued is a decision to record, with the context of the request that
// made it: its values only (the trace, the tracer provider), never its
// cancellation, so the record is linked to the request's trace.
type queued struct {
	ctx context.Context
	ev  events.Event
}

func newAsyncPublisher(pub Publisher, ns events.Namespace, size int, log *slog.Logger, m *gatewayMetrics) *asyncPublisher {
	return &asyncPublisher{
		pub: pub, ns: ns, queue: make(chan queued, size), log: log, m: m,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
}

func (a *asyncPublisher) enqueue(ctx context.Context, ev events.Event) {
	select {
	case a.queue <- queued{context.WithoutCancel(ctx), ev}:
		a.m.verifyQueue.Set(float64(len(a.queue)))
	default:
		a.m.verifyDropped.Inc()
		a.log.Error("okta.verify.email queue full; decision not recorded", logging.KeyEventID, ev.ID)
	}
}

func (a *asyncPublisher) start() {
	a.once.Do(func() { go a.loop() })
}

func (a *asyncPublisher) loop() {
	defer close(a.done)
	for {
		select {
		case q := <-a.queue:
			if !a.publish(q, a.stop) {
				a.carry = append(a.carry, q)
				return
			}
		case <-a.stop:
			return
		}
	}
}

// publish retries with backoff until stored, or until stop closes.
func (a *asyncPublisher) publish(q queued, stop <-chan struct{}) bool {
	ev := q.ev
	m, err := events.Encode(a.ns, ev)
	if err != nil {
		a.log.Error("encoding okta.verify.email", logging.Err(err), logging.KeyEventID, ev.ID)
		return false
	}
	for delay := 100 * time.Millisecond; ; delay = min(delay*2, 5*time.Second) {
		if _, err = a.pub.PublishAll(q.ctx, []*nats.Msg{m}); err == nil {
			a.m.verifyRecorded.Inc()
			a.m.verifyQueue.Set(float64(len(a.queue)))
			return true
		}
		a.log.Warn("publishing okta.verify.email failed; retrying", logging.Err(err), logging.KeyEventID, ev.ID)
		select {
		case <-time.After(delay):
		case <-stop:
			return false
		}
	}
}

// close stops the loop, then publishes what is still queued until ctx ends.
func (a *asyncPublisher) close(ctx context.Context) {
	a.once.Do(func() { close(a.done) })
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	<-a.done
	for _, q := range a.carry {
		if !a.publish(q, ctx.Done()) {
			a.log.Error("shutdown: okta.verify.email not recorded", logging.KeyEventID, q.ev.ID, "still_queued", len(a.queue))
			return
		}
	}
	for {
		select {
		case q := <-a.queue:
			if !a.publish(q, ctx.Done()) {
				a.log.Error("shutdown: okta.verify.email not recorded", logging.KeyEventID, q.ev.ID, "still_queued", len(a.queue))
				return
			}
		default:
			return
		}
	}
}
