package gateway

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/oktahook"
)

// oktaVerification answers Okta's one-time GET: the challenge header comes
// back in the body.
func (g *Gateway) oktaVerification() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := g.authorizeOkta(r); err != nil {
			return err
		}
		challenge := r.Header.Get(oktahook.HeaderVerificationChallenge)
		if challenge == "" || len(challenge) > 1024 {
			return apierror.New(apierror.SchemaViolation, "the "+oktahook.HeaderVerificationChallenge+" header is required (at most 1024 characters)")
		}
		return writeJSON(w, http.StatusOK, map[string]string{"verification": challenge})
	}
}

// oktaEvents takes an event hook batch. only restricts the endpoint to one
// sync type (the seed's per-row endpoints): other events in the batch are
// acknowledged and counted, not published. Nothing is published unless the
// whole batch is valid; 2xx only once every published event is acknowledged.
func (g *Gateway) oktaEvents(only string) handlerFunc {
	route := "/okta/events"
	switch only {
	case events.OktaCreateUser:
		route = "/okta/create/user"
	case events.OktaDeleteUser:
		route = "/okta/delete/user"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := g.authorizeOkta(r); err != nil {
			return err
		}
		if err := checkJSON(w, r); err != nil {
			return err
		}
		body, err := readBody(w, r, int64(g.cfg.MaxBodyBytes))
		if err != nil {
			return err
		}
		d, err := g.okta.ParseEventHook(body)
		if err != nil {
			return err
		}
		meta := oktahook.Meta{Channel: oktahook.ChannelEventHook, Route: route, DeliveryID: d.EventID, Source: d.Source, ReceivedAt: g.now()}
		var evs []events.Event
		ignored := 0
		for i := range d.Events {
			le := &d.Events[i]
			t, ok := g.routing.Route(g.cat, le.EventType)
			if !ok {
				ignored++
				g.m.ignored.WithLabelValues(route, "not_enabled").Inc()
				continue
			}
			if only != "" && t.Name != only {
				ignored++
				g.m.ignored.WithLabelValues(route, "other_endpoint").Inc()
				continue
			}
			ev, err := oktahook.Event(t, le, meta, int(g.cfg.RawMaxBytes))
			if err == nil {
				err = checkAttributes(ev)
			}
			if err != nil {
				if ae, ok := err.(*apierror.Error); ok {
					ae.Message = fmt.Sprintf("/data/events/%d: %s", i, ae.Message)
				}
				return err
			}
			evs = append(evs, ev)
		}
		stored, dups, err := g.publishEvents(r.Context(), route, evs)
		if err != nil {
			return err
		}
		return writeResult(w, result{Published: stored, Duplicates: dups, Ignored: ignored})
	}
}

// result summarises what a delivery did; senders ignore it, operators read it.
type result struct {
	Published  int `json:"published"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
}

// writeResult answers 200 with res: the JSON httpserver.WriteJSON writes
// for it, formatted without reflection (every accepted delivery gets one).
func writeResult(w http.ResponseWriter, res result) error {
	b := make([]byte, 0, 64)
	b = append(b, `{"published":`...)
	b = strconv.AppendInt(b, int64(res.Published), 10)
	b = append(b, `,"duplicates":`...)
	b = strconv.AppendInt(b, int64(res.Duplicates), 10)
	b = append(b, `,"ignored":`...)
	b = strconv.AppendInt(b, int64(res.Ignored), 10)
	b = append(b, '}')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	if err := httpserver.WriteJSON(w, status, v); err != nil {
		return apierror.Wrap(apierror.Internal, "encoding the response", err)
	}
	return nil
}
