package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// Handler handles one event. Return nil when done (the message is
// acknowledged); otherwise classify the error with package errclass:
// Permanent dead-letters it, RateLimited and Retryable (or unclassified)
// retry it later, NotFound acknowledges it (the handler has recorded the
// outcome). Handlers must be idempotent: delivery is at least once.
type Handler func(ctx context.Context, ev events.Event) error

// Delivery describes the JetStream delivery of the event being handled.
type Delivery struct {
	Consumer     string
	StreamSeq    uint64
	NumDelivered uint64
}

type deliveryKey struct{}

// DeliveryFrom returns the delivery of the event a handler is handling.
func DeliveryFrom(ctx context.Context) (Delivery, bool) {
	d, ok := ctx.Value(deliveryKey{}).(Delivery)
	return d, ok
}

// DLQ headers added to a dead-lettered copy (the original headers are kept).
const (
	HeaderDLQReason    = "Idsync-Dlq-Reason"
	HeaderDLQClass     = "Idsync-Dlq-Class"
	HeaderDLQConsumer  = "Idsync-Dlq-Consumer"
	HeaderDLQSubject   = "Idsync-Dlq-Subject"
	HeaderDLQStream    = "Idsync-Dlq-Stream"
	HeaderDLQStreamSeq = "Idsync-Dlq-Stream-Seq"
	HeaderDLQDelivered = "Idsync-Dlq-Deliveries"
	HeaderDLQTime      = "Idsync-Dlq-Time"
)

// Consumer runs a Handler over one durable consumer: bounded concurrency,
// per-subject ordering within a replica, progress heartbeats for slow
// handlers, retries with backoff, dead-lettering, panic recovery, lag
// metrics, and a drain on shutdown that loses nothing.
type Consumer struct {
	gate    Gate
	conn    *Conn
	ns      events.Namespace
	cat     *events.Catalog
	spec    ConsumerSpec
	s       Settings
	handler Handler
	log     *slog.Logger
	m       *consumerMetrics
}

// Gate pauses a consumer: while it reports paused, the consumer stops
// pulling (messages it holds finish; the rest wait on the stream), and it
// resumes when the gate opens again. The removal guard is one.
type Gate interface {
	// Watch sends the paused state at once and on every change, until ctx ends.
	Watch(ctx context.Context) <-chan bool
}

// SetGate installs a gate; call it before Run.
func (c *Consumer) SetGate(g Gate) { c.gate = g }

// errPaused ends a pull because the gate closed.
var errPaused = errors.New("paused by its gate")

// NewConsumer validates its arguments; Run does the work.
func NewConsumer(conn *Conn, ns events.Namespace, cat *events.Catalog, spec ConsumerSpec, s Settings, h Handler, log *slog.Logger, reg prometheus.Registerer) (*Consumer, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("bus.NewConsumer %s: %w", spec.Durable, err)
	}
	if spec.Durable == "" || len(spec.FilterSubjects) == 0 || h == nil {
		return nil, fmt.Errorf("bus.NewConsumer: durable, filter subjects and handler are required")
	}
	return &Consumer{
		conn: conn, ns: ns, cat: cat, spec: spec, s: s, handler: h,
		log: log.With(logging.KeyConsumer, spec.Durable),
		m:   newConsumerMetrics(reg, spec.Durable),
	}, nil
}

