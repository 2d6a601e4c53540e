package consolehook

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/schema"
	"github.com/idsync/idsync/pkg/testdata"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// envelope is the top level as the former Parse decoded it a second time.
type envelope struct {
	EventName      string          `json:"eventName"`
	EventTimestamp json.Number     `json:"eventTimestamp"`
	Payload        json.RawMessage `json:"payload"`
}

// parseReference is Parse as it was before it read the validated document:
// the body decoded again into envelope, the payload mapped from its raw bytes.
func (p *Parser) parseReference(body []byte, meta Meta) (events.Event, error) {
	doc, err := schema.Decode(body)
	if err != nil {
		return events.Event{}, err
	}
	name, ok := doc["eventName"].(string)
	if !ok {
		return events.Event{}, apierror.New(apierror.SchemaViolation, "/eventName: a string is required")
	}
	schemaName, known := schemaOf[name]
	if !known {
		return events.Event{}, apierror.New(apierror.UnknownEvent, fmt.Sprintf("eventName %q is not a Console event idsync knows", truncate(name, 64)))
	}
	if err := p.schemas.Validate(schemaName, doc); err != nil {
		return events.Event{}, err
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return events.Event{}, apierror.Wrap(apierror.SchemaViolation, "the body does not match the schema", err)
	}
	tsMillis, err := millis(env.EventTimestamp)
	if err != nil {
		return events.Event{}, err
	}
	canonical, err := json.Marshal(doc["payload"])
	if err != nil {
		return events.Event{}, apierror.Wrap(apierror.Internal, "re-encoding the payload", err)
	}
	t, _ := p.cat.ConsoleEvent(name)
	ev := events.Event{
		ID:   dedupeID(name, env.EventTimestamp.String(), canonical),
		Type: t,
		Time: time.UnixMilli(tsMillis).UTC(),
	}
	origin := &eventsv1.Origin{
		Channel: ChannelWebhook, SourceEventType: name, Route: meta.Route,
		ReceivedAt: timestamppb.New(meta.ReceivedAt),
	}
	origin.Raw, origin.RawTruncated = bounded(body, p.rawMax)
	payload, subject, tenant, err := mapPayload(name, env.Payload, tsMillis, origin)
	if err != nil {
		return events.Event{}, err
	}
	ev.Payload, ev.Subject = payload, subject
	ev.Source = "urn:mia-platform:console"
	if tenant != "" {
		ev.Source += ":" + tenant
	}
	return ev, nil
}

func referenceParser(t testing.TB) *Parser {
	p, err := NewParser(events.Default(), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var refMeta = Meta{Route: "/console/events", ReceivedAt: time.Unix(1700000000, 0)}

// sameEvent fails t unless Parse and the reference agree on body: the same
// event (attributes, dedupe id and payload), or the same error code.
func sameEvent(t *testing.T, p *Parser, body []byte) {
	t.Helper()
	got, err := p.Parse(body, refMeta)
	want, wantErr := p.parseReference(body, refMeta)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("Parse(%q) error %v, reference %v", body, err, wantErr)
	}
	if err != nil {
		var ae, we *apierror.Error
		if !errors.As(err, &ae) || !errors.As(wantErr, &we) || ae.Code != we.Code {
			t.Fatalf("Parse(%q) = %v, reference %v", body, err, wantErr)
		}
		return
	}
	gp, wp := got.Payload, want.Payload
	got.Payload, want.Payload = nil, nil
	if !reflect.DeepEqual(got, want) || !proto.Equal(gp, wp) {
		t.Fatalf("Parse(%q):\n%+v %v\nreference:\n%+v %v", body, got, gp, want, wp)
	}
}

func consoleSeeds() [][]byte {
	var out [][]byte
	for _, name := range testdata.ConsoleEventNames() {
		out = append(out, testdata.Console(name))
	}
	for _, s := range []string{
		`{"eventName":"tag_deleted","eventTimestamp":1.7e12,"payload":{}}`,
		`{"eventName":"tag_deleted","eventTimestamp":"1","payload":{}}`,
		`{"eventName":"company_user_removed","eventTimestamp":-0,"payload":{"userId":"u","resource":{"companyId":"c"}}}`,
		`{"eventName":"company_user_removed","eventTimestamp":1700000000000,"payload":{"userId":"u\u003c","resource":{"companyId":"c","ProjectId":"p"}}}`,
		`{"eventName":"company_user_removed","eventTimestamp":1700000000000,"EventTimestamp":1,"payload":{"userId":"u","resource":{"companyId":"c"}}}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

func TestParseMatchesReference(t *testing.T) {
	t.Parallel()
	p := referenceParser(t)
	for _, body := range consoleSeeds() {
		sameEvent(t, p, body)
	}
}

// FuzzParseMatchesReference: mapping the validated document gives the event
// a second decoding of the body gave.
func FuzzParseMatchesReference(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, body := range consoleSeeds() {
		f.Add(body)
	}
	p := referenceParser(f)
	f.Fuzz(func(t *testing.T, body []byte) { sameEvent(t, p, body) })
}
