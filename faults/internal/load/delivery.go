// Package load is the fault suite's sender: signed Okta event-hook and
// Console webhook deliveries for the items of a world, posted to the
// gateway the way Okta and the Console would, retried until answered 2xx,
// with every answer recorded.
package load

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/idsync/idsync/faults/internal/world"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/events"
)

// Delivery is one webhook request and the events it carries.
type Delivery struct {
	Route    string
	Body     []byte
	Header   http.Header
	EventIDs []string
	// Items are the items whose events it carries.
	Items []string
}

// Secrets authenticate the deliveries.
type Secrets struct{ Okta, Console string }

// Deliveries builds the deliveries for items: Okta events in batches of up
// to batch (Okta sends batches), each Console event on its own (the Console
// sends one webhook per event). pad adds that many bytes to each Okta event
// in a field idsync does not read (debugContext), which the gateway keeps
// in the event's raw payload: bigger events fill a store sooner.
func Deliveries(items []world.Item, batch, pad int, s Secrets) ([]Delivery, error) {
	parser, err := consolehook.NewParser(events.Default(), 64<<10)
	if err != nil {
		return nil, err
	}
	var out []Delivery
	var okta []world.Item
	flush := func() {
		if len(okta) == 0 {
			return
		}
		out = append(out, oktaDelivery(okta, pad, s.Okta))
		okta = nil
	}
	for _, it := range items {
		switch it.Kind {
		case world.Deprovision, world.Provision:
			okta = append(okta, it)
			if len(okta) >= batch {
				flush()
			}
		case world.Permission:
			d, err := consoleDelivery(parser, it, s.Console)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	flush()
	return out, nil
}

// oktaEventID is the event's uuid: the gateway's Nats-Msg-Id.
func oktaEventID(it world.Item) string { return "ev-" + it.Name }

func oktaDelivery(items []world.Item, pad int, secret string) Delivery {
	type target struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		AlternateID string `json:"alternateId"`
		DisplayName string `json:"displayName"`
	}
	type logEvent struct {
		UUID         string         `json:"uuid"`
		Published    string         `json:"published"`
		EventType    string         `json:"eventType"`
		Target       []target       `json:"target"`
		DebugContext map[string]any `json:"debugContext,omitempty"`
	}
	d := Delivery{Route: "/okta/events", Header: http.Header{"Authorization": {secret}, "Content-Type": {"application/json"}}}
	var evs []logEvent
	for _, it := range items {
		typ := "user.lifecycle.create"
		if it.Kind == world.Deprovision {
			typ = "user.lifecycle.delete.initiated"
		}
		id := oktaEventID(it)
		le := logEvent{UUID: id, Published: time.Now().UTC().Format(time.RFC3339Nano), EventType: typ,
			Target: []target{{ID: it.OktaID, Type: "User", AlternateID: it.Email, DisplayName: it.Name}}}
		if pad > 0 {
			le.DebugContext = map[string]any{"debugData": map[string]string{"padding": strings.Repeat("x", pad)}}
		}
		evs = append(evs, le)
		d.EventIDs = append(d.EventIDs, id)
		d.Items = append(d.Items, it.Name)
	}
	body := map[string]any{
		"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "source": "https://example.okta.com/api/v1/eventHooks/faults",
		"eventId": "delivery-" + items[0].Name, "data": map[string]any{"events": evs},
	}
	d.Body, _ = json.Marshal(body)
	return d
}

func consoleDelivery(parser *consolehook.Parser, it world.Item, secret string) (Delivery, error) {
	body, _ := json.Marshal(map[string]any{
		"eventName": "company_user_edited", "eventTimestamp": time.Now().UnixMilli(),
		"payload": map[string]any{
			"companyId": world.Company, "userId": it.ConsoleID, "email": it.Email, "roleId": "developer",
			"resource": map[string]any{"companyId": world.Company, "projectId": world.Project},
		},
	})
	// The id the gateway will give the event, computed by the same code.
	ev, err := parser.Parse(body, consolehook.Meta{Route: "/console/events", ReceivedAt: time.Now()})
	if err != nil {
		return Delivery{}, fmt.Errorf("load: the Console delivery for %s is invalid: %w", it.Name, err)
	}
	return Delivery{
		Route: "/console/events", Body: body, EventIDs: []string{ev.ID}, Items: []string{it.Name},
		Header: http.Header{"X-Mia-Signature": {consolehook.Sign(body, secret)}, "Content-Type": {"application/json"}},
	}, nil
}
