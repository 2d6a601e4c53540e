package ledger

import (
	"slices"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
)

// msg is a stored message with its event id and Nats-Msg-Id.
func msg(seq uint64, id, msgID string) Msg {
	h := nats.Header{}
	h.Set(events.HeaderID, id)
	h.Set(nats.MsgIdHdr, msgID)
	return Msg{Seq: seq, Subject: "idsync.events.okta.delete.user", Header: h}
}

// TestCheckEvents checks the check: a lost, a doubled and a foreign event
// are each caught; replays are counted apart.
func TestCheckEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		stored                     []Msg
		acked, sent                []string
		missing, duplicates, alien []string
		replays                    int
	}{
		{name: "each acked event once", stored: []Msg{msg(1, "a", "a"), msg(2, "b", "b")}, acked: []string{"a", "b"}, sent: []string{"a", "b"}},
		{name: "acked but lost", stored: []Msg{msg(1, "a", "a")}, acked: []string{"a", "b"}, sent: []string{"a", "b"}, missing: []string{"b"}},
		{name: "stored twice", stored: []Msg{msg(1, "a", "a"), msg(2, "a", "a")}, acked: []string{"a"}, sent: []string{"a"}, duplicates: []string{"a"}},
		{name: "never sent", stored: []Msg{msg(1, "a", "a"), msg(2, "x", "x")}, acked: []string{"a"}, sent: []string{"a"}, alien: []string{"x"}},
		{name: "a replay is not a duplicate", stored: []Msg{msg(1, "a", "a"), msg(2, "a", "replay:IDSYNC_DLQ:7:1")}, acked: []string{"a"}, sent: []string{"a"}, replays: 1},
		{name: "refused and never acked is fine", stored: nil, acked: nil, sent: []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := CheckEvents(tc.stored, tc.acked, tc.sent)
			if !slices.Equal(r.Missing, tc.missing) || !slices.Equal(r.Duplicates, tc.duplicates) || !slices.Equal(r.Unsent, tc.alien) || r.Replays != tc.replays {
				t.Errorf("got missing %v duplicates %v unsent %v replays %d", r.Missing, r.Duplicates, r.Unsent, r.Replays)
			}
			if r.OK() != (len(tc.missing)+len(tc.duplicates)+len(tc.alien) == 0) {
				t.Errorf("OK() = %v", r.OK())
			}
		})
	}
}

// TestCheckEventLog: a missing record and a record stored twice are caught.
func TestCheckEventLog(t *testing.T) {
	t.Parallel()
	r := CheckEventLog(map[string]int{"a": 1, "b": 2}, []string{"a", "b", "c"})
	if !slices.Equal(r.Missing, []string{"c"}) || !slices.Equal(r.Duplicates, []string{"b ×2"}) || r.Rows != 3 || r.OK() {
		t.Errorf("got %+v", r)
	}
	if r := CheckEventLog(map[string]int{"a": 1}, []string{"a"}); !r.OK() {
		t.Errorf("one row for one record: %+v", r)
	}
}

// TestCheckDeadLetters: a letter without its reason is unexplained.
func TestCheckDeadLetters(t *testing.T) {
	t.Parallel()
	good := msg(1, "a", "dlq:gitlab-sync:IDSYNC_EVENTS:1")
	good.Header.Set(bus.HeaderDLQConsumer, "gitlab-sync")
	good.Header.Set(bus.HeaderDLQClass, "retryable")
	good.Header.Set(bus.HeaderDLQReason, "gave up after 5 deliveries: 503")
	bad := msg(2, "b", "dlq:gitlab-sync:IDSYNC_EVENTS:2")
	bad.Header.Set(bus.HeaderDLQConsumer, "gitlab-sync")
	bad.Header.Set(bus.HeaderDLQClass, "retryable")
	r := CheckDeadLetters([]Msg{good, bad})
	if r.Stored != 2 || r.ByConsumer["gitlab-sync/retryable"] != 2 || len(r.Unexplained) != 1 {
		t.Errorf("got %+v", r)
	}
}
