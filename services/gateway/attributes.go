package gateway

import (
	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
)

// checkAttributes refuses an event whose id, subject or source the bus
// cannot carry unchanged (events.CheckAttributes) as a schema violation
// that names the event's place in the delivery: events.Encode refuses it
// too, but publishEvents could only answer that as an internal error.
func checkAttributes(ev events.Event) error {
	if err := events.CheckAttributes(ev); err != nil {
		return apierror.New(apierror.SchemaViolation, err.Error())
	}
	return nil
}
