package oktahook

import (
	"encoding/json"
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
// *apierror.Error (invalid_json, schema_violation).
func (p *Parser) ParseEventHook(body []byte) (*Delivery, error) {
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
