package gateway_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/testdata"
)

func TestConsoleRequests(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		h := newHarness(t, tg, testHookConfig())
		ex := testdata.Console
		signed := func(body []byte) http.Header { return consoleSigned(body, consoleSecret) }
		// variant changes an example's timestamp so that its dedupe id is new.
		variant := func(name string, ts float64, f func(m map[string]any)) []byte {
			return mutate(t, ex(name), func(m map[string]any) {
				m["eventTimestamp"] = ts
				if f != nil {
					f(m)
				}
			})
		}
		userAdded := variant("company_user_added", 1001, nil)
		hmacSig := func(body []byte) string {
			mac := hmac.New(sha256.New, []byte(consoleSecret))
			mac.Write(body)
			return hex.EncodeToString(mac.Sum(nil))
		}
		header := func(pairs ...string) http.Header {
			hd := http.Header{}
			for i := 0; i < len(pairs); i += 2 {
				hd.Add(pairs[i], pairs[i+1])
			}
			return hd
		}
		sig := consolehook.HeaderSignature
		reordered := []byte(`{"payload":{"resource":{"companyId":"my-company-id"},"roleId":"developer","email":"my-user-email@mia-platform.eu","userId":"my-user-id"},
			"eventTimestamp":1001,  "eventName":"company_user_added"}`)
		big := variant("service_created", 1002, func(m map[string]any) { field(m, "payload")["serviceName"] = strings.Repeat("s", testBodyLimit) })
		id := func(body []byte) string { return eventID(t, body) }

		cases := []tcase{
			{name: "project_created example", method: "POST", path: "/console/events", header: signed(ex("project_created")), body: ex("project_created"), status: 200,
				stored: []string{"console.create.project " + id(ex("project_created")) + " 0000000000000001"}},
			{name: "service_created example", method: "POST", path: "/console/events", header: signed(ex("service_created")), body: ex("service_created"), status: 200,
				stored: []string{"console.service_created " + id(ex("service_created")) + " 0000000000000001"}},
			{name: "configuration_saved example", method: "POST", path: "/console/events", header: signed(ex("configuration_saved")), body: ex("configuration_saved"), status: 200,
				stored: []string{"console.configuration_saved " + id(ex("configuration_saved")) + " 0000000000000001"}},
			{name: "tag_created example", method: "POST", path: "/console/events", header: signed(ex("tag_created")), body: ex("tag_created"), status: 200,
				stored: []string{"console.tag_created " + id(ex("tag_created")) + " 0000000000000001"}},
			{name: "tag_deleted example", method: "POST", path: "/console/events", header: signed(ex("tag_deleted")), body: ex("tag_deleted"), status: 200,
				stored: []string{"console.tag_deleted " + id(ex("tag_deleted")) + " 0000000000000001"}},
			{name: "user_added spelling", method: "POST", path: "/console/events", header: signed(ex("user_added")), body: ex("user_added"), status: 200,
				stored: []string{"console.update.user.permission " + id(ex("user_added")) + " my-user-id"}},
			{name: "company_user_added", method: "POST", path: "/console/events", header: signed(ex("company_user_added")), body: ex("company_user_added"), status: 200,
				stored: []string{"console.update.user.permission " + id(ex("company_user_added")) + " my-user-id"}},
			{name: "company_user_edited with payload.companyId", method: "POST", path: "/console/events", header: signed(ex("company_user_edited")), body: ex("company_user_edited"), status: 200,
				stored: []string{"console.update.user.permission " + id(ex("company_user_edited")) + " my-user-id"}},
			{name: "company_user_removed without roleId", method: "POST", path: "/console/update/user/permissions", header: signed(ex("company_user_removed")), body: ex("company_user_removed"), status: 200,
				stored: []string{"console.update.user.permission " + id(ex("company_user_removed")) + " my-user-id"}},
			{name: "re-sent delivery stored once", method: "POST", path: "/console/events", header: signed(userAdded), body: userAdded, repeat: 3, status: 200,
				stored: []string{"console.update.user.permission " + id(userAdded) + " my-user-id"}, contains: `"duplicates":1`},
			{name: "same event with other member order and spacing is a duplicate", method: "POST", path: "/console/events", header: signed(reordered), body: reordered, status: 200, contains: `"duplicates":1`},
			{name: "sha256= prefix", method: "POST", path: "/console/events", header: header(sig, "sha256="+consolehook.Sign(variant("tag_created", 2001, nil), consoleSecret)), body: variant("tag_created", 2001, nil), status: 200,
				stored: []string{"console.tag_created " + id(variant("tag_created", 2001, nil)) + " 0000000000000001"}},
			{name: "upper-case hex", method: "POST", path: "/console/events", header: header(sig, strings.ToUpper(consolehook.Sign(variant("tag_created", 2002, nil), consoleSecret))), body: variant("tag_created", 2002, nil), status: 200,
				stored: []string{"console.tag_created " + id(variant("tag_created", 2002, nil)) + " 0000000000000001"}},
			{name: "second secret during rotation", method: "POST", path: "/console/events", header: consoleSigned(variant("tag_created", 2003, nil), consoleNext), body: variant("tag_created", 2003, nil), status: 200,
				stored: []string{"console.tag_created " + id(variant("tag_created", 2003, nil)) + " 0000000000000001"}},
			{name: "no Content-Type is accepted", method: "POST", path: "/console/events", header: header(sig, consolehook.Sign(variant("tag_created", 2004, nil), consoleSecret)), body: variant("tag_created", 2004, nil), status: 200,
				stored: []string{"console.tag_created " + id(variant("tag_created", 2004, nil)) + " 0000000000000001"}},
			{name: "missing signature", method: "POST", path: "/console/events", header: header("Content-Type", "application/json"), body: variant("tag_created", 3001, nil), status: 401, code: "auth_missing"},
			{name: "empty signature", method: "POST", path: "/console/events", header: header(sig, ""), body: variant("tag_created", 3002, nil), status: 401, code: "auth_missing"},
			{name: "signature with an unknown secret", method: "POST", path: "/console/events", header: consoleSigned(variant("tag_created", 3003, nil), "another-secret-0123456789"), body: variant("tag_created", 3003, nil), status: 401, code: "auth_invalid"},
			{name: "HMAC instead of the Console scheme", method: "POST", path: "/console/events", header: header(sig, hmacSig(variant("tag_created", 3004, nil))), body: variant("tag_created", 3004, nil), status: 401, code: "auth_invalid"},
			{name: "secret prepended instead of appended", method: "POST", path: "/console/events", header: header(sig, prepended(variant("tag_created", 3005, nil))), body: variant("tag_created", 3005, nil), status: 401, code: "auth_invalid"},
			{name: "body changed after signing", method: "POST", path: "/console/events", header: signed(variant("tag_created", 3006, nil)), body: variant("tag_created", 3007, nil), status: 401, code: "auth_invalid"},
			{name: "signature header twice", method: "POST", path: "/console/events", header: header(sig, consolehook.Sign(ex("tag_created"), consoleSecret), sig, consolehook.Sign(ex("tag_created"), consoleSecret)), body: ex("tag_created"), status: 401, code: "auth_invalid"},
			{name: "signature not hex", method: "POST", path: "/console/events", header: header(sig, strings.Repeat("zz", 32)), body: ex("tag_created"), status: 401, code: "auth_invalid"},
			{name: "okta secret is not a console signature", method: "POST", path: "/console/events", header: oktaAuth(oktaSecret), body: ex("tag_created"), status: 401, code: "auth_missing"},
			{name: "truncated JSON", method: "POST", path: "/console/events", header: signed([]byte(`{"eventName":"tag_created"`)), body: []byte(`{"eventName":"tag_created"`), status: 400, code: "invalid_json"},
			{name: "duplicate member names", method: "POST", path: "/console/events", header: signed([]byte(`{"eventName":"tag_created","eventName":"project_created","eventTimestamp":1,"payload":{}}`)), body: []byte(`{"eventName":"tag_created","eventName":"project_created","eventTimestamp":1,"payload":{}}`), status: 400, code: "invalid_json"},
			{name: "unknown event name", method: "POST", path: "/console/events", header: signed([]byte(`{"eventName":"project_deleted","eventTimestamp":1,"payload":{}}`)), body: []byte(`{"eventName":"project_deleted","eventTimestamp":1,"payload":{}}`), status: 422, code: "unknown_event"},
			{name: "missing event name", method: "POST", path: "/console/events", header: signed([]byte(`{"eventTimestamp":1,"payload":{}}`)), body: []byte(`{"eventTimestamp":1,"payload":{}}`), status: 400, code: "schema_violation"},
			{name: "event name not a string", method: "POST", path: "/console/events", header: signed([]byte(`{"eventName":7,"eventTimestamp":1,"payload":{}}`)), body: []byte(`{"eventName":7,"eventTimestamp":1,"payload":{}}`), status: 400, code: "schema_violation"},
			{name: "user event without userId", method: "POST", path: "/console/events", header: signed(variant("company_user_added", 4001, func(m map[string]any) { delete(field(m, "payload"), "userId") })), body: variant("company_user_added", 4001, func(m map[string]any) { delete(field(m, "payload"), "userId") }), status: 400, code: "schema_violation", contains: "userId"},
			{name: "user event without resource", method: "POST", path: "/console/events", header: signed(variant("company_user_added", 4002, func(m map[string]any) { delete(field(m, "payload"), "resource") })), body: variant("company_user_added", 4002, func(m map[string]any) { delete(field(m, "payload"), "resource") }), status: 400, code: "schema_violation"},
			{name: "resource without companyId", method: "POST", path: "/console/events", header: signed(variant("company_user_edited", 4003, func(m map[string]any) { delete(field(m, "payload", "resource"), "companyId") })), body: variant("company_user_edited", 4003, func(m map[string]any) { delete(field(m, "payload", "resource"), "companyId") }), status: 400, code: "schema_violation"},
			{name: "unexpected top-level member", method: "POST", path: "/console/events", header: signed(variant("tag_created", 4004, func(m map[string]any) { m["extra"] = 1 })), body: variant("tag_created", 4004, func(m map[string]any) { m["extra"] = 1 }), status: 400, code: "schema_violation"},
			{name: "unexpected payload member", method: "POST", path: "/console/events", header: signed(variant("service_created", 4005, func(m map[string]any) { field(m, "payload")["owner"] = "x" })), body: variant("service_created", 4005, func(m map[string]any) { field(m, "payload")["owner"] = "x" }), status: 400, code: "schema_violation"},
			{name: "timestamp as a string", method: "POST", path: "/console/events", header: signed(mutate(t, ex("tag_created"), func(m map[string]any) { m["eventTimestamp"] = "123" })), body: mutate(t, ex("tag_created"), func(m map[string]any) { m["eventTimestamp"] = "123" }), status: 400, code: "schema_violation"},
			{name: "role id of the wrong type", method: "POST", path: "/console/events", header: signed(variant("company_user_added", 4006, func(m map[string]any) { field(m, "payload")["roleId"] = []any{"guest"} })), body: variant("company_user_added", 4006, func(m map[string]any) { field(m, "payload")["roleId"] = []any{"guest"} }), status: 400, code: "schema_violation"},
			{name: "seed's configuration_saved example named tag_created", method: "POST", path: "/console/events", header: signed(variant("configuration_saved", 4007, func(m map[string]any) { m["eventName"] = "tag_created" })), body: variant("configuration_saved", 4007, func(m map[string]any) { m["eventName"] = "tag_created" }), status: 400, code: "schema_violation"},
			{name: "environment without envId", method: "POST", path: "/console/events", header: signed(variant("project_created", 4008, func(m map[string]any) {
				delete(field(m, "payload", "project")["environments"].([]any)[0].(map[string]any), "envId")
			})), body: variant("project_created", 4008, func(m map[string]any) {
				delete(field(m, "payload", "project")["environments"].([]any)[0].(map[string]any), "envId")
			}), status: 400, code: "schema_violation"},
			{name: "oversized body", method: "POST", path: "/console/events", header: signed(big), body: big, status: 413, code: "body_too_large"},
			{name: "text/plain", method: "POST", path: "/console/events", header: header(sig, consolehook.Sign(ex("tag_created"), consoleSecret), "Content-Type", "text/plain"), body: ex("tag_created"), status: 415, code: "unsupported_media_type"},
			{name: "GET is not allowed", method: "GET", path: "/console/events", status: 405, code: "method_not_allowed", allow: "POST"},
			{name: "project event on the user endpoint", method: "POST", path: "/console/update/user/permissions", header: signed(variant("project_created", 5001, nil)), body: variant("project_created", 5001, nil), status: 422, code: "event_not_accepted", contains: "/console/events"},
			{name: "user event on the user endpoint", method: "POST", path: "/console/update/user/permissions", header: signed(variant("company_user_edited", 5002, nil)), body: variant("company_user_edited", 5002, nil), status: 200,
				stored: []string{"console.update.user.permission " + id(variant("company_user_edited", 5002, nil)) + " my-user-id"}},
		}
		runTable(t, h, cases)
	})
}

// eventID computes the dedupe id the gateway gives a Console body.
func eventID(t *testing.T, body []byte) string {
	t.Helper()
	p, err := consolehook.NewParser(eventsCatalog(), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := p.Parse(body, consolehook.Meta{})
	if err != nil {
		t.Fatalf("example does not parse: %v", err)
	}
	return ev.ID
}

func prepended(body []byte) string {
	h := sha256.New()
	h.Write([]byte(consoleSecret))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
