package gateway

import (
	"net/http"

	"github.com/idsync/idsync/pkg/events"
)

type route struct {
	method, path string
	handler      handlerFunc
}

// routes is the gateway's whole inbound contract (design §3).
func (g *Gateway) routes() []route {
	return []route{
		{http.MethodGet, "/okta/events", g.oktaVerification()},
		{http.MethodPost, "/okta/events", g.oktaEvents("")},
		{http.MethodGet, "/okta/create/user", g.oktaVerification()},
		{http.MethodPost, "/okta/create/user", g.oktaEvents(events.OktaCreateUser)},
		{http.MethodGet, "/okta/delete/user", g.oktaVerification()},
		{http.MethodPost, "/okta/delete/user", g.oktaEvents(events.OktaDeleteUser)},
		{http.MethodPost, "/okta/verify/email", g.oktaVerifyEmail()},
		{http.MethodPost, "/console/events", g.consoleEvents("")},
		{http.MethodPost, "/console/update/user/permissions", g.consoleEvents(events.ConsoleUpdateUserPermission)},
	}
}
