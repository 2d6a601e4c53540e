package oktahook

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/schema"
	"github.com/idsync/idsync/pkg/testdata"
)

// parseEventHookReference is ParseEventHook as it was before it read the
// decoded document: the body decoded a second time by encoding/json.
func (p *Parser) parseEventHookReference(body []byte) (*Delivery, error) {
	doc, err := schema.Decode(body)
	if err != nil {
		return nil, err
	}
	if err := p.schemas.Validate("okta/event-hook", doc); err != nil {
		return nil, err
	}
	var env struct {
		EventID string `json:"eventId"`
		Source  string `json:"source"`
		Data    struct {
			Events []json.RawMessage `json:"events"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, apierror.Wrap(apierror.SchemaViolation, "the body does not match the schema", err)
	}
	d := &Delivery{EventID: env.EventID, Source: env.Source, Events: make([]LogEvent, len(env.Data.Events))}
	for i, raw := range env.Data.Events {
		le := &d.Events[i]
		if err := json.Unmarshal(raw, le); err != nil {
			return nil, apierror.Wrap(apierror.SchemaViolation, fmt.Sprintf("/data/events/%d does not match the schema", i), err)
		}
		if _, err := time.Parse(time.RFC3339Nano, le.Published); err != nil {
			return nil, apierror.New(apierror.SchemaViolation, fmt.Sprintf("/data/events/%d/published: not an RFC 3339 time", i))
		}
		le.Raw = raw
	}
	return d, nil
}

func referenceParser(t testing.TB) *Parser {
	p, err := NewParser(1 << 10)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sameDelivery fails t unless ParseEventHook and the reference agree on
// body: the same delivery (fields and raw events), or the same error code.
func sameDelivery(t *testing.T, p *Parser, body []byte) {
	t.Helper()
	got, err := p.ParseEventHook(body)
	want, wantErr := p.parseEventHookReference(body)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("ParseEventHook(%q) error %v, reference %v", body, err, wantErr)
	}
	if err != nil {
		var ae, we *apierror.Error
		if !errors.As(err, &ae) || !errors.As(wantErr, &we) || ae.Code != we.Code {
			t.Fatalf("ParseEventHook(%q) = %v, reference %v", body, err, wantErr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseEventHook(%q):\n%+v\nreference:\n%+v", body, got, want)
	}
}

func eventHookSeeds() [][]byte {
	out := [][]byte{
		testdata.Okta("event-hook.user-lifecycle-deactivate"),
		testdata.Okta("event-hook.group-user-membership-add"),
		testdata.Okta("event-hook.okta-docs-user-session-start"),
	}
	const ev = `{"uuid":"u1","published":"2026-11-20T10:00:00Z","eventType":"user.lifecycle.create"`
	for _, s := range []string{
		`{"data":{"events":[]}}`,
		`{"eventId":"d1","source":"s","data":{"events":[` + ev + `}]}}`,
		`{"eventId":"d1","source":"s","data":{"events":[ ` + ev + `} , ` + ev + `,"target":null}` + "\n]}}",
		`{"EventID":"d1","SOURCE":"s","Data":{"events":[` + ev + `}]},"data":{"events":[` + ev + `}]}}`,
		`{"eventId":"d1","DATA":{"events":[` + ev + `}]}}`,
		`{"eventId":"d1","data":{"Events":[` + ev + `}],"events":[` + ev + `}]}}`,
		`{"eventid":5,"data":{"events":[` + ev + `}]}}`,
		`{"source":null,"data":{"events":[` + ev + `}]}}`,
		`{"data":{"events":[` + ev + `,"target":[null,{"id":"00u1","type":"User"},{"ID":"x","Type":"User","AlternateID":"a","DisplayName":null}]}]}}`,
		`{"data":{"events":[` + ev + `,"target":[]}]}}`,
		`{"data":{"events":[` + ev + `,"actor":null,"client":null,"outcome":null,"transaction":null}]}}`,
		`{"data":{"events":[` + ev + `,"Actor":{"Id":"a"},"CLIENT":{"IPAddress":"1","UserAgent":{"RawUserAgent":"ua"}},"Outcome":{"Result":"r","Reason":"x"},"Transaction":{"Type":"WEB","ID":"t"}}]}}`,
		`{"data":{"events":[` + ev + `,"Severity":5}]}}`,
		`{"data":{"events":[` + ev + `,"DisplayMessage":{}}]}}`,
		`{"data":{"events":[` + ev + `,"client":{"userAgent":"x"}}]}}`,
		`{"data":{"events":[` + ev + `,"Target":{}}]}}`,
		`{"data":{"events":[` + ev + `,"target":[1]}]}}`,
		`{"data":{"events":[` + ev + `,"transaction":{"Id":[]}}]}}`,
		`{"data":{"events":[{"UUID":"u","uuid":"v","published":"2026-11-20T10:00:00Z","eventType":"x"}]}}`,
		`{"data":{"events":[{"uuid":"u","published":"2026-11-20T10:00:00Z","eventType":"x","Published":"later"}]}}`,
		`{"data":{"events":[{"uuid":"u","published":"2026-13-20T10:00:00Z","eventType":"x"}]}}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

func TestParseEventHookMatchesReference(t *testing.T) {
	t.Parallel()
	p := referenceParser(t)
	for _, body := range eventHookSeeds() {
		sameDelivery(t, p, body)
	}
}

// FuzzParseEventHookMatchesReference: reading the decoded document gives
// the delivery (and the raw events) a second decoding gave.
func FuzzParseEventHookMatchesReference(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, body := range eventHookSeeds() {
		f.Add(body)
	}
	p := referenceParser(f)
	f.Fuzz(func(t *testing.T, body []byte) { sameDelivery(t, p, body) })
}

// BenchmarkParseEventHook: Okta's sample delivery, parsed as the gateway
// does and as it did before (a second decoding with encoding/json).
func BenchmarkParseEventHook(b *testing.B) {
	p := referenceParser(b)
	body := testdata.Okta("event-hook.user-lifecycle-deactivate")
	for _, bm := range []struct {
		name string
		f    func([]byte) (*Delivery, error)
	}{{"document", p.ParseEventHook}, {"reference", p.parseEventHookReference}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bm.f(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
