package gateway

import (
	"net/http"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/events"
)

// consoleEvents takes one Console webhook. only restricts the endpoint to one
// canonical event (the seed's /console/update/user/permissions): other valid
// events are refused with event_not_accepted, naming /console/events.
func (g *Gateway) consoleEvents(only string) handlerFunc {
	route := "/console/events"
	if only != "" {
		route = "/console/update/user/permissions"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		sig, err := singleHeader(r, consolehook.HeaderSignature)
		if err != nil {
			return err
		}
		if err := checkJSON(w, r); err != nil {
			return err
		}
		body, err := readBody(w, r, int64(g.cfg.MaxBodyBytes))
		if err != nil {
			return err
		}
		if !consolehook.Verify(body, sig, g.cfg.ConsoleSecrets) {
			return apierror.New(apierror.AuthInvalid, "the "+consolehook.HeaderSignature+" header is not the signature of this body under the configured secret")
		}
		ev, err := g.console.Parse(body, consolehook.Meta{Route: route, ReceivedAt: g.now()})
		if err != nil {
			return err
		}
		if err := checkAttributes(ev); err != nil {
			return err
		}
		if only != "" && ev.Type.Name != only {
			return apierror.New(apierror.EventNotAccepted, "this endpoint takes only Console user events; send "+ev.Type.Name+" to /console/events")
		}
		stored, dups, err := g.publishEvents(r.Context(), route, []events.Event{ev})
		if err != nil {
			return err
		}
		return writeResult(w, result{Published: stored, Duplicates: dups})
	}
}
