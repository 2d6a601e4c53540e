package oktahook_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/testdata"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

func newParser(t testing.TB, rawMax int) *oktahook.Parser {
	t.Helper()
	p, err := oktahook.NewParser(rawMax)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		routing  oktahook.Routing
		oktaType string
		want     string // "" = not published
	}{
		{"create", oktahook.Routing{}, events.OktaUserCreate, events.OktaCreateUser},
		{"activate", oktahook.Routing{}, events.OktaUserActivate, events.OktaCreateUser},
		{"delete initiated", oktahook.Routing{}, events.OktaUserDeleteInitiated, events.OktaDeleteUser},
		// A matrix type stays a sync event even when everything is forwarded.
		{"create with *", oktahook.Routing{Forward: []string{"*"}}, events.OktaUserCreate, events.OktaCreateUser},
		{"deactivate, default", oktahook.Routing{}, events.OktaUserDeactivate, ""},
		{"deactivate, forwarded", oktahook.Routing{Forward: []string{events.OktaUserDeactivate}}, events.OktaUserDeactivate, "okta." + events.OktaUserDeactivate},
		{"deactivate with *", oktahook.Routing{Forward: []string{"*"}}, events.OktaUserDeactivate, "okta." + events.OktaUserDeactivate},
		{"deactivate deletes", oktahook.Routing{DeactivateDeletes: true}, events.OktaUserDeactivate, events.OktaDeleteUser},
		{"deactivate deletes wins over *", oktahook.Routing{DeactivateDeletes: true, Forward: []string{"*"}}, events.OktaUserDeactivate, events.OktaDeleteUser},
		{"deactivate deletes leaves others alone", oktahook.Routing{DeactivateDeletes: true}, "user.lifecycle.suspend", ""},
		{"in the forward list", oktahook.Routing{Forward: []string{"group.user_membership.add", "user.session.start"}}, "user.session.start", "okta.user.session.start"},
		{"not in the forward list", oktahook.Routing{Forward: []string{"group.user_membership.add"}}, "user.session.start", ""},
		{"not forwarded by default", oktahook.Routing{}, "user.session.start", ""},
		{"* forwards any catalog type", oktahook.Routing{Forward: []string{"*"}}, "group.user_membership.add", "okta.group.user_membership.add"},
		{"* does not invent types", oktahook.Routing{Forward: []string{"*"}}, "no.such.type", ""},
		{"listed but unknown", oktahook.Routing{Forward: []string{"no.such.type"}}, "no.such.type", ""},
		{"empty type", oktahook.Routing{Forward: []string{"*"}}, "", ""},
		// okta.verify.email is the inline hook's, never an event hook's.
		{"not the inline hook type", oktahook.Routing{Forward: []string{"*"}}, "verify.email", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ty, ok := tt.routing.Route(events.Default(), tt.oktaType)
			got := ""
			if ok {
				got = ty.Name
			}
			if got != tt.want {
				t.Errorf("Route(%q) = %q, want %q", tt.oktaType, got, tt.want)
			}
		})
	}
}

func TestRoutingValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		forward []string
		bad     []string // named in the error; nil = valid
	}{
		{nil, nil},
		{[]string{"*"}, nil},
		{[]string{"user.session.start", "group.user_membership.add", "*"}, nil},
		{[]string{"user.session.start", "user.sesion.start", "x"}, []string{"user.sesion.start", "x"}},
		// The inline hook's type is not a System Log type one can forward.
		{[]string{"verify.email"}, []string{"verify.email"}},
	}
	for _, tt := range tests {
		err := oktahook.Routing{Forward: tt.forward}.Validate(events.Default())
		if (err != nil) != (tt.bad != nil) {
			t.Errorf("Validate(%q) = %v", tt.forward, err)
			continue
		}
		for _, b := range tt.bad {
			if !strings.Contains(err.Error(), b) {
				t.Errorf("Validate(%q) = %v, want it to name %q", tt.forward, err, b)
			}
		}
	}
}

