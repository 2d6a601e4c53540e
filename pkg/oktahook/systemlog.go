package oktahook

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/schema"
)

// schemaLogEvent is the schema of one System Log event, the items of an
// event hook's data.events.
const schemaLogEvent = "okta/log-event"

// ParseLogEvent decodes and validates one System Log event as the System
// Log API returns it, with the schema and the checks an event hook's events
// get, so that an event read from the log is the event a hook would have
// delivered. Errors are *apierror.Error (invalid_json, schema_violation).
func (p *Parser) ParseLogEvent(raw []byte) (*LogEvent, error) {
	doc, err := schema.Decode(raw)
	if err != nil {
		return nil, err
	}
	if err := p.schemas.Validate(schemaLogEvent, doc); err != nil {
		return nil, err
	}
	// Read from the decoded document as the hook path reads each event.
	le := &LogEvent{}
	if err := le.fromDoc(doc); err != nil {
		return nil, apierror.Wrap(apierror.SchemaViolation, "the event does not match the schema", err)
	}
	if _, err := time.Parse(time.RFC3339Nano, le.Published); err != nil {
		return nil, apierror.New(apierror.SchemaViolation, "/published: not an RFC 3339 time")
	}
	le.Raw = append(json.RawMessage(nil), raw...)
	return le, nil
}

// EventTypes lists the Okta event types this routing publishes: the source
// types of the sync rows (user.lifecycle.deactivate only when it deletes),
// then the forwarded types, sorted and without repeats. all is true when
// every catalog type is forwarded ("*"), which no list of types can say.
func (r Routing) EventTypes(cat *events.Catalog) (types []string, all bool) {
	if slices.Contains(r.Forward, "*") {
		return nil, true
	}
	seen := map[string]bool{}
	for _, t := range cat.Types() {
		if t.Kind != events.KindSync || t.Source != events.SourceOkta {
			continue
		}
		for _, st := range t.SourceEventTypes {
			if _, ok := r.Route(cat, st); ok && !seen[st] {
				seen[st] = true
				types = append(types, st)
			}
		}
	}
	for _, f := range r.Forward {
		if _, ok := r.Route(cat, f); ok && !seen[f] {
			seen[f] = true
			types = append(types, f)
		}
	}
	slices.Sort(types)
	return types, false
}
