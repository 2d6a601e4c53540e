package payload

import (
	"encoding/json"
	"fmt"

	"github.com/idsync/idsync/pkg/testdata"
)

// ConsoleNames lists the Console webhook types with a sample: every type the
// gateway knows.
func ConsoleNames() []string { return testdata.ConsoleEventNames() }

// Console is a delivery of the Console sample of eventName, with a fresh
// eventTimestamp per delivery (the Console's dedupe id hashes it).
func Console(s Secrets, eventName string) (*Delivery, error) {
	var doc map[string]any
	if err := json.Unmarshal(testdata.Console(eventName), &doc); err != nil {
		return nil, fmt.Errorf("payload: the Console sample %s: %w", eventName, err)
	}
	doc["eventTimestamp"] = "@@TS@@"
	return newDelivery("console/"+eventName, "/console/events", 1, doc, false, s.Console)
}
