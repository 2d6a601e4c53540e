package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/metrics"
)

// BatchHandler handles a batch of messages as a whole: nil means every
// message is durably handled and is acknowledged; an error redelivers them
// all later (the handler must be idempotent).
type BatchHandler func(ctx context.Context, msgs []jetstream.Msg) error

// BatchSettings tune a batch consumer.
type BatchSettings struct {
	// Size is the most messages in one batch.
	Size int
	// Linger is how long to wait for a batch to fill.
	Linger time.Duration
	// AckWait, MaxDeliver and backoff as for Settings; MaxDeliver -1 retries
	// for ever (the event log must not give up on an event while its
	// database is down).
	AckWait     time.Duration
	MaxDeliver  int
	BackoffBase time.Duration
	BackoffMax  time.Duration
	LagInterval time.Duration
}

// BatchConsumer runs a BatchHandler over one durable consumer: it pulls up
// to Size messages (or what arrived within Linger), hands them over, and
// acknowledges them only after the handler returned nil — so a crash
// between the handler's commit and the acks redelivers, and never loses.
type BatchConsumer struct {
	conn    *Conn
	ns      events.Namespace
	spec    ConsumerSpec
	s       BatchSettings
	handler BatchHandler
	log     *slog.Logger
	m       *consumerMetrics
	batches prometheus.Observer
}

// NewBatchConsumer validates its arguments; Run does the work.
func NewBatchConsumer(conn *Conn, ns events.Namespace, spec ConsumerSpec, s BatchSettings, h BatchHandler, log *slog.Logger, reg prometheus.Registerer) (*BatchConsumer, error) {
	if s.Size < 1 || s.Linger <= 0 || s.AckWait < time.Second || (s.MaxDeliver < 2 && s.MaxDeliver != -1) || s.BackoffBase <= 0 || s.BackoffMax < s.BackoffBase || s.LagInterval <= 0 {
		return nil, fmt.Errorf("bus.NewBatchConsumer %s: invalid settings %+v", spec.Durable, s)
	}
	if h == nil || spec.Durable == "" || len(spec.FilterSubjects) == 0 {
		return nil, errors.New("bus.NewBatchConsumer: durable, filters and handler are required")
	}
	name := spec.Durable + "@" + spec.Stream
	return &BatchConsumer{
		conn: conn, ns: ns, spec: spec, s: s, handler: h,
		log: log.With(logging.KeyConsumer, name),
		m:   newConsumerMetrics(reg, name),
		batches: metrics.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metrics.Namespace, Subsystem: "consumer", Name: "batch_size",
			Help:    "Messages per batch handed to a batch consumer's handler.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000},
		}, []string{"consumer"})).WithLabelValues(name),
	}, nil
}

func (c *BatchConsumer) settings() Settings {
	return Settings{
		Workers: 1, MaxAckPending: max(c.s.Size*2, c.s.Size+1), AckWait: c.s.AckWait, MaxDeliver: c.s.MaxDeliver,
		BackoffBase: c.s.BackoffBase, BackoffMax: c.s.BackoffMax, LagInterval: c.s.LagInterval,
	}
}

// Run handles batches until ctx is cancelled; the batch in hand is finished
// (handled and acknowledged) before it returns.
func (c *BatchConsumer) Run(ctx context.Context) error {
	s := c.settings()
	for attempt := 0; ; attempt++ {
		cons, err := EnsureConsumer(ctx, c.conn.JS, c.ns, c.spec, s)
		if err == nil {
			c.log.Info("batch consumer running", "filters", c.spec.FilterSubjects, "batch", c.s.Size)
			err = c.loop(ctx, cons)
			if err == nil {
				return nil
			}
			attempt = 0
		}
		if !waitRetry(ctx, c.log, "batch consumer", err, attempt) {
			return nil
		}
	}
}

func (c *BatchConsumer) loop(ctx context.Context, cons jetstream.Consumer) error {
	stopLag := (&Consumer{m: c.m, s: c.settings()}).watchLag(ctx, cons)
	defer stopLag()
	// The batch in hand is finished even if ctx ends meanwhile.
	hctx := context.WithoutCancel(ctx)
	for ctx.Err() == nil {
		batch, err := cons.Fetch(c.s.Size, jetstream.FetchMaxWait(c.s.Linger))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch: %w", err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && len(msgs) == 0 {
			if ctx.Err() != nil {
				return nil
			}
			c.log.Debug("fetch ended", logging.Err(err))
		}
		if len(msgs) == 0 {
			continue
		}
		c.handle(hctx, msgs)
	}
	return nil
}

func (c *BatchConsumer) handle(ctx context.Context, msgs []jetstream.Msg) {
	start := time.Now()
	c.batches.Observe(float64(len(msgs)))
	// One consumer span per message, each continuing its publisher's trace,
	// ended once the batch is settled.
	spans := make([]context.Context, len(msgs))
	for i, m := range msgs {
		var delivered uint64
		if meta, err := m.Metadata(); err == nil {
			c.m.pending.Set(float64(meta.NumPending))
			if meta.NumDelivered > 1 {
				c.m.redeliveries.Inc()
			}
			delivered = meta.NumDelivered
		}
		sctx, span := startProcess(ctx, c.spec.Durable, m, delivered)
		defer span.End()
		spans[i] = sctx
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(c.s.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				for _, m := range msgs {
					_ = m.InProgress()
				}
			case <-stop:
				return
			}
		}
	}()
	err := c.handler(ctx, msgs)
	close(stop)
	c.m.duration.Observe(time.Since(start).Seconds())
	if err == nil {
		for _, m := range msgs {
			if aerr := m.Ack(); aerr != nil {
				c.log.Warn("ack failed; the message will be redelivered and stored once", logging.Err(aerr))
			}
		}
		c.m.handled.WithLabelValues("ack").Add(float64(len(msgs)))
		for _, sctx := range spans {
			setOutcome(sctx, "ack", "")
		}
		return
	}
	c.m.failures.WithLabelValues("retryable").Inc()
	delivered := uint64(1)
	if meta, merr := msgs[0].Metadata(); merr == nil {
		delivered = meta.NumDelivered
	}
	delay := c.settings().backoff(delivered)
	c.log.Error("batch failed; will retry", logging.Err(err), "messages", len(msgs), "retry_in", delay)
	for _, m := range msgs {
		_ = m.NakWithDelay(delay)
	}
	c.m.handled.WithLabelValues("retry").Add(float64(len(msgs)))
	for _, sctx := range spans {
		setOutcome(sctx, "retry", "retryable")
	}
}
