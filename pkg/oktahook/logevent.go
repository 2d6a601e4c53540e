// Package oktahook validates and maps Okta event hook deliveries (System Log
// events) and answers Okta's registration inline hook. The System Log
// backfill reuses the same mapping, so an event arrives with the same id and
// payload whichever way it came.
package oktahook

import "encoding/json"

// LogEvent is the part of an Okta System Log event idsync reads. Okta sends
// null for absent values; encoding/json leaves those fields empty.
type LogEvent struct {
	UUID           string   `json:"uuid"`
	Published      string   `json:"published"`
	EventType      string   `json:"eventType"`
	Severity       string   `json:"severity"`
	DisplayMessage string   `json:"displayMessage"`
	Actor          *Entity  `json:"actor"`
	Client         *Client  `json:"client"`
	Outcome        *Outcome `json:"outcome"`
	Target         []Entity `json:"target"`
	Transaction    *struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"transaction"`

	// Raw is the event exactly as received, kept for audit.
	Raw json.RawMessage `json:"-"`
}

// Entity is a System Log actor or target.
type Entity struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// Client is the end user's client.
type Client struct {
	IPAddress string `json:"ipAddress"`
	UserAgent *struct {
		RawUserAgent string `json:"rawUserAgent"`
	} `json:"userAgent"`
}

// Outcome is the System Log outcome.
type Outcome struct {
	Result string `json:"result"`
	Reason string `json:"reason"`
}

// User returns the first target of type User, which Okta's user lifecycle
// events name as the affected user (match on type, not position).
func (e *LogEvent) User() (Entity, bool) {
	for _, t := range e.Target {
		if t.Type == "User" {
			return t, true
		}
	}
	return Entity{}, false
}
