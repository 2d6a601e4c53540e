package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/metrics"
)

// PublishFailure says why JetStream did not store a message, so the gateway
// can pick the right answer for the sender.
type PublishFailure int

const (
	// Unavailable: not connected, no stream leader, or no responders.
	Unavailable PublishFailure = iota + 1
	// Timeout: no acknowledgement in time; the message may be stored, and a
	// retry with the same id is deduplicated.
	Timeout
	// Full: the stream refused the message because a limit was reached.
	Full
	// TooLarge: the message exceeds the server's maximum payload.
	TooLarge
)

func (f PublishFailure) String() string {
	switch f {
	case Unavailable:
		return "unavailable"
	case Timeout:
		return "timeout"
	case Full:
		return "full"
	case TooLarge:
		return "too_large"
	}
	return "unknown"
}

// PublishError is returned by Publisher for every failure.
type PublishError struct {
	Failure PublishFailure
	Subject string
	Err     error
}

func (e *PublishError) Error() string {
	return fmt.Sprintf("publish %s: %s: %v", e.Subject, e.Failure, e.Err)
}

func (e *PublishError) Unwrap() error { return e.Err }

// Server error codes (nats-server errors.json) that mean "stream full".
const (
	errCodeStoreFailed           jetstream.ErrorCode = 10077
	errCodeInsufficientResources jetstream.ErrorCode = 10023
	errCodeStorageExceeded       jetstream.ErrorCode = 10047
)

func classifyPublish(subject string, err error) *PublishError {
	pe := &PublishError{Subject: subject, Err: err, Failure: Unavailable}
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		pe.Failure = Timeout
	case errors.Is(err, nats.ErrMaxPayload), errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum):
		pe.Failure = TooLarge
	case errors.As(err, &apiErr) && (apiErr.ErrorCode == errCodeStoreFailed ||
		apiErr.ErrorCode == errCodeInsufficientResources || apiErr.ErrorCode == errCodeStorageExceeded):
		pe.Failure = Full
	}
	return pe
}

// Publisher publishes to JetStream and waits for the acknowledgement, so a
// caller that gets nil knows the message is stored (or was already stored:
// the Nats-Msg-Id header deduplicates). Every failure is a *PublishError.
type Publisher struct {
	js      jetstream.JetStream
	nc      *nats.Conn
	timeout time.Duration
	stream  string

	duration *prometheus.HistogramVec
	results  *prometheus.CounterVec
	// The series of every successful publish, looked up once (on first
	// use, so that /metrics shows no series before the first publish).
	observer          func() prometheus.Observer
	stored, duplicate func() prometheus.Counter
}

// NewPublisher returns a publisher that expects every message to land in
// stream (a full stream name) and gives up after timeout.
func NewPublisher(conn *Conn, stream string, timeout time.Duration, reg prometheus.Registerer) *Publisher {
	p := &Publisher{
		js: conn.JS, nc: conn.NC, timeout: timeout, stream: stream,
		duration: metrics.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metrics.Namespace, Subsystem: "bus", Name: "publish_duration_seconds",
			Help:    "Time from publish to JetStream acknowledgement.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"stream"})),
		results: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "bus", Name: "published_total",
			Help: "Publishes by result: stored, duplicate, or the failure (unavailable, timeout, full, too_large).",
		}, []string{"stream", "result"})),
	}
	p.observer = sync.OnceValue(func() prometheus.Observer { return p.duration.WithLabelValues(stream) })
	p.stored = sync.OnceValue(func() prometheus.Counter { return p.results.WithLabelValues(stream, "stored") })
	p.duplicate = sync.OnceValue(func() prometheus.Counter { return p.results.WithLabelValues(stream, "duplicate") })
	return p
}

// Ack is what JetStream answered for one stored message.
type Ack struct {
	Sequence  uint64
	Duplicate bool
}

// Publish stores one message. The message must carry its Nats-Msg-Id header.
func (p *Publisher) Publish(ctx context.Context, m *nats.Msg) (Ack, error) {
	acks, err := p.PublishAll(ctx, []*nats.Msg{m})
	if err != nil {
		return Ack{}, err
	}
	return acks[0], nil
}

// PublishAll stores every message, pipelining them, and returns when all are
// acknowledged; on any failure it returns the first error (some messages may
// be stored: a retry of all of them is deduplicated by their ids).
//
// The messages carry the trace context of the publish's producer span
// (traceparent, tracestate) besides their own headers.
func (p *Publisher) PublishAll(ctx context.Context, msgs []*nats.Msg) (acks []Ack, err error) {
	ctx, span := startPublish(ctx, p.stream, msgs)
	defer func() { endPublish(span, err) }()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	start := time.Now()
	if !p.nc.IsConnected() {
		return nil, p.fail(msgs[0].Subject, nats.ErrDisconnected)
	}
	opts := []jetstream.PublishOpt{jetstream.WithExpectStream(p.stream), jetstream.WithRetryAttempts(0)}
	acks = make([]Ack, len(msgs))
	if len(msgs) == 1 {
		pa, err := p.js.PublishMsg(ctx, msgs[0], opts...)
		if err != nil {
			return nil, p.fail(msgs[0].Subject, err)
		}
		acks[0] = Ack{Sequence: pa.Sequence, Duplicate: pa.Duplicate}
		p.done(start, acks)
		return acks, nil
	}
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		f, err := p.js.PublishMsgAsync(m, opts...)
		if err != nil {
			return nil, p.fail(m.Subject, err)
		}
		futures[i] = f
	}
	for i, f := range futures {
		select {
		case pa := <-f.Ok():
			acks[i] = Ack{Sequence: pa.Sequence, Duplicate: pa.Duplicate}
		case err := <-f.Err():
			return nil, p.fail(msgs[i].Subject, err)
		case <-ctx.Done():
			return nil, p.fail(msgs[i].Subject, ctx.Err())
		}
	}
	p.done(start, acks)
	return acks, nil
}

func (p *Publisher) done(start time.Time, acks []Ack) {
	p.observer().Observe(time.Since(start).Seconds())
	for _, a := range acks {
		if a.Duplicate {
			p.duplicate().Inc()
		} else {
			p.stored().Inc()
		}
	}
}

func (p *Publisher) fail(subject string, err error) error {
	pe := classifyPublish(subject, err)
	p.results.WithLabelValues(p.stream, pe.Failure.String()).Inc()
	return pe
}