// Run creates or updates the durable consumer and handles messages until ctx
// is cancelled. Then it drains: it stops pulling, lets in-flight and
// already-buffered messages finish for up to DrainTimeout, and returns.
// Anything unfinished is not acknowledged and is redelivered later.
func (c *Consumer) Run(ctx context.Context) error {
	// Handlers keep running while we drain; they are cancelled only when the
	// drain timeout expires.
	hctx, hardStop := context.WithCancel(context.WithoutCancel(ctx))
	defer hardStop()
	go func() {
		select {
		case <-ctx.Done():
		case <-hctx.Done():
			return
		}
		t := time.NewTimer(c.s.DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			c.log.Warn("drain timeout: unfinished messages are left for redelivery", "timeout", c.s.DrainTimeout)
			hardStop()
		case <-hctx.Done():
		}
	}()

	d := newDispatcher(c.s.Workers, c.s.AckWait/3, func(m jetstream.Msg) { c.handle(hctx, m) })
	defer d.close()

	var gate <-chan bool
	paused := false
	if c.gate != nil {
		gate = c.gate.Watch(ctx)
	}
	for attempt := 0; ; attempt++ {
		for paused {
			c.m.paused.Set(1)
			select {
			case <-ctx.Done():
				return nil
			case p, ok := <-gate:
				if !ok {
					return nil
				}
				paused = p
			}
		}
		c.m.paused.Set(0)
		cons, err := EnsureConsumer(ctx, c.conn.JS, c.ns, c.spec, c.s)
		if err == nil {
			err = c.pull(ctx, hctx, cons, d, gate)
			if err == nil {
				return nil
			}
			if errors.Is(err, errPaused) {
				c.log.Warn("consumer paused by its gate; waiting for an operator to resume it")
				paused = true
				continue
			}
			attempt = 0
		}
		if !waitRetry(ctx, c.log, "consumer", err, attempt) {
			return nil
		}
	}
}

// pullExpiry is how long one pull request waits at the server. The client
// notices a pull request lost with a cluster node only when two idle
// heartbeats (half the expiry each) are missed: with nats.go's default 30 s
// the consumers of the fault suite's cluster scenario stood still for up to
// 30 s after a node was killed; 10 s cuts that to 10 s, for one more pull
// request every 10 s on an idle consumer.
const pullExpiry = 10 * time.Second

// pull reads messages and dispatches them to workers until ctx is cancelled
// (returns nil after draining the client buffer, or at once when hctx is
// hard-stopped) or the iterator fails (returns the error so Run can recreate
// it).
func (c *Consumer) pull(ctx, hctx context.Context, cons jetstream.Consumer, d *dispatcher, gate <-chan bool) error {
	it, err := cons.Messages(jetstream.PullMaxMessages(c.s.Workers), jetstream.PullExpiry(pullExpiry))
	if err != nil {
		return fmt.Errorf("messages: %w", err)
	}
	var closedByGate atomic.Bool
	if gate != nil {
		watchDone := make(chan struct{})
		defer close(watchDone)
		go func() {
			for {
				select {
				case p, ok := <-gate:
					if ok && p {
						closedByGate.Store(true)
						it.Drain()
						return
					}
					if !ok {
						return
					}
				case <-watchDone:
					return
				}
			}
		}()
	}
	stopLag := c.watchLag(ctx, cons)
	defer stopLag()
	stopDrain := context.AfterFunc(ctx, it.Drain)
	defer stopDrain()
	stopHard := context.AfterFunc(hctx, it.Stop)
	defer stopHard()
	c.log.Info("consumer running", "filters", c.spec.FilterSubjects, "workers", c.s.Workers)
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) && ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) && closedByGate.Load() {
				return errPaused
			}
			it.Stop()
			return err
		}
		d.dispatch(msg)
	}
}

