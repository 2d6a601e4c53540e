package oktahook

import (
	"errors"
	"fmt"
	"time"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/schema"
)

// Channels an Okta event can arrive on (Origin.channel).
const (
	ChannelEventHook        = "okta.event_hook"
	ChannelRegistrationHook = "okta.registration_hook"
	ChannelSystemLog        = "okta.system_log"
)

// HeaderVerificationChallenge is sent on the one-time GET verification.
const HeaderVerificationChallenge = "X-Okta-Verification-Challenge"

// Delivery is one event hook POST: its envelope and its events in order.
type Delivery struct {
	// EventID identifies the delivery (not the events in it).
	EventID string
	// Source is the hook's URL, https://{org}/api/v1/eventHooks/{id}.
	Source string
	Events []LogEvent
}

// Parser validates Okta hook bodies.
type Parser struct {
	schemas *schema.Set
	rawMax  int
}

// NewParser compiles the Okta schemas; rawMax bounds the raw event kept for audit.
func NewParser(rawMax int) (*Parser, error) {
	s, err := schema.Load("okta")
	if err != nil {
		return nil, err
	}
	for _, n := range []string{"okta/event-hook", "okta/registration-hook"} {
		if !s.Has(n) {
			return nil, fmt.Errorf("oktahook: no schema %s", n)
		}
	}
	return &Parser{schemas: s, rawMax: rawMax}, nil
}

// ParseEventHook decodes and validates an event hook body. Errors are
// *apierror.Error (invalid_json, schema_violation). Each event's Raw is the
// event's bytes within body (not a copy).
func (p *Parser) ParseEventHook(body []byte) (*Delivery, error) {
	doc, err := schema.Decode(body)
	if err != nil {
		return nil, err
	}
	if err := p.schemas.Validate("okta/event-hook", doc); err != nil {
		return nil, err
	}
	d := &Delivery{}
	mismatch := func(err error) error {
		return apierror.Wrap(apierror.SchemaViolation, "the body does not match the schema", err)
	}
	if err := str(doc, "eventId", &d.EventID); err != nil {
		return nil, mismatch(err)
	}
	if err := str(doc, "source", &d.Source); err != nil {
		return nil, mismatch(err)
	}
	data, err := object(doc, "data")
	if err != nil {
		return nil, mismatch(err)
	}
	var evs []any
	if data != nil {
		if evs, _, err = array(data, "events"); err != nil {
			return nil, mismatch(err)
		}
	}
	if len(evs) == 0 {
		d.Events = []LogEvent{}
		return d, nil
	}
	raws, err := eventSpans(body)
	if err == nil && len(raws) != len(evs) {
		err = errors.New("the events could not be located in the body")
	}
	if err != nil {
		return nil, mismatch(err)
	}
	d.Events = make([]LogEvent, len(evs))
	for i, v := range evs {
		le := &d.Events[i]
		if err := le.fromDoc(v); err != nil {
			return nil, apierror.Wrap(apierror.SchemaViolation, fmt.Sprintf("/data/events/%d does not match the schema", i), err)
		}
		if _, err := time.Parse(time.RFC3339Nano, le.Published); err != nil {
			return nil, apierror.New(apierror.SchemaViolation, fmt.Sprintf("/data/events/%d/published: not an RFC 3339 time", i))
		}
		le.Raw = raws[i]
	}
	return d, nil
}
