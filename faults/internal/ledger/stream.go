// Package ledger checks what the fault suite's invariants are about, from
// the records themselves: the streams (read directly), the provider fakes'
// state and request logs, and the event log's rows. Every request answered
// 2xx has its event stored once; every event has its effect at every
// provider it should, once; nothing is dropped without a dead letter that
// says why.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Msg is one stored message.
type Msg struct {
	Seq     uint64
	Subject string
	Header  nats.Header
	Data    []byte
}

// ReadStream returns every message of the stream, oldest first, read with
// an ordered consumer (nothing durable is left behind). A read that fails
// (a cluster electing a leader answers "no responders" for a while) is
// started again until ctx ends.
func ReadStream(ctx context.Context, js jetstream.JetStream, name string) ([]Msg, error) {
	for {
		msgs, err := readStream(ctx, js, name)
		if err == nil || ctx.Err() != nil {
			return msgs, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func readStream(ctx context.Context, js jetstream.JetStream, name string) ([]Msg, error) {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("ledger: stream %s: %w", name, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: stream %s: %w", name, err)
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	last := info.State.LastSeq
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("ledger: reading %s: %w", name, err)
	}
	var out []Msg
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("ledger: reading %s: %w", name, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			out = append(out, Msg{Seq: meta.Sequence.Stream, Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
			if meta.Sequence.Stream >= last {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("ledger: reading %s: %w", name, err)
		}
		if n == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if n == 0 {
			// Nothing more to read (messages at the end were deleted).
			return out, nil
		}
	}
}
