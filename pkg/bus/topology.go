package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// Stream base names (design §4); the namespace prefixes them (IDSYNC_EVENTS).
const (
	StreamEvents   = "EVENTS"
	StreamOutcomes = "OUTCOMES"
	StreamDLQ      = "DLQ"
)

// StreamConfig sets the limits of the three streams. Retention is by limits:
// every consumer reads independently and the streams can be replayed.
type StreamConfig struct {
	Replicas int             `env:"IDSYNC_STREAM_REPLICAS" default:"1" help:"stream replicas: 1 embedded or single server, 3 on a cluster"`
	MaxAge   time.Duration   `env:"IDSYNC_STREAM_MAX_AGE" default:"720h" help:"how long events and outcomes are kept"`
	MaxBytes config.ByteSize `env:"IDSYNC_STREAM_MAX_BYTES" default:"1GiB" help:"size limit of each stream; when full, new events are refused (503) rather than old ones dropped; 0 = no limit"`
	// Duplicates must exceed the longest span over which a source re-sends a
	// delivery (Okta retries once; operators replay after outages).
	Duplicates time.Duration `env:"IDSYNC_STREAM_DUPLICATE_WINDOW" default:"24h" help:"window in which a re-sent event id is recognised and stored once"`
	DLQMaxAge  time.Duration `env:"IDSYNC_DLQ_MAX_AGE" default:"2160h" help:"how long dead letters are kept"`
}

// Validate reports every problem, one error each.
func (c StreamConfig) Validate() error {
	var errs []error
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("IDSYNC_STREAM_REPLICAS: %d, want 1 to 5", c.Replicas))
	}
	if c.MaxAge < time.Hour {
		errs = append(errs, fmt.Errorf("IDSYNC_STREAM_MAX_AGE: %s, want at least 1h", c.MaxAge))
	}
	if c.MaxBytes != 0 && c.MaxBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("IDSYNC_STREAM_MAX_BYTES: %s, want at least 1MiB (or 0 for no limit)", c.MaxBytes))
	}
	if c.Duplicates < time.Minute {
		errs = append(errs, fmt.Errorf("IDSYNC_STREAM_DUPLICATE_WINDOW: %s, want at least 1m", c.Duplicates))
	}
	if c.Duplicates > c.MaxAge {
		errs = append(errs, fmt.Errorf("IDSYNC_STREAM_DUPLICATE_WINDOW: %s is longer than IDSYNC_STREAM_MAX_AGE %s", c.Duplicates, c.MaxAge))
	}
	if c.DLQMaxAge < time.Hour {
		errs = append(errs, fmt.Errorf("IDSYNC_DLQ_MAX_AGE: %s, want at least 1h", c.DLQMaxAge))
	}
	return errors.Join(errs...)
}

// Streams returns the JetStream configuration of the three streams.
func Streams(ns events.Namespace, c StreamConfig) []jetstream.StreamConfig {
	maxBytes := int64(c.MaxBytes)
	if maxBytes == 0 {
		maxBytes = -1
	}
	mk := func(base, subject, desc string, maxAge time.Duration) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name:        ns.Stream(base),
			Description: desc,
			Subjects:    []string{subject},
			Storage:     jetstream.FileStorage,
			Replicas:    c.Replicas,
			Retention:   jetstream.LimitsPolicy,
			// Refuse rather than silently drop: the gateway turns a full
			// stream into 503 and the source retries.
			Discard:    jetstream.DiscardNew,
			MaxAge:     maxAge,
			MaxBytes:   maxBytes,
			MaxMsgs:    -1,
			Duplicates: c.Duplicates,
			// Direct gets let the DLQ tooling read a message by sequence.
			AllowDirect: true,
		}
	}
	return []jetstream.StreamConfig{
		mk(StreamEvents, ns.Events(), "idsync identity events (gateway and internal publishers)", c.MaxAge),
		mk(StreamOutcomes, ns.Outcomes(), "idsync sync outcomes (one per consumer decision)", c.MaxAge),
		mk(StreamDLQ, ns.DLQ(), "idsync dead letters (copies of events a consumer gave up on, with reason headers)", c.DLQMaxAge),
	}
}

// EnsureStreams creates the streams or updates them to cfg, idempotently.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, ns events.Namespace, c StreamConfig) error {
	for _, sc := range Streams(ns, c) {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("bus.EnsureStreams %s: %w", sc.Name, err)
		}
	}
	return nil
}

// WaitStreams creates or updates the streams, retrying with backoff while
// NATS is not reachable yet (a service may start before its NATS cluster);
// it returns ctx's error if ctx ends first.
func WaitStreams(ctx context.Context, conn *Conn, ns events.Namespace, c StreamConfig, log *slog.Logger) error {
	for delay := 250 * time.Millisecond; ; delay = min(delay*2, 10*time.Second) {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := EnsureStreams(tctx, conn.JS, ns, c)
		cancel()
		if err == nil {
			log.Info("streams ready", "events", ns.Stream(StreamEvents))
			return nil
		}
		log.Warn("creating streams failed; retrying", logging.Err(err), "retry_in", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// StreamsPresent reports whether all three streams exist (for readiness).
func StreamsPresent(ctx context.Context, js jetstream.JetStream, ns events.Namespace) error {
	for _, base := range []string{StreamEvents, StreamOutcomes, StreamDLQ} {
		if _, err := js.Stream(ctx, ns.Stream(base)); err != nil {
			return fmt.Errorf("stream %s: %w", ns.Stream(base), err)
		}
	}
	return nil
}

// ConsumerSpec is one durable consumer: its name, stream and filters.
type ConsumerSpec struct {
	// Durable is the consumer name shared by all replicas of a service.
	Durable string
	// Stream is the base stream name (StreamEvents, …).
	Stream string
	// FilterSubjects are full subjects (wildcards allowed).
	FilterSubjects []string
}

// SyncConsumer returns the consumer of a provider's sync service: durable
// "<provider>-sync" on the events stream, filtered to exactly its rows of the
// rule matrix.
func SyncConsumer(ns events.Namespace, cat *events.Catalog, provider string) ConsumerSpec {
	spec := ConsumerSpec{Durable: provider + "-sync", Stream: StreamEvents}
	for _, t := range cat.SyncTypesFor(provider) {
		spec.FilterSubjects = append(spec.FilterSubjects, ns.Subject(t))
	}
	return spec
}

// consumerConfig turns a spec and runtime settings into JetStream's form.
func consumerConfig(spec ConsumerSpec, s Settings) jetstream.ConsumerConfig {
	cc := jetstream.ConsumerConfig{
		Durable:       spec.Durable,
		Description:   "idsync " + spec.Durable,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.AckWait,
		MaxDeliver:    s.MaxDeliver,
		MaxAckPending: s.MaxAckPending,
	}
	// A single filter uses the field every server version knows; several need
	// NATS 2.10 or later.
	if len(spec.FilterSubjects) == 1 {
		cc.FilterSubject = spec.FilterSubjects[0]
	} else {
		cc.FilterSubjects = spec.FilterSubjects
	}
	return cc
}

// EnsureConsumer creates the durable consumer or updates it to spec and s.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, ns events.Namespace, spec ConsumerSpec, s Settings) (jetstream.Consumer, error) {
	stream := ns.Stream(spec.Stream)
	c, err := js.CreateOrUpdateConsumer(ctx, stream, consumerConfig(spec, s))
	if err != nil {
		return nil, fmt.Errorf("bus.EnsureConsumer %s on %s: %w", spec.Durable, stream, err)
	}
	return c, nil
}
