package gateway

import (
	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
)

// checkAttributes refuses an event whose id, subject or source the bus
// cannot carry unchanged (events.CheckAttributes) as a schema violation,
// before anything of the delivery is published: events.Encode would refuse
// it too, but only after the delivery's earlier events had been.
func checkAttributes(ev events.Event) error {
	if err := events.CheckAttributes(ev); err != nil {
		return apierror.New(apierror.SchemaViolation, err.Error())
	}
	return nil
}
