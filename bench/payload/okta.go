package payload

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/idsync/idsync/pkg/testdata"
)

// oktaSample is Okta's public sample of a user lifecycle event hook.
const oktaSample = "event-hook.user-lifecycle-deactivate"

// oktaEvent returns the sample's System Log event turned into the user
// creation it could as well be (a type the gateway publishes by default),
// with the event id hole j. Trimmed, it loses the members Okta sends but
// idsync does not read (request chain, debug, security and authentication
// context, geolocation, device, nulls), to fit a 1 KiB delivery.
func oktaEvent(j int, trimmed bool) (map[string]any, error) {
	var doc struct {
		Data struct {
			Events []map[string]any `json:"events"`
		} `json:"data"`
	}
	if err := json.Unmarshal(testdata.Okta(oktaSample), &doc); err != nil || len(doc.Data.Events) == 0 {
		return nil, fmt.Errorf("payload: the Okta sample %s: %v", oktaSample, err)
	}
	ev := doc.Data.Events[0]
	ev["uuid"] = fmt.Sprintf("@@EV%d@@", j)
	ev["eventType"] = "user.lifecycle.create"
	ev["displayMessage"] = "Create Okta User"
	ev["legacyEventType"] = "core.user.config.user_creation_success"
	if trimmed {
		for _, k := range []string{"request", "debugContext", "securityContext", "authenticationContext", "legacyEventType"} {
			delete(ev, k)
		}
		c, _ := ev["client"].(map[string]any)
		for _, k := range []string{"geographicalContext", "device", "id", "zone"} {
			delete(c, k)
		}
		ua, _ := c["userAgent"].(map[string]any)
		delete(ua, "os")
		delete(ua, "browser")
		for _, k := range []string{"actor", "transaction", "outcome"} {
			m, _ := ev[k].(map[string]any)
			delete(m, "detailEntry")
			delete(m, "detail")
			delete(m, "reason")
		}
		for _, tg := range ev["target"].([]any) {
			delete(tg.(map[string]any), "detailEntry")
		}
	}
	return ev, nil
}

// oktaDelivery wraps events in the sample's event hook envelope, with the
// delivery id hole.
func oktaDelivery(evs []any) map[string]any {
	return map[string]any{
		"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
		"source":  "https://example.okta.com/api/v1/eventHooks/who7hphp39JoHLni81d7",
		"eventId": "@@ID@@", "eventTime": "2020-11-16T18:15:14.201Z", "contentType": "application/json",
		"data": map[string]any{"events": evs},
	}
}

// idLen is the length of the ids the harness uses, for sizing: a padded
// body is within a few bytes of its target whatever the id.
const idLen = 16

// OktaSingle is a delivery of one user creation event. With size 0 it is
// Okta's whole sample; otherwise trimmed and padded to size bytes (with ids
// of 16 characters) through a debugContext.debugData member, where Okta puts
// free-form strings and which the schema leaves open.
func OktaSingle(s Secrets, size int) (*Delivery, error) {
	ev, err := oktaEvent(0, size > 0)
	if err != nil {
		return nil, err
	}
	if size > 0 {
		ev["debugContext"] = map[string]any{"debugData": map[string]any{"pad": ""}}
		bare, err := measure(oktaDelivery([]any{ev}))
		if err != nil {
			return nil, err
		}
		if bare > size {
			return nil, fmt.Errorf("payload: an Okta delivery needs %d bytes, more than %d", bare, size)
		}
		ev["debugContext"] = map[string]any{"debugData": map[string]any{"pad": strings.Repeat("x", size-bare)}}
	}
	return newDelivery("okta-1", "/okta/events", 1, oktaDelivery([]any{ev}), true, s.Okta)
}

// OktaBatch is a delivery of n user creation events, each trimmed as in a
// 1 KiB single delivery.
func OktaBatch(s Secrets, n int) (*Delivery, error) {
	evs := make([]any, n)
	for j := range evs {
		ev, err := oktaEvent(j, true)
		if err != nil {
			return nil, err
		}
		evs[j] = ev
	}
	return newDelivery(fmt.Sprintf("okta-%d", n), "/okta/events", n, oktaDelivery(evs), true, s.Okta)
}

// measure is the size of doc filled with an id of idLen characters.
func measure(doc map[string]any) (int, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return 0, err
	}
	t, err := parseTemplate(b)
	if err != nil {
		return 0, err
	}
	return len(t.fill(nil, strings.Repeat("i", idLen), 0)), nil
}

func newDelivery(name, path string, events int, doc map[string]any, okta bool, secret string) (*Delivery, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	t, err := parseTemplate(b)
	if err != nil {
		return nil, err
	}
	return &Delivery{Name: name, Path: path, Events: events, tmpl: t, okta: okta, secret: secret}, nil
}

// Size formats a byte count as the report writes body sizes: 1KiB, 256KiB.
func Size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
