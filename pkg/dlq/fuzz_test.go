package dlq

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
)

// FuzzLetter: whatever headers a message on the dead-letter stream carries
// (anyone allowed to publish there can write them), letterOf reads each
// field from its header or leaves it empty, falls back to the stored time
// when the DLQ time is unreadable, keeps the event as it was, and the letter
// matches a filter made of its own fields.
func FuzzLetter(f *testing.F) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.Add("Idsync-Dlq-Consumer: github-sync\r\nIdsync-Dlq-Reason: github says 422\r\nIdsync-Dlq-Class: permanent\r\nIdsync-Dlq-Deliveries: 15\r\nIdsync-Dlq-Time: "+at.Format(time.RFC3339Nano)+"\r\nce-id: evt-1\r\nce-type: okta.delete.user\r\n", []byte(`{}`), uint64(7))
	f.Add("Idsync-Dlq-Deliveries: -3\r\nIdsync-Dlq-Time: 10000-01-01T00:00:00Z\r\n", []byte(nil), uint64(0))
	f.Add("Idsync-Dlq-Deliveries: 99999999999999999999\r\nIdsync-Dlq-Time: 0001-01-01T00:00:00Z\r\n", []byte("\xff"), uint64(1))
	f.Fuzz(func(t *testing.T, header string, data []byte, seq uint64) {
		// NATS header names keep their case, as the consumer wrote them.
		mh := nats.Header{}
		for line := range strings.SplitSeq(header, "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k != "" {
				mh.Add(k, strings.TrimSpace(v))
			}
		}
		stored := at.Add(time.Duration(seq%1000) * time.Second)
		m := &jetstream.RawStreamMsg{Subject: "idsync.dlq.x", Sequence: seq, Header: mh, Data: data, Time: stored}
		l := letterOf(m)
		h := m.Header
		if l.Seq != seq || string(l.Data) != string(data) || l.Consumer != h.Get(bus.HeaderDLQConsumer) || l.Reason != h.Get(bus.HeaderDLQReason) ||
			l.Class != h.Get(bus.HeaderDLQClass) || l.Subject != h.Get(bus.HeaderDLQSubject) || l.EventID != h.Get(events.HeaderID) || l.EventType != h.Get(events.HeaderType) {
			t.Fatalf("letter %+v from headers %q", l, mh)
		}
		if n, err := strconv.Atoi(h.Get(bus.HeaderDLQDelivered)); (err == nil && l.Deliveries != n) || (err != nil && l.Deliveries != 0) {
			t.Fatalf("deliveries %d from %q", l.Deliveries, h.Get(bus.HeaderDLQDelivered))
		}
		if ts, err := time.Parse(time.RFC3339Nano, h.Get(bus.HeaderDLQTime)); err == nil && !ts.IsZero() {
			if !l.At.Equal(ts) {
				t.Fatalf("at %v, want the DLQ time %v", l.At, ts)
			}
		} else if !l.At.Equal(stored) {
			t.Fatalf("at %v, want the stored time %v", l.At, stored)
		}
		self := Filter{Consumer: l.Consumer, EventType: l.EventType, Class: l.Class, Reason: l.Reason, Since: l.At, Seq: l.Seq}
		if !self.match(l) {
			t.Fatalf("letter %+v does not match its own filter", l)
		}
		if (Filter{}).match(l) != true {
			t.Fatal("the empty filter does not match")
		}
	})
}