func (c *Consumer) handle(ctx context.Context, msg jetstream.Msg) {
	start := time.Now()
	meta, err := msg.Metadata()
	if err != nil {
		// Not a JetStream delivery: nothing sensible to do but drop it.
		c.log.Error("message without JetStream metadata", logging.Err(err))
		_ = msg.Term()
		return
	}
	if meta.NumDelivered > 1 {
		c.m.redeliveries.Inc()
	}
	c.m.pending.Set(float64(meta.NumPending))
	// The handler's calls (provider requests, outcome publishes) are
	// children of this message's span, which continues the publisher's trace.
	ctx, span := startProcess(ctx, c.spec.Durable, msg, meta.NumDelivered)
	defer span.End()
	log := c.log.With(logging.KeyDelivery, meta.NumDelivered, "stream_seq", meta.Sequence.Stream)
	if ctx.Err() != nil {
		// Hard stop: hand the message back at once so another replica takes it.
		_ = msg.Nak()
		c.result(ctx, "retry", "")
		return
	}

	ev, err := c.cat.Decode(c.ns, msg.Subject(), msg.Headers(), msg.Data())
	if err != nil {
		c.m.failures.WithLabelValues(errclass.Permanent.String()).Inc()
		c.deadLetter(ctx, msg, meta, errclass.Permanent, err.Error(), log)
		return
	}
	log = log.With(logging.KeyEventID, ev.ID, logging.KeySubject, ev.Subject)
	ctx = context.WithValue(ctx, deliveryKey{}, Delivery{Consumer: c.spec.Durable, StreamSeq: meta.Sequence.Stream, NumDelivered: meta.NumDelivered})
	ctx = logging.WithLogger(ctx, log)

	err = c.invoke(ctx, msg, ev, log)
	c.m.duration.Observe(time.Since(start).Seconds())
	c.settle(ctx, msg, meta, err, log)
}

// invoke runs the handler with progress heartbeats and panic recovery.
func (c *Consumer) invoke(ctx context.Context, msg jetstream.Msg, ev events.Event, log *slog.Logger) (err error) {
	// Tell JetStream we are still at it, so a slow provider call does not
	// make the message come back to another worker mid-flight.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(c.s.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = msg.InProgress()
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			c.m.panics.Inc()
			log.Error("handler panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = errclass.AsRetryable(fmt.Errorf("handler panic: %v", r))
		}
	}()
	return c.handler(ctx, ev)
}

// settle acknowledges, retries or dead-letters according to the error class.
func (c *Consumer) settle(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, err error, log *slog.Logger) {
	if err == nil {
		c.ack(ctx, msg, "ack", log)
		return
	}
	class := errclass.Of(err)
	c.m.failures.WithLabelValues(class.String()).Inc()
	switch class {
	case errclass.NotFound:
		log.Info("not found at provider; acknowledged", logging.Err(err))
		c.ack(ctx, msg, "not_found", log)
	case errclass.Permanent:
		c.deadLetter(ctx, msg, meta, class, err.Error(), log)
	default:
		if meta.NumDelivered >= uint64(c.s.MaxDeliver) {
			c.deadLetter(ctx, msg, meta, class, fmt.Sprintf("gave up after %d deliveries: %v", meta.NumDelivered, err), log)
			return
		}
		delay := errclass.DelayOf(err)
		if delay <= 0 {
			delay = c.s.backoff(meta.NumDelivered)
		}
		log.Warn("handler failed; will retry", logging.Err(err), "class", class.String(), "retry_in", delay)
		if nerr := msg.NakWithDelay(delay); nerr != nil {
			log.Warn("nak failed; redelivery after ack wait", logging.Err(nerr))
		}
		c.result(ctx, "retry", class.String())
	}
}

func (c *Consumer) ack(ctx context.Context, msg jetstream.Msg, result string, log *slog.Logger) {
	if err := msg.Ack(); err != nil {
		// The message will be redelivered and handled again, idempotently.
		log.Warn("ack failed", logging.Err(err))
	}
	class := ""
	if result == "not_found" {
		class = errclass.NotFound.String()
	}
	c.result(ctx, result, class)
}

// result counts how a message was settled and records it, with the error
// class, on the message's span.
func (c *Consumer) result(ctx context.Context, result, class string) {
	c.m.handled.WithLabelValues(result).Inc()
	setOutcome(ctx, result, class)
}

