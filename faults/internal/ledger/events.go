package ledger

import (
	"slices"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/events"
)

// Events is what the events stream holds compared with what was sent.
type Events struct {
	// Stored is the number of messages in the stream; Replays those
	// published by `idsync dlq replay` (a fresh Nats-Msg-Id each).
	Stored, Replays int
	// Missing: answered 2xx, not in the stream.
	Missing []string
	// Duplicates: stored more than once under the event's own id.
	Duplicates []string
	// Unsent: stored, but no delivery carried it.
	Unsent []string
	// ids counts the messages stored under each event id.
	ids map[string]int
}

// CheckEvents compares the events stream with the event ids of the
// deliveries answered 2xx (acked) and all those sent.
func CheckEvents(msgs []Msg, acked, sent []string) Events {
	r := Events{Stored: len(msgs), ids: map[string]int{}}
	for _, m := range msgs {
		id := m.Header.Get(events.HeaderID)
		if strings.HasPrefix(m.Header.Get(nats.MsgIdHdr), "replay:") {
			r.Replays++
			continue
		}
		r.ids[id]++
	}
	isSent := map[string]bool{}
	for _, id := range sent {
		isSent[id] = true
	}
	for _, id := range acked {
		if r.ids[id] == 0 {
			r.Missing = append(r.Missing, id)
		}
	}
	for id, n := range r.ids {
		if n > 1 {
			r.Duplicates = append(r.Duplicates, id)
		}
		if !isSent[id] {
			r.Unsent = append(r.Unsent, id)
		}
	}
	slices.Sort(r.Missing)
	slices.Sort(r.Duplicates)
	slices.Sort(r.Unsent)
	return r
}

// Unique is the number of distinct events stored.
func (r Events) Unique() int { return len(r.ids) }

// OK reports whether every acknowledged event is stored exactly once and
// nothing else is.
func (r Events) OK() bool {
	return len(r.Missing) == 0 && len(r.Duplicates) == 0 && len(r.Unsent) == 0
}
