// Package jsprobe measures what JetStream itself can do on the server the
// gateway uses — the ceiling nothing built on it can beat: synchronous
// publishes from N concurrent publishers, asynchronous publishes with a
// window of unacknowledged messages, and a durable pull consumer acking
// every message. The probes publish into a copy of the gateway's events
// stream (same storage, replicas, limits, duplicate window) under another
// namespace.
package jsprobe

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/bench/loadgen"
	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
)

// Namespace is the copy's namespace: stream BENCH_EVENTS, subjects
// bench.events.>.
const Namespace events.Namespace = "bench"

// Subjects in the copy, one per writer so that a consumer can pick one.
const (
	SubjectSync  = "bench.events.sync"
	SubjectAsync = "bench.events.async"
	SubjectRelay = "bench.events.relay"
)

// Stream is the copy of the gateway's events stream for c: pkg/bus's own
// definition, in Namespace.
func Stream(c bus.StreamConfig) jetstream.StreamConfig {
	return bus.Streams(Namespace, c)[0]
}

// Sync returns loadgen senders that each publish body synchronously to
// subject (waiting for the stream's ack) with a unique Nats-Msg-Id, as the
// gateway publishes. All share js, one connection, as the gateway's
// requests do.
func Sync(js jetstream.JetStream, subject string, body []byte, idPrefix string) loadgen.NewOp {
	return func(int) loadgen.Op {
		return func(ctx context.Context, seq uint64) error {
			_, err := js.Publish(ctx, subject, body, jetstream.WithMsgID(idPrefix+strconv.FormatUint(seq, 10)))
			return err
		}
	}
}

// AsyncResult is what an asynchronous publish run did.
type AsyncResult struct {
	// Acked messages were stored; Failed were refused or timed out.
	Acked, Failed int64
	// Elapsed runs from the first publish to the last acknowledgement.
	Elapsed time.Duration
}

// Async publishes body to subject for d with at most window messages
// awaiting their ack, each with a unique Nats-Msg-Id, then waits for the
// outstanding acks.
func Async(ctx context.Context, nc *nats.Conn, subject string, body []byte, idPrefix string, window int, d time.Duration) (AsyncResult, error) {
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(window),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		return AsyncResult{}, fmt.Errorf("jsprobe.Async: %w", err)
	}
	start := time.Now()
	var sent int64
	for seq := uint64(1); time.Since(start) < d && ctx.Err() == nil; seq++ {
		if _, err := js.PublishAsync(subject, body, jetstream.WithMsgID(idPrefix+strconv.FormatUint(seq, 10))); err != nil {
			failed.Add(1) // stalled beyond the window's wait: not sent
			continue
		}
		sent++
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		return AsyncResult{}, fmt.Errorf("jsprobe.Async: %d acks still missing after 30s", js.PublishAsyncPending())
	case <-ctx.Done():
		return AsyncResult{}, ctx.Err()
	}
	elapsed := time.Since(start)
	f := failed.Load()
	return AsyncResult{Acked: max(sent-f, 0), Failed: f, Elapsed: elapsed}, nil
}

// Consume reads n messages of subject from the start of stream with a
// durable pull consumer (explicit acks, up to maxAckPending unacknowledged,
// Consume's default prefetch) that acknowledges each one, and returns how
// long that took. The consumer is deleted afterwards.
func Consume(ctx context.Context, js jetstream.JetStream, stream, subject string, n int64, maxAckPending int) (time.Duration, error) {
	const durable = "bench-consume"
	_ = js.DeleteConsumer(ctx, stream, durable) // left over by an interrupted run
	cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: durable, FilterSubject: subject, DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxDeliver: 5, MaxAckPending: maxAckPending,
	})
	if err != nil {
		return 0, fmt.Errorf("jsprobe.Consume: %w", err)
	}
	defer func() { _ = js.DeleteConsumer(context.WithoutCancel(ctx), stream, durable) }()
	var got atomic.Int64
	done := make(chan struct{})
	start := time.Now()
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		if got.Add(1) == n {
			close(done)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("jsprobe.Consume: %w", err)
	}
	defer cc.Stop()
	select {
	case <-done:
		return time.Since(start), nil
	case <-time.After(60 * time.Second):
		return 0, fmt.Errorf("jsprobe.Consume: %d of %d messages after 60s", got.Load(), n)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