// deadLetter copies msg to the consumer's DLQ subject with the reason, then
// terminates it. If the copy cannot be stored the message is retried instead:
// nothing is dropped.
func (c *Consumer) deadLetter(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, class errclass.Class, reason string, log *slog.Logger) {
	reason = truncate(reason, 1024)
	dl := nats.NewMsg(c.ns.DLQSubject(c.spec.Durable))
	dl.Data = msg.Data()
	for k, vs := range msg.Headers() {
		if k == nats.MsgIdHdr {
			continue
		}
		for _, v := range vs {
			dl.Header.Add(k, v)
		}
	}
	dl.Header.Set(HeaderDLQReason, reason)
	dl.Header.Set(HeaderDLQClass, class.String())
	dl.Header.Set(HeaderDLQConsumer, c.spec.Durable)
	dl.Header.Set(HeaderDLQSubject, msg.Subject())
	dl.Header.Set(HeaderDLQStream, meta.Stream)
	dl.Header.Set(HeaderDLQStreamSeq, strconv.FormatUint(meta.Sequence.Stream, 10))
	dl.Header.Set(HeaderDLQDelivered, strconv.FormatUint(meta.NumDelivered, 10))
	dl.Header.Set(HeaderDLQTime, time.Now().UTC().Format(time.RFC3339Nano))
	// One dead letter per stored message, even if we crash between the copy
	// and the term and do this again.
	dl.Header.Set(nats.MsgIdHdr, "dlq:"+c.spec.Durable+":"+meta.Stream+":"+strconv.FormatUint(meta.Sequence.Stream, 10))

	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.conn.JS.PublishMsg(pctx, dl, jetstream.WithExpectStream(c.ns.Stream(StreamDLQ))); err != nil {
		log.Error("dead-letter publish failed; will retry the message", logging.Err(err))
		_ = msg.NakWithDelay(c.s.backoff(meta.NumDelivered))
		c.result(ctx, "retry", class.String())
		return
	}
	var err error
	if supportsTermReason(c.conn.NC) {
		err = msg.TermWithReason(reason)
	} else {
		err = msg.Term()
	}
	if err != nil {
		log.Warn("term failed; the message may be redelivered and dead-lettered again (deduplicated)", logging.Err(err))
	}
	log.Warn("dead-lettered", "class", class.String(), "reason", reason)
	c.m.deadLettered.WithLabelValues(class.String()).Inc()
	c.result(ctx, "dead_lettered", class.String())
}

// supportsTermReason: servers before 2.10.4 ignore "+TERM <reason>" (they
// compare the whole ack body), which would leave the message to be
// redelivered; they get a plain +TERM.
func supportsTermReason(nc *nats.Conn) bool {
	major, minor, patch, ok := parseVersion(nc.ConnectedServerVersion())
	if !ok {
		return false
	}
	return major > 2 || (major == 2 && (minor > 10 || (minor == 10 && patch >= 4)))
}

func parseVersion(v string) (major, minor, patch int, ok bool) {
	n, err := fmt.Sscanf(v, "%d.%d.%d", &major, &minor, &patch)
	return major, minor, patch, err == nil && n == 3
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// watchLag reads the consumer's info every LagInterval for the lag gauges,
// and the depth of its dead-letter subject.
func (c *Consumer) watchLag(ctx context.Context, cons jetstream.Consumer) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(c.s.LagInterval)
		defer t.Stop()
		for {
			ictx, icancel := context.WithTimeout(ctx, 5*time.Second)
			info, err := cons.Info(ictx)
			icancel()
			if err == nil {
				c.m.pending.Set(float64(info.NumPending))
				c.m.ackPending.Set(float64(info.NumAckPending))
				c.m.redelivered.Set(float64(info.NumRedelivered))
				c.m.waiting.Set(float64(info.NumWaiting))
			}
			if n, err := c.dlqDepth(ctx); err == nil {
				c.m.dlq.Set(float64(n))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// dlqDepth counts the messages on the consumer's DLQ subject; a batch
// consumer's watcher (no connection) has none to count.
func (c *Consumer) dlqDepth(ctx context.Context) (uint64, error) {
	if c.conn == nil || c.conn.JS == nil {
		return 0, errNoConn
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	subject := c.ns.DLQSubject(c.spec.Durable)
	s, err := c.conn.JS.Stream(ctx, c.ns.Stream(StreamDLQ))
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return 0, err
	}
	return info.State.Subjects[subject], nil
}

var errNoConn = errors.New("no connection")