// Each public Okta sample, mapped the way the gateway maps it.
func TestEventFromFixtures(t *testing.T) {
	t.Parallel()
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		fixture  string
		routing  oktahook.Routing
		wantType string
		wantSubj string
		check    func(t *testing.T, p proto.Message)
	}{
		{
			fixture: "event-hook.user-lifecycle-deactivate", routing: oktahook.Routing{DeactivateDeletes: true},
			wantType: events.OktaDeleteUser, wantSubj: "00u3m90rxKjGQ0G6L1d6",
			check: func(t *testing.T, p proto.Message) {
				pl := p.(*eventsv1.OktaUserLifecycle)
				want := &eventsv1.OktaUser{Id: "00u3m90rxKjGQ0G6L1d6", Login: "john.doe@example.com", DisplayName: "John Doe"}
				if !proto.Equal(pl.User, want) || pl.Actor.GetAlternateId() != "okta.trainer@okta.com" ||
					pl.Client.GetIpAddress() != "174.89.174.56" || !strings.HasPrefix(pl.Client.GetUserAgent(), "Mozilla/5.0") ||
					pl.OutcomeResult != "SUCCESS" || pl.TransactionId != "X7LBsMxeqO-ADcGcmp0WGQAAB@g" || pl.DisplayMessage != "Deactivate Okta User" {
					t.Errorf("payload = %v", pl)
				}
			},
		},
		{
			fixture: "event-hook.user-lifecycle-deactivate", routing: oktahook.Routing{Forward: []string{"*"}},
			wantType: "okta.user.lifecycle.deactivate", wantSubj: "00u3m90rxKjGQ0G6L1d6",
			check: func(t *testing.T, p proto.Message) {
				if pl := p.(*eventsv1.OktaLogEvent); len(pl.Targets) != 1 || pl.Severity != "INFO" {
					t.Errorf("payload = %v", pl)
				}
			},
		},
		{
			// The subject is the User target, wherever it is in the list.
			fixture: "event-hook.group-user-membership-add", routing: oktahook.Routing{Forward: []string{"group.user_membership.add"}},
			wantType: "okta.group.user_membership.add", wantSubj: "00u10r4h1xAe2TIcx4x7",
			check: func(t *testing.T, p proto.Message) {
				pl := p.(*eventsv1.OktaLogEvent)
				if len(pl.Targets) != 2 || pl.Targets[1].GetType() != "UserGroup" || pl.Client.GetIpAddress() != "" {
					t.Errorf("payload = %v", pl)
				}
			},
		},
		{
			// No User target: the first target is the subject.
			fixture: "event-hook.okta-docs-user-session-start", routing: oktahook.Routing{Forward: []string{"*"}},
			wantType: "okta.user.session.start", wantSubj: "lae42mkdc9i9cbw3U1d6",
			check: func(t *testing.T, p proto.Message) {
				pl := p.(*eventsv1.OktaLogEvent)
				// Okta's nulls read as empty.
				if pl.OutcomeReason != "" || pl.Client.GetIpAddress() != "142.126.158.61" || len(pl.Targets) != 2 {
					t.Errorf("payload = %v", pl)
				}
			},
		},
	}
	p := newParser(t, 1<<20)
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.wantType, func(t *testing.T) {
			t.Parallel()
			d, err := p.ParseEventHook(testdata.Okta(tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Events) != 1 || !strings.HasPrefix(d.Source, "https://example.okta.com/api/v1/eventHooks/") || d.EventID == "" {
				t.Fatalf("delivery = %+v", d)
			}
			le := &d.Events[0]
			ty, ok := tt.routing.Route(events.Default(), le.EventType)
			if !ok {
				t.Fatalf("%s not routed", le.EventType)
			}
			meta := oktahook.Meta{Channel: oktahook.ChannelEventHook, Route: "/okta/events", DeliveryID: d.EventID, Source: d.Source, ReceivedAt: received}
			ev, err := oktahook.Event(ty, le, meta, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			published, _ := time.Parse(time.RFC3339Nano, le.Published)
			if ev.ID != le.UUID || ev.Type.Name != tt.wantType || ev.Subject != tt.wantSubj || ev.Source != d.Source || !ev.Time.Equal(published) {
				t.Errorf("event = %+v", ev)
			}
			tt.check(t, ev.Payload)
			// Both payload types carry the System Log fields and the origin.
			var origin *eventsv1.Origin
			switch pl := ev.Payload.(type) {
			case *eventsv1.OktaUserLifecycle:
				origin = pl.Origin
				if pl.Uuid != le.UUID || pl.EventType != le.EventType || !pl.Published.AsTime().Equal(published) {
					t.Errorf("payload = %v", pl)
				}
			case *eventsv1.OktaLogEvent:
				origin = pl.Origin
				if pl.Uuid != le.UUID || pl.EventType != le.EventType || !pl.Published.AsTime().Equal(published) {
					t.Errorf("payload = %v", pl)
				}
			}
			if origin.GetChannel() != oktahook.ChannelEventHook || origin.GetSourceEventType() != le.EventType ||
				origin.GetDeliveryId() != d.EventID || origin.GetRoute() != "/okta/events" || !origin.GetReceivedAt().AsTime().Equal(received) ||
				string(origin.GetRaw()) != string(le.Raw) || origin.GetRawTruncated() {
				t.Errorf("origin = %v", origin)
			}
			if _, err := events.Encode(events.DefaultNamespace, ev); err != nil {
				t.Errorf("Encode: %v", err)
			}
		})
	}
}

