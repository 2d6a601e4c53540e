// Package dlq reads and replays the dead-letter stream: copies of events a
// consumer gave up on, with headers saying which consumer, why, and where
// the event came from. Replaying publishes the event back to its original
// subject (with a fresh Nats-Msg-Id, since the original id may still be in
// the duplicate window) and deletes the dead letter.
package dlq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
)

// Letter is one dead letter.
type Letter struct {
	Seq        uint64    `json:"seq"`
	Consumer   string    `json:"consumer"`
	Subject    string    `json:"subject"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	Class      string    `json:"class"`
	Reason     string    `json:"reason"`
	Deliveries int       `json:"deliveries"`
	At         time.Time `json:"at"`
	// Data and Header are the event as it was.
	Data   []byte      `json:"-"`
	Header nats.Header `json:"-"`
}

// Filter selects dead letters; zero fields match everything.
type Filter struct {
	Consumer string
	// EventType, or a subject prefix of the original subject.
	EventType string
	Class     string
	// Reason matches a substring of the reason.
	Reason string
	Since  time.Time
	Seq    uint64
}

func (f Filter) match(l Letter) bool {
	return (f.Consumer == "" || l.Consumer == f.Consumer) &&
		(f.EventType == "" || l.EventType == f.EventType) &&
		(f.Class == "" || l.Class == f.Class) &&
		(f.Reason == "" || strings.Contains(l.Reason, f.Reason)) &&
		(f.Since.IsZero() || !l.At.Before(f.Since)) &&
		(f.Seq == 0 || l.Seq == f.Seq)
}

// Store reads and writes the dead-letter stream of a namespace.
type Store struct {
	js jetstream.JetStream
	ns events.Namespace
}

// New returns the store of ns.
func New(js jetstream.JetStream, ns events.Namespace) *Store { return &Store{js: js, ns: ns} }

func (s *Store) stream(ctx context.Context) (jetstream.Stream, error) {
	st, err := s.js.Stream(ctx, s.ns.Stream(bus.StreamDLQ))
	if err != nil {
		return nil, fmt.Errorf("dlq: %w", err)
	}
	return st, nil
}

// List returns the dead letters matching f, oldest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Letter, error) {
	st, err := s.stream(ctx)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("dlq: %w", err)
	}
	var out []Letter
	if info.State.Msgs == 0 {
		return nil, nil
	}
	first := info.State.FirstSeq
	if f.Seq != 0 {
		first = f.Seq
	}
	for seq := first; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("dlq: reading %d: %w", seq, err)
		}
		l := letterOf(m)
		if f.match(l) {
			out = append(out, l)
		}
		if f.Seq != 0 {
			break
		}
	}
	return out, nil
}

func letterOf(m *jetstream.RawStreamMsg) Letter {
	h := m.Header
	// Unreadable is 0: Atoi returns the int limit, with an error, for a
	// number out of range.
	n, err := strconv.Atoi(h.Get(bus.HeaderDLQDelivered))
	if err != nil {
		n = 0
	}
	at, _ := time.Parse(time.RFC3339Nano, h.Get(bus.HeaderDLQTime))
	if at.IsZero() {
		at = m.Time
	}
	return Letter{
		Seq: m.Sequence, Consumer: h.Get(bus.HeaderDLQConsumer), Subject: h.Get(bus.HeaderDLQSubject),
		EventID: h.Get(events.HeaderID), EventType: h.Get(events.HeaderType),
		Class: h.Get(bus.HeaderDLQClass), Reason: h.Get(bus.HeaderDLQReason), Deliveries: n, At: at,
		Data: m.Data, Header: h,
	}
}

// Replay publishes every dead letter matching f back to its original
// subject and deletes it; it returns how many were replayed. A letter whose
// original subject is not in the namespace's events stream is refused.
func (s *Store) Replay(ctx context.Context, f Filter) (int, error) {
	letters, err := s.List(ctx, f)
	if err != nil {
		return 0, err
	}
	st, err := s.stream(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range letters {
		if _, ok := s.ns.Relative(l.Subject); !ok || !strings.HasPrefix(l.Subject, string(s.ns)+".events.") {
			return n, fmt.Errorf("dlq: letter %d came from %q, not an event subject of %s", l.Seq, l.Subject, s.ns)
		}
		m := nats.NewMsg(l.Subject)
		m.Data = l.Data
		for k, vs := range l.Header {
			if strings.HasPrefix(k, "Idsync-Dlq-") || k == nats.MsgIdHdr {
				continue
			}
			m.Header[k] = vs
		}
		// A fresh id: the original may still be inside the duplicate window.
		m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("replay:%s:%d:%d", s.ns.Stream(bus.StreamDLQ), l.Seq, time.Now().UnixNano()))
		if _, err := s.js.PublishMsg(ctx, m, jetstream.WithExpectStream(s.ns.Stream(bus.StreamEvents))); err != nil {
			return n, fmt.Errorf("dlq: replaying %d: %w", l.Seq, err)
		}
		if err := st.DeleteMsg(ctx, l.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, fmt.Errorf("dlq: replayed %d but could not delete it (it will be replayed again, deduplicated by the consumer's idempotence): %w", l.Seq, err)
		}
		n++
	}
	return n, nil
}

// Purge deletes the dead letters matching f; it returns how many.
func (s *Store) Purge(ctx context.Context, f Filter) (int, error) {
	st, err := s.stream(ctx)
	if err != nil {
		return 0, err
	}
	if f == (Filter{}) {
		info, err := st.Info(ctx)
		if err != nil {
			return 0, err
		}
		if err := st.Purge(ctx); err != nil {
			return 0, fmt.Errorf("dlq: %w", err)
		}
		return int(info.State.Msgs), nil
	}
	letters, err := s.List(ctx, f)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range letters {
		if err := st.DeleteMsg(ctx, l.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, fmt.Errorf("dlq: deleting %d: %w", l.Seq, err)
		}
		n++
	}
	return n, nil
}
