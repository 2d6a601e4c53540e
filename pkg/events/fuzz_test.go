package events_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/testdata"
)

// fixtureMessages encodes the shared webhook fixtures the way the gateway
// does, so the fuzzer starts from the messages the bus really carries.
func fixtureMessages(f *testing.F) []*nats.Msg {
	f.Helper()
	cat := events.Default()
	var out []*nats.Msg
	add := func(ev events.Event) {
		m, err := events.Encode(events.DefaultNamespace, ev)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, m)
	}
	cp, err := consolehook.NewParser(cat, 1<<10)
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range testdata.ConsoleEventNames() {
		ev, err := cp.Parse(testdata.Console(name), consolehook.Meta{Route: "/console/events", ReceivedAt: time.Unix(1718611200, 0)})
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		add(ev)
	}
	op, err := oktahook.NewParser(1 << 10)
	if err != nil {
		f.Fatal(err)
	}
	routing := oktahook.Routing{DeactivateDeletes: true, Forward: []string{"*"}}
	for _, name := range []string{"event-hook.user-lifecycle-deactivate", "event-hook.group-user-membership-add", "event-hook.okta-docs-user-session-start"} {
		d, err := op.ParseEventHook(testdata.Okta(name))
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		for i := range d.Events {
			t, ok := routing.Route(cat, d.Events[i].EventType)
			if !ok {
				f.Fatalf("%s: %s not routed", name, d.Events[i].EventType)
			}
			ev, err := oktahook.Event(t, &d.Events[i], oktahook.Meta{Channel: oktahook.ChannelEventHook, Source: d.Source}, 1<<10)
			if err != nil {
				f.Fatalf("%s: %v", name, err)
			}
			add(ev)
		}
	}
	return out
}

// FuzzDecode feeds (*Catalog).Decode arbitrary subjects, attributes and data.
// Whatever a publisher sends, a consumer must not panic, must classify the
// failure as ErrInvalid (so it is dead-lettered, not retried), and anything it
// accepts must survive idsync's own re-encoding (DLQ copies, event log)
// unchanged.
func FuzzDecode(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, m := range fixtureMessages(f) {
		rel, _ := events.DefaultNamespace.Relative(m.Subject)
		h := m.Header
		f.Add(rel, h.Get(events.HeaderType), h.Get(events.HeaderID), h.Get(events.HeaderSpecVersion),
			h.Get(events.HeaderContentType), h.Get(events.HeaderTime), m.Data)
	}
	const ns = events.DefaultNamespace
	cat := events.Default()
	f.Fuzz(func(t *testing.T, subjectSuffix, ceType, ceID, specVersion, contentType, ceTime string, data []byte) {
		h := nats.Header{}
		for k, v := range map[string]string{
			events.HeaderType: ceType, events.HeaderID: ceID, events.HeaderSpecVersion: specVersion,
			events.HeaderContentType: contentType, events.HeaderTime: ceTime,
			events.HeaderSource: "urn:fuzz", events.HeaderSubject: "subject-1",
		} {
			if v != "" {
				h.Set(k, v)
			}
		}
		ev, err := cat.Decode(ns, string(ns)+"."+subjectSuffix, h, data)
		if err != nil {
			if !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if ev.Payload == nil {
			t.Fatal("success without a payload")
		}
		if got, want := ev.Payload.ProtoReflect().Descriptor(), ev.Type.Payload.Descriptor(); got != want {
			t.Fatalf("%s carries %s, want %s", ev.Type.Name, got.FullName(), want.FullName())
		}
		m, err := events.Encode(ns, ev)
		if err != nil {
			t.Fatalf("decoded event does not encode: %v", err)
		}
		back, err := cat.Decode(ns, m.Subject, m.Header, m.Data)
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v\nheaders %v\ndata %s", err, m.Header, m.Data)
		}
		if back.ID != ev.ID || back.Type != ev.Type || back.Subject != ev.Subject || back.Source != ev.Source || !back.Time.Equal(ev.Time) {
			t.Fatalf("attributes changed:\n%+v\n%+v", ev, back)
		}
		if !proto.Equal(back.Payload, ev.Payload) {
			t.Fatalf("payload changed:\n%v\n%v", ev.Payload, back.Payload)
		}
	})
}
