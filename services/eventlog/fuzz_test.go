package eventlog

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	"github.com/idsync/idsync/services/eventlog/store"
)

// FuzzParseQuery: whatever the query string, ParseQuery answers either a
// query within the API's bounds or one of its documented 400 codes.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		"limit=10&offset=0&userId=ann@example.com",
		"limit=1000&offset=20&actor=admin&type=okta.delete.user&outcome=Revoked",
		"limit=5&userId=ann&cursor=MTcwMDAwMDAwMDAwMC40Mg&from=2026-01-01T00:00:00Z&to=1800000000000",
		"limit=0&offset=-1", "limit=10&userId=ann&cursor=%25", "limit=10&offset=0&userId=ann&from=9&to=8",
	} {
		f.Add(seed)
	}
	outcomes := Outcomes()
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return // the router answers 400 before the handler sees it
		}
		q, code := ParseQuery(v)
		if code != 0 {
			if ErrorStatus(code) != 400 || ErrorMessage(code) == "" {
				t.Fatalf("%q: code %d is not a documented 400 (status %d)", raw, code, ErrorStatus(code))
			}
			return
		}
		switch {
		case q.Limit < 1 || q.Limit > 1000, q.Offset < 0:
			t.Fatalf("%q: limit %d offset %d out of bounds", raw, q.Limit, q.Offset)
		case q.UserID == "" && q.Actor == "":
			t.Fatalf("%q: neither user nor actor", raw)
		case q.UserID != strings.TrimSpace(q.UserID) || q.Actor != strings.TrimSpace(q.Actor):
			t.Fatalf("%q: untrimmed user %q or actor %q", raw, q.UserID, q.Actor)
		case !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To):
			t.Fatalf("%q: empty time range %v–%v", raw, q.From, q.To)
		case q.Outcome != "" && !slices.Contains(outcomes, q.Outcome):
			t.Fatalf("%q: unknown outcome %q accepted", raw, q.Outcome)
		}
		for _, tm := range []time.Time{q.From, q.To} {
			if !tm.IsZero() && (tm.Year() < 1 || tm.Year() > 9999) {
				t.Fatalf("%q: time %v outside the years 1–9999", raw, tm)
			}
		}
		if q.After != nil {
			// A cursor the API accepts is one it could have made.
			back, ok := decodeCursor(encodeCursor(store.Record{Occurred: q.After.Occurred, Seq: q.After.Seq}))
			if !ok || !back.Occurred.Equal(q.After.Occurred) || back.Seq != q.After.Seq {
				t.Fatalf("%q: cursor %+v does not round-trip (%+v, %v)", raw, *q.After, back, ok)
			}
		}
	})
}

// fuzzMsg is a message as the ingest receives it.
type fuzzMsg struct {
	jetstream.Msg
	subject string
	header  nats.Header
	data    []byte
}

func (m fuzzMsg) Subject() string      { return m.subject }
func (m fuzzMsg) Headers() nats.Header { return m.header }
func (m fuzzMsg) Data() []byte         { return m.data }
func (m fuzzMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{Stream: "IDSYNC_EVENTS", Sequence: jetstream.SequencePair{Stream: 7}, Timestamp: time.Unix(1795434992, 0)}, nil
}

// FuzzRecord: whatever reaches the streams, the ingest makes a record of
// it that can be stored and found (it never drops a message for being
// odd, and never stores one that no query would find).
func FuzzRecord(f *testing.F) {
	ns := events.DefaultNamespace
	cat := events.Default()
	add := func(m *nats.Msg) {
		rel, _ := ns.Relative(m.Subject)
		var hdr strings.Builder
		_ = http.Header(m.Header).Write(&hdr)
		f.Add(rel, hdr.String(), m.Data)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ev := deleteUser("evt-1", "ann", at)
	m, err := events.Encode(ns, ev)
	if err != nil {
		f.Fatal(err)
	}
	add(m)
	ot, _ := cat.OutcomeType(events.ProviderGitLab, ev.Type.Name)
	om, err := events.Encode(ns, events.Event{
		ID: "outcome-1", Type: ot, Source: "urn:idsync:gitlab-sync", Subject: ev.Subject, Time: at,
		Payload: &eventsv1.Outcome{
			Provider: "gitlab", Consumer: "gitlab-sync", EventId: ev.ID, EventType: ev.Type.Name, RuleId: "offboard",
			Result: eventsv1.OutcomeResult_OUTCOME_RESULT_REVOKED, Action: "group_member.remove",
			Target: &eventsv1.OutcomeTarget{Type: "group", Name: "acme"}, Person: &eventsv1.OutcomePerson{SourceId: "00uann", Email: "ann@example.com"},
			Reason: "user deleted in Okta", Time: timestamppb.New(at),
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	add(om)
	dl := nats.NewMsg(string(ns) + ".dlq.github-sync")
	dl.Header = nats.Header(http.Header(m.Header).Clone())
	for k, v := range map[string]string{
		bus.HeaderDLQConsumer: "github-sync", bus.HeaderDLQReason: "github says 422", bus.HeaderDLQClass: "permanent",
		bus.HeaderDLQSubject: m.Subject, bus.HeaderDLQStream: "IDSYNC_EVENTS", bus.HeaderDLQStreamSeq: "7", bus.HeaderDLQTime: at.Format(time.RFC3339Nano),
	} {
		dl.Header.Set(k, v)
	}
	dl.Data = m.Data
	add(dl)
	f.Add("events.okta.delete.user", "Ce-Id: bad-1\r\nCe-Subject: 00uzed\r\n", []byte("not protobuf"))

	mp := mapper{ns: ns, cat: cat, now: func() time.Time { return at }}
	kinds := []string{store.KindEvent, store.KindOutcome, store.KindDeadLetter, store.KindAlert}
	f.Fuzz(func(t *testing.T, subjectSuffix, header string, data []byte) {
		h := nats.Header{}
		for line := range strings.SplitSeq(header, "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k != "" {
				h.Add(k, strings.TrimSpace(v))
			}
		}
		r := mp.record(fuzzMsg{subject: string(ns) + "." + subjectSuffix, header: h, data: data})
		switch {
		case r.ID == "":
			t.Fatal("a record without an id (it could not be stored idempotently)")
		case !slices.Contains(kinds, r.Kind):
			t.Fatalf("kind %q", r.Kind)
		case r.EventType == "" || r.EventName == "":
			t.Fatalf("no event type or name: %q %q", r.EventType, r.EventName)
		case r.Occurred.IsZero() || r.Received.IsZero():
			t.Fatalf("no time: occurred %v received %v", r.Occurred, r.Received)
		case len(r.Reason) > 512:
			t.Fatalf("reason of %d bytes", len(r.Reason))
		}
	})
}
