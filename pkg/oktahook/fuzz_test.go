package oktahook_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/testdata"
)

func requireAPIError(t *testing.T, err error) {
	t.Helper()
	var ae *apierror.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error is %T, not *apierror.Error: %v", err, err)
	}
}

// FuzzParseEventHook: any body posted to /okta/events is refused with a
// catalogued error, or each of its events maps (with everything forwarded)
// to an event of the routed type that can be published.
func FuzzParseEventHook(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, name := range []string{"event-hook.user-lifecycle-deactivate", "event-hook.group-user-membership-add", "event-hook.okta-docs-user-session-start"} {
		f.Add(testdata.Okta(name))
	}
	p := newParser(f, 256)
	cat := events.Default()
	routing := oktahook.Routing{Forward: []string{"*"}}
	meta := oktahook.Meta{Channel: oktahook.ChannelEventHook, Route: "/okta/events", ReceivedAt: time.Unix(1700000000, 0)}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := p.ParseEventHook(body)
		if err != nil {
			requireAPIError(t, err)
			return
		}
		for i := range d.Events {
			le := &d.Events[i]
			ty, ok := routing.Route(cat, le.EventType)
			if !ok {
				continue
			}
			ev, err := oktahook.Event(ty, le, meta, 256)
			if err != nil {
				requireAPIError(t, err)
				continue
			}
			if ev.Payload.ProtoReflect().Descriptor() != ty.Payload.Descriptor() {
				t.Fatalf("%s event carries %s", ty.Name, ev.Payload.ProtoReflect().Descriptor().FullName())
			}
			if ev.ID == "" {
				t.Fatal("event without an id (the dedupe key)")
			}
			if _, err := events.Encode(events.DefaultNamespace, ev); err != nil {
				t.Fatalf("mapped event does not encode: %v", err)
			}
		}
	})
}

// FuzzParseRegistration: the inline hook always has an answer Okta can read,
// and never allows a domain outside the list.
func FuzzParseRegistration(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, name := range []string{"registration-hook-ssr-request", "registration-hook-progressive-request"} {
		f.Add(testdata.Okta(name))
	}
	p := newParser(f, 256)
	allowed := oktahook.Domains{"example.com", "*.example.org"}
	f.Fuzz(func(t *testing.T, body []byte) {
		reg, err := p.ParseRegistration(body)
		if err != nil {
			requireAPIError(t, err)
			return
		}
		d := oktahook.Decide(reg, allowed)
		if d.Allowed && d.Domain != "" && !allowed.Allows(d.Domain) {
			t.Fatalf("allowed %q outside %v", d.Domain, allowed)
		}
		if d.Allowed && d.Domain == "" && (!reg.Progressive() || reg.Email != "") {
			t.Fatalf("allowed without a domain: %+v for %+v", d, reg)
		}
		resp, err := d.Response(reg)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(resp) {
			t.Fatalf("response is not JSON: %q", resp)
		}
	})
}
