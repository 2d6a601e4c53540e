package gateway

import (
	"net/http"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/oktahook"
)

// oktaVerifyEmail answers Okta's registration inline hook from configuration
// alone, within Okta's 3 s limit, and records the decision as an
// okta.verify.email event in the background: the answer never waits for the bus.
func (g *Gateway) oktaVerifyEmail() handlerFunc {
	const route = "/okta/verify/email"
	allowed := oktahook.Domains(g.cfg.AllowedDomains)
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
		reg, err := g.okta.ParseRegistration(body)
		if err != nil {
			return err
		}
		decision := oktahook.Decide(reg, allowed)
		resp, err := decision.Response(reg)
		if err != nil {
			return apierror.Wrap(apierror.Internal, "encoding the inline hook response", err)
		}
		// The record is built before answering: an eventId the bus cannot
		// carry is refused like any other schema violation, rather than
		// answered and recorded under another id.
		ev, evErr := oktahook.VerificationEvent(g.cat, reg, decision, oktahook.Meta{Route: route, ReceivedAt: g.now()})
		if evErr == nil {
			if err := checkAttributes(ev); err != nil {
				return err
			}
		}
		outcome := "allowed"
		if !decision.Allowed {
			outcome = "denied"
		}
		g.m.verifications.WithLabelValues(outcome).Inc()
		if evErr == nil {
			g.verify.enqueue(r.Context(), ev)
		} else {
			logging.FromContext(r.Context(), g.log).Error("building okta.verify.email", logging.Err(evErr))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(resp)
		return nil
	}
}
