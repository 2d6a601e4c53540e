package events_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/events"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

func mustType(t *testing.T, name string) *events.Type {
	t.Helper()
	ty, ok := events.Default().Lookup(name)
	if !ok {
		t.Fatalf("type %s missing from the catalog", name)
	}
	return ty
}

var when = time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// sampleEvents has one event of each kind the bus carries.
func sampleEvents(t *testing.T) map[string]events.Event {
	t.Helper()
	origin := &eventsv1.Origin{Channel: "okta.event_hook", DeliveryId: "d1", ReceivedAt: timestamppb.New(when), Raw: []byte(`{"x":1}`)}
	return map[string]events.Event{
		"sync": {
			ID: "ab62c0bc-2837-11eb-9823-9fb8f750c5a9", Type: mustType(t, events.OktaDeleteUser),
			Source: "https://example.okta.com/api/v1/eventHooks/who7", Subject: "00u3m90rxKjGQ0G6L1d6", Time: when,
			Payload: &eventsv1.OktaUserLifecycle{
				Uuid: "ab62c0bc-2837-11eb-9823-9fb8f750c5a9", EventType: events.OktaUserDeleteInitiated,
				Published: timestamppb.New(when), User: &eventsv1.OktaUser{Id: "00u3m90rxKjGQ0G6L1d6", Login: "john.doe@example.com"},
				Origin: origin,
			},
		},
		"console passthrough": {
			ID: "console-0123", Type: mustType(t, "console.tag_created"), Source: "urn:mia-platform:console:my-company-id",
			Subject: "0000000000000001", Time: when,
			Payload: &eventsv1.ConsoleTagCreated{
				EventTimestampMs: when.UnixMilli(), TenantId: "my-company-id", ProjectId: "0000000000000001", TagName: "v1.0.0",
				Project: &eventsv1.ConsoleProject{Id: "p", Environments: []*eventsv1.ConsoleEnvironment{{EnvId: "DEV", IsProduction: true}}},
			},
		},
		"okta passthrough": {
			ID: "f1d0b993-cc19-11ed-a688-db22c99ef6c4", Type: mustType(t, "okta.user.session.start"), Source: "urn:okta",
			Payload: &eventsv1.OktaLogEvent{
				Uuid: "f1d0b993-cc19-11ed-a688-db22c99ef6c4", EventType: "user.session.start", Published: timestamppb.New(when),
				Targets: []*eventsv1.OktaTarget{{Id: "a", Type: "AppInstance"}, {Id: "b"}},
			},
		},
		"outcome": {
			ID: "outcome-1", Type: mustType(t, "outcome.gitlab.okta.delete.user"), Source: "urn:idsync:gitlab-sync",
			Subject: "00u3m90rxKjGQ0G6L1d6", Time: when,
			Payload: &eventsv1.Outcome{
				Provider: events.ProviderGitLab, EventId: "ab62", Result: eventsv1.OutcomeResult_OUTCOME_RESULT_REVOKED,
				Action: "user.block", DryRun: true, Time: timestamppb.New(when),
			},
		},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	for name, ev := range sampleEvents(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := events.Namespace("t0a1")
			m, err := events.Encode(ns, ev)
			if err != nil {
				t.Fatal(err)
			}
			if want := "t0a1." + ev.Type.Subject; m.Subject != want {
				t.Errorf("subject = %q, want %q", m.Subject, want)
			}
			// Nats-Msg-Id is the dedupe key: it must be the event id.
			if got := m.Header.Get(events.HeaderMsgID); got != ev.ID {
				t.Errorf("Nats-Msg-Id = %q, want %q", got, ev.ID)
			}
			if got := m.Header.Get(events.HeaderContentType); got != events.ContentTypeJSON {
				t.Errorf("content-type = %q", got)
			}
			got, err := events.Default().Decode(ns, m.Subject, m.Header, m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != ev.ID || got.Type != ev.Type || got.Source != ev.Source || got.Subject != ev.Subject || !got.Time.Equal(ev.Time) {
				t.Errorf("attributes = %+v, want %+v", got, ev)
			}
			if !proto.Equal(got.Payload, ev.Payload) {
				t.Errorf("payload = %v, want %v", got.Payload, ev.Payload)
			}
		})
	}
}