func TestEventErrors(t *testing.T) {
	t.Parallel()
	cat := events.Default()
	del, _ := cat.Lookup(events.OktaDeleteUser)
	pass, _ := cat.OktaPassthrough("user.session.start")
	user := []oktahook.Entity{{ID: "00u1", Type: "User"}}
	tests := []struct {
		name string
		t    *events.Type
		le   oktahook.LogEvent
		ok   bool
	}{
		{"sync with user", del, oktahook.LogEvent{UUID: "u", Published: "2020-01-01T00:00:00Z", Target: user}, true},
		{"sync without targets", del, oktahook.LogEvent{UUID: "u", Published: "2020-01-01T00:00:00Z"}, false},
		{"sync with a non-user target", del, oktahook.LogEvent{UUID: "u", Published: "2020-01-01T00:00:00Z", Target: []oktahook.Entity{{ID: "g", Type: "UserGroup"}}}, false},
		{"sync with a user without id", del, oktahook.LogEvent{UUID: "u", Published: "2020-01-01T00:00:00Z", Target: []oktahook.Entity{{Type: "User"}}}, false},
		{"passthrough without targets", pass, oktahook.LogEvent{UUID: "u", Published: "2020-01-01T00:00:00Z"}, true},
		{"bad published", pass, oktahook.LogEvent{UUID: "u", Published: "yesterday"}, false},
		// RFC 3339 allows the year 0000; a protobuf Timestamp starts at 0001,
		// so the event could not be encoded for the bus.
		{"published before year 1", pass, oktahook.LogEvent{UUID: "u", Published: "0000-12-31T23:59:59Z"}, false},
		{"published at year 1", pass, oktahook.LogEvent{UUID: "u", Published: "0001-01-01T00:00:00Z"}, true},
		// The uuid is the event id; a "UUID" member can empty it past the
		// schema (found by FuzzParseEventHook: the gateway answered 500).
		{"empty uuid", pass, oktahook.LogEvent{Published: "2020-01-01T00:00:00Z"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := oktahook.Event(tt.t, &tt.le, oktahook.Meta{}, 16)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if ev.Source != "urn:okta" {
					t.Errorf("default source = %q", ev.Source)
				}
				if _, err := events.Encode(events.DefaultNamespace, ev); err != nil {
					t.Errorf("Encode: %v", err)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.SchemaViolation {
				t.Errorf("err = %v, want a schema_violation", err)
			}
		})
	}
}

func TestEventBoundsRaw(t *testing.T) {
	t.Parallel()
	pass, _ := events.Default().OktaPassthrough("user.session.start")
	le := &oktahook.LogEvent{UUID: "u", Published: "2020-01-01T00:00:00Z", Raw: []byte(`{"uuid":"u","long":"xxxxxxxx"}`)}
	ev, err := oktahook.Event(pass, le, oktahook.Meta{}, 8)
	if err != nil {
		t.Fatal(err)
	}
	o := ev.Payload.(*eventsv1.OktaLogEvent).Origin
	if string(o.Raw) != `{"uuid":` || !o.RawTruncated {
		t.Errorf("raw = %q truncated %v", o.Raw, o.RawTruncated)
	}
	// The event keeps its own copy: the parser's buffer may be reused.
	le.Raw[0] = 'X'
	if o.Raw[0] != '{' {
		t.Error("raw aliases the input")
	}
}
