package oktahook_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/testdata"
)

// logEvents are the events of the shared event hook fixtures, one JSON
// object each, as the System Log API returns them.
func logEvents(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, name := range []string{"event-hook.user-lifecycle-deactivate", "event-hook.group-user-membership-add", "event-hook.okta-docs-user-session-start"} {
		var env struct {
			Data struct {
				Events []json.RawMessage `json:"events"`
			} `json:"data"`
		}
		if err := json.Unmarshal(testdata.Okta(name), &env); err != nil {
			t.Fatal(err)
		}
		for _, e := range env.Data.Events {
			out = append(out, e)
		}
	}
	return out
}

// TestParseLogEvent: an event read from the System Log is accepted and
// refused exactly as the same event inside a hook delivery.
func TestParseLogEvent(t *testing.T) {
	t.Parallel()
	p := newParser(t, 1<<16)
	cases := logEvents(t)
	cases = append(cases,
		[]byte(`{"uuid":"","eventType":"user.lifecycle.create","published":"2026-01-01T00:00:00.000Z"}`),
		[]byte(`{"uuid":"u1","eventType":"user.lifecycle.create","published":"yesterday"}`),
		[]byte(`{"uuid":"u1","uuid":"u2","eventType":"x","published":"2026-01-01T00:00:00.000Z"}`),
		[]byte(`[]`),
	)
	for i, raw := range cases {
		le, err := p.ParseLogEvent(raw)
		body := []byte(`{"eventType":"com.okta.event_hook","data":{"events":[` + string(raw) + `]}}`)
		d, herr := p.ParseEventHook(body)
		if (err == nil) != (herr == nil) {
			t.Errorf("case %d: log %v, hook %v: the two paths disagree", i, err, herr)
			continue
		}
		if err != nil {
			requireAPIError(t, err)
			continue
		}
		if le.UUID != d.Events[0].UUID || le.Published != d.Events[0].Published || !bytes.Equal(le.Raw, raw) {
			t.Errorf("case %d: parsed %+v, the hook path %+v", i, le, d.Events[0])
		}
	}
}

// TestRoutingEventTypes: the Okta types a routing publishes, for the
// backfill's filter.
func TestRoutingEventTypes(t *testing.T) {
	t.Parallel()
	cat := events.Default()
	tests := []struct {
		r    oktahook.Routing
		want []string
		all  bool
	}{
		{want: []string{"user.lifecycle.activate", "user.lifecycle.create", "user.lifecycle.delete.initiated"}},
		{r: oktahook.Routing{DeactivateDeletes: true, Forward: []string{"user.session.start", "user.lifecycle.create"}},
			want: []string{"user.lifecycle.activate", "user.lifecycle.create", "user.lifecycle.deactivate", "user.lifecycle.delete.initiated", "user.session.start"}},
		{r: oktahook.Routing{Forward: []string{"user.lifecycle.deactivate"}},
			want: []string{"user.lifecycle.activate", "user.lifecycle.create", "user.lifecycle.deactivate", "user.lifecycle.delete.initiated"}},
		{r: oktahook.Routing{Forward: []string{"*"}}, all: true},
	}
	for _, tc := range tests {
		got, all := tc.r.EventTypes(cat)
		if !slices.Equal(got, tc.want) || all != tc.all {
			t.Errorf("%+v: %v %v, want %v %v", tc.r, got, all, tc.want, tc.all)
		}
		for _, typ := range got {
			if _, ok := tc.r.Route(cat, typ); !ok {
				t.Errorf("%+v: %s listed but not routed", tc.r, typ)
			}
		}
	}
}

// FuzzParseLogEvent: any System Log event is refused with a catalogued
// error or parsed with its uuid, its time and its raw bytes, the same as
// the hook path parses it.
func FuzzParseLogEvent(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, raw := range logEvents(f) {
		f.Add(raw)
	}
	p := newParser(f, 256)
	f.Fuzz(func(t *testing.T, raw []byte) {
		le, err := p.ParseLogEvent(raw)
		if err != nil {
			requireAPIError(t, err)
			return
		}
		if _, err := time.Parse(time.RFC3339Nano, le.Published); err != nil || le.EventType == "" {
			t.Fatalf("accepted an event without a type or a time: %+v", le)
		}
		if !bytes.Equal(le.Raw, raw) {
			t.Fatal("the raw event is not what was read")
		}
	})
}