func TestEncodeRefusesIncompleteEvents(t *testing.T) {
	t.Parallel()
	good := sampleEvents(t)["sync"]
	tests := map[string]func(*events.Event){
		"no type":       func(e *events.Event) { e.Type = nil },
		"no id":         func(e *events.Event) { e.ID = "" },
		"no payload":    func(e *events.Event) { e.Payload = nil },
		"wrong payload": func(e *events.Event) { e.Payload = &eventsv1.Outcome{} },
		"year 10000":    func(e *events.Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year -1":       func(e *events.Event) { e.Time = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
		// What a header cannot carry unchanged, from any publisher.
		"id of blanks":                func(e *events.Event) { e.ID = "   " },
		"id with CRLF":                func(e *events.Event) { e.ID = "x\r\nNats-Msg-Id: y" },
		"subject with NUL":            func(e *events.Event) { e.Subject = "00u\x00" },
		"subject with trailing blank": func(e *events.Event) { e.Subject = "00u1 " },
		"source with tab":             func(e *events.Event) { e.Source = "https://example.okta.com\t" },
		"source with DEL":             func(e *events.Event) { e.Source = "urn:okta\x7f" },
	}
	for name, mutate := range tests {
		ev := good
		mutate(&ev)
		if _, err := events.Encode(events.DefaultNamespace, ev); err == nil {
			t.Errorf("%s: Encode accepted it", name)
		}
	}
}

func TestCheckAttributesNamesTheAttributeNotItsValue(t *testing.T) {
	t.Parallel()
	good := sampleEvents(t)["sync"]
	tests := []struct {
		name, attribute string
		mutate          func(*events.Event)
	}{
		{"a valid event", "", func(*events.Event) {}},
		{"an empty subject is allowed", "", func(e *events.Event) { e.Subject = "" }},
		{"inner blanks are allowed", "", func(e *events.Event) { e.Subject = "Jane Doe" }},
		{"non-ASCII is allowed", "", func(e *events.Event) { e.Subject = "ünal" }},
		{"CR in the id", "id", func(e *events.Event) { e.ID = "secret\rvalue" }},
		{"LF in the subject", "subject", func(e *events.Event) { e.Subject = "secret\nvalue" }},
		{"leading blank in the source", "source", func(e *events.Event) { e.Source = " secret" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := good
			tc.mutate(&ev)
			err := events.CheckAttributes(ev)
			var ae *events.AttributeError
			switch {
			case tc.attribute == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.attribute != "" && (!errors.As(err, &ae) || ae.Name != tc.attribute):
				t.Fatalf("err = %v, want an AttributeError for %s", err, tc.attribute)
			case err != nil && strings.Contains(err.Error(), "secret"):
				t.Fatalf("the error shows the value: %v", err)
			}
		})
	}
}

// validMsg is a well-formed okta.delete.user message to break one piece at a time.
func validMsg(t *testing.T) *nats.Msg {
	t.Helper()
	m, err := events.Encode(events.DefaultNamespace, sampleEvents(t)["sync"])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(m *nats.Msg)
		wantMsg string
	}{
		{"subject outside the namespace", func(m *nats.Msg) { m.Subject = "other.events.okta.delete.user" }, "outside namespace"},
		{"subject of a prefix namespace", func(m *nats.Msg) { m.Subject = "idsyncx.events.okta.delete.user" }, "outside namespace"},
		{"subject not in the catalog", func(m *nats.Msg) { m.Subject = "idsync.events.okta.nope" }, "not in the catalog"},
		{"ce-type not matching the subject", func(m *nats.Msg) { m.Header.Set(events.HeaderType, events.OktaCreateUser) }, "does not match"},
		{"missing ce-id", func(m *nats.Msg) { m.Header.Del(events.HeaderID) }, "ce-id"},
		{"missing specversion", func(m *nats.Msg) { m.Header.Del(events.HeaderSpecVersion) }, "ce-specversion"},
		{"wrong specversion", func(m *nats.Msg) { m.Header.Set(events.HeaderSpecVersion, "0.3") }, "ce-specversion"},
		{"bad ce-time", func(m *nats.Msg) { m.Header.Set(events.HeaderTime, "yesterday") }, "ce-time"},
		{"ce-time without zone", func(m *nats.Msg) { m.Header.Set(events.HeaderTime, "2026-03-04T05:06:07") }, "ce-time"},
		// time.Format would write these in UTC as -0001-… and 10000-…,
		// which no consumer could read back: refuse them on the way in.
		{"ce-time before year 0 in UTC", func(m *nats.Msg) { m.Header.Set(events.HeaderTime, "0000-01-01T00:00:00+01:00") }, "ce-time"},
		{"ce-time after year 9999 in UTC", func(m *nats.Msg) { m.Header.Set(events.HeaderTime, "9999-12-31T23:30:00-01:00") }, "ce-time"},
		{"unknown content-type", func(m *nats.Msg) { m.Header.Set(events.HeaderContentType, "text/plain") }, "content-type"},
		{"unparsable content-type", func(m *nats.Msg) { m.Header.Set(events.HeaderContentType, "application/json;;=") }, "content-type"},
		{"malformed JSON data", func(m *nats.Msg) { m.Data = []byte(`{"uuid":`) }, "data"},
		{"JSON of the wrong shape", func(m *nats.Msg) { m.Data = []byte(`{"uuid": 42}`) }, "data"},
		{"JSON array", func(m *nats.Msg) { m.Data = []byte(`[]`) }, "data"},
		{"malformed protobuf data", func(m *nats.Msg) {
			m.Header.Set(events.HeaderContentType, events.ContentTypeProto)
			m.Data = []byte{0x0a, 0xff}
		}, "data"},
		// Valid protobuf, but a Timestamp the JSON mapping cannot write.
		{"protobuf timestamp out of range", func(m *nats.Msg) {
			m.Header.Set(events.HeaderContentType, events.ContentTypeProto)
			m.Data, _ = proto.Marshal(&eventsv1.OktaUserLifecycle{Published: &timestamppb.Timestamp{Seconds: 1 << 50}})
		}, "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := validMsg(t)
			tt.mutate(m)
			_, err := events.Default().Decode(events.DefaultNamespace, m.Subject, m.Header, m.Data)
			if !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("err = %v, want one wrapping ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	t.Parallel()
	ev := sampleEvents(t)["sync"]
	binary, err := proto.Marshal(ev.Payload)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(m *nats.Msg)
	}{
		{"as encoded", func(*nats.Msg) {}},
		// Other systems may publish binary protobuf (README, "The bus").
		{"application/protobuf", func(m *nats.Msg) {
			m.Header.Set(events.HeaderContentType, events.ContentTypeProto)
			m.Data = binary
		}},
		{"application/x-protobuf", func(m *nats.Msg) {
			m.Header.Set(events.HeaderContentType, "application/x-protobuf")
			m.Data = binary
		}},
		// Fields from a newer publisher are dropped, as in JSON, so the
		// event equals its re-encoding.
		{"unknown protobuf fields", func(m *nats.Msg) {
			m.Header.Set(events.HeaderContentType, events.ContentTypeProto)
			m.Data = append(append([]byte(nil), binary...), 0xf8, 0x06, 0x01) // field 111, varint 1
		}},
		{"JSON with parameters", func(m *nats.Msg) { m.Header.Set(events.HeaderContentType, "application/json; charset=utf-8") }},
		{"no content-type means JSON", func(m *nats.Msg) { m.Header.Del(events.HeaderContentType) }},
		{"no ce-type: the subject decides", func(m *nats.Msg) { m.Header.Del(events.HeaderType) }},
		// Publishers in other languages add fields before we know them.
		{"unknown JSON members", func(m *nats.Msg) {
			m.Data = []byte(strings.Replace(string(m.Data), "{", `{"addedLater":{"x":[1]},`, 1))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := validMsg(t)
			tt.mutate(m)
			got, err := events.Default().Decode(events.DefaultNamespace, m.Subject, m.Header, m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != ev.ID || got.Type != ev.Type || !proto.Equal(got.Payload, ev.Payload) {
				t.Errorf("decoded %+v, want %+v", got, ev)
			}
		})
	}
}
