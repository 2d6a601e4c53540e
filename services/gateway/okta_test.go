package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/testdata"
)

// logEvent is a System Log event as Okta sends it in a hook.
func logEvent(uuid, eventType, userID string) map[string]any {
	ev := map[string]any{
		"uuid": uuid, "published": "2026-11-20T10:00:00.000Z", "eventType": eventType, "version": "0",
		"severity": "INFO", "displayMessage": eventType, "legacyEventType": nil,
		"actor":       map[string]any{"id": "00uadmin", "type": "User", "alternateId": "admin@example.com", "displayName": "Admin"},
		"client":      map[string]any{"ipAddress": "192.0.2.10", "userAgent": map[string]any{"rawUserAgent": "Mozilla/5.0"}},
		"outcome":     map[string]any{"result": "SUCCESS", "reason": nil},
		"transaction": map[string]any{"type": "WEB", "id": "txn-1"},
	}
	if userID != "" {
		ev["target"] = []any{map[string]any{"id": userID, "type": "User", "alternateId": userID + "@example.com", "displayName": "User " + userID}}
	}
	return ev
}

func oktaBatch(evs ...map[string]any) []byte {
	list := make([]any, len(evs))
	for i, e := range evs {
		list[i] = e
	}
	b, _ := json.Marshal(map[string]any{
		"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
		"source": "https://example.okta.com/api/v1/eventHooks/who1", "eventId": "delivery-1",
		"eventTime": "2026-11-20T10:00:01.000Z", "contentType": "application/json",
		"data": map[string]any{"events": list},
	})
	return b
}

type tcase struct {
	name     string
	method   string
	path     string
	header   http.Header
	body     []byte
	repeat   int // send it this many times (default 1)
	status   int
	code     string   // error code, "" for success
	stored   []string // "<type> <id> <subject>" newly on the stream, in order
	contains string   // a substring of the (last) response body
	allow    string   // expected Allow header
}

func runTable(t *testing.T, h *harness, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			before := h.lastSeq()
			var r reply
			for range max(tc.repeat, 1) {
				r = h.do(tc.method, tc.path, tc.header, tc.body)
			}
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if got := r.errorCode(); got != tc.code {
				t.Fatalf("error code = %q, want %q; body %s", got, tc.code, r.body)
			}
			if tc.code != "" && r.header.Get("Content-Type") != "application/json" {
				t.Errorf("error Content-Type = %q", r.header.Get("Content-Type"))
			}
			if r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			if tc.contains != "" && !strings.Contains(string(r.body), tc.contains) {
				t.Errorf("body %s does not contain %s", r.body, tc.contains)
			}
			if tc.allow != "" && r.header.Get("Allow") != tc.allow {
				t.Errorf("Allow = %q, want %q", r.header.Get("Allow"), tc.allow)
			}
			got := stored(h.since(before))
			if !slices.Equal(got, tc.stored) {
				t.Fatalf("stored %q, want %q", got, tc.stored)
			}
		})
	}
}

func TestOktaRequests(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		h := newHarness(t, tg, testHookConfig())
		auth := oktaAuth(oktaSecret)
		create := logEvent("uuid-create-1", "user.lifecycle.create", "00u1")
		activate := logEvent("uuid-activate-1", "user.lifecycle.activate", "00u1")
		del := logEvent("uuid-delete-1", "user.lifecycle.delete.initiated", "00u2")
		session := logEvent("uuid-session-1", "user.session.start", "00u3")
		deactivate := logEvent("uuid-deactivate-1", "user.lifecycle.deactivate", "00u4")
		membership := logEvent("uuid-member-1", "group.user_membership.add", "00u5")
		noUser := logEvent("uuid-nouser-1", "user.lifecycle.delete.initiated", "")
		big := oktaBatch(logEvent("uuid-big", "user.lifecycle.create", "00u9"))
		big = append(big[:len(big)-1], []byte(`,"padding":"`+strings.Repeat("x", testBodyLimit)+`"}`)...)
		withHeader := func(k, v string) http.Header {
			hd := oktaAuth(oktaSecret)
			hd.Set(k, v)
			return hd
		}
		challenge := withHeader("X-Okta-Verification-Challenge", "chal-123")

		cases := []tcase{
			{name: "verification answers the challenge", method: "GET", path: "/okta/events", header: challenge, status: 200, contains: `{"verification":"chal-123"}`},
			{name: "verification on the create endpoint", method: "GET", path: "/okta/create/user", header: challenge, status: 200, contains: `"chal-123"`},
			{name: "verification on the delete endpoint", method: "GET", path: "/okta/delete/user", header: challenge, status: 200, contains: `"chal-123"`},
			{name: "verification without auth", method: "GET", path: "/okta/events", header: http.Header{"X-Okta-Verification-Challenge": {"c"}}, status: 401, code: "auth_missing"},
			{name: "verification with a wrong secret", method: "GET", path: "/okta/events", header: http.Header{"Authorization": {"nope-nope-nope-nope"}, "X-Okta-Verification-Challenge": {"c"}}, status: 401, code: "auth_invalid"},
			{name: "verification without challenge", method: "GET", path: "/okta/events", header: auth, status: 400, code: "schema_violation"},
			{name: "create and activate batch", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(create, activate), status: 200,
				stored: []string{"okta.create.user uuid-create-1 00u1", "okta.create.user uuid-activate-1 00u1"}, contains: `"published":2`},
			{name: "retried delivery stored once", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(create, activate), status: 200, contains: `"duplicates":2`},
			{name: "second secret accepted during rotation", method: "POST", path: "/okta/events", header: oktaAuth(oktaNext), body: oktaBatch(del), status: 200,
				stored: []string{"okta.delete.user uuid-delete-1 00u2"}},
			{name: "missing auth header", method: "POST", path: "/okta/events", header: http.Header{"Content-Type": {"application/json"}}, body: oktaBatch(logEvent("a1", "user.lifecycle.create", "00u1")), status: 401, code: "auth_missing"},
			{name: "empty auth header", method: "POST", path: "/okta/events", header: oktaAuth(""), body: oktaBatch(logEvent("a2", "user.lifecycle.create", "00u1")), status: 401, code: "auth_missing"},
			{name: "wrong secret", method: "POST", path: "/okta/events", header: oktaAuth("wrong-secret-0123456789"), body: oktaBatch(logEvent("a3", "user.lifecycle.create", "00u1")), status: 401, code: "auth_invalid"},
			{name: "secret in another case", method: "POST", path: "/okta/events", header: oktaAuth(strings.ToUpper(oktaSecret)), body: oktaBatch(logEvent("a4", "user.lifecycle.create", "00u1")), status: 401, code: "auth_invalid"},
			{name: "auth header twice", method: "POST", path: "/okta/events", header: http.Header{"Authorization": {oktaSecret, oktaSecret}, "Content-Type": {"application/json"}}, body: oktaBatch(logEvent("a5", "user.lifecycle.create", "00u1")), status: 401, code: "auth_invalid"},
			{name: "console signature is not okta auth", method: "POST", path: "/okta/events", header: consoleSigned(oktaBatch(create), consoleSecret), body: oktaBatch(create), status: 401, code: "auth_missing"},
			{name: "truncated JSON", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(create)[:40], status: 400, code: "invalid_json"},
			{name: "empty body", method: "POST", path: "/okta/events", header: auth, body: nil, status: 400, code: "invalid_json"},
			{name: "JSON array", method: "POST", path: "/okta/events", header: auth, body: []byte(`[{"data":{"events":[]}}]`), status: 400, code: "invalid_json"},
			{name: "duplicate member names", method: "POST", path: "/okta/events", header: auth, body: []byte(`{"data":{"events":[]},"data":{"events":[]}}`), status: 400, code: "invalid_json"},
			{name: "invalid UTF-8", method: "POST", path: "/okta/events", header: auth, body: []byte("{\"data\":{\"events\":[]},\"x\":\"\xff\"}"), status: 400, code: "invalid_json"},
			{name: "trailing data", method: "POST", path: "/okta/events", header: auth, body: append(oktaBatch(create), []byte(` {}`)...), status: 400, code: "invalid_json"},
			{name: "no data.events", method: "POST", path: "/okta/events", header: auth, body: []byte(`{"eventType":"com.okta.event_hook","data":{}}`), status: 400, code: "schema_violation"},
			{name: "wrong envelope type", method: "POST", path: "/okta/events", header: auth, body: mutate(t, oktaBatch(create), func(m map[string]any) { m["eventType"] = "com.okta.user.pre-registration" }), status: 400, code: "schema_violation"},
			{name: "event without uuid", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(func() map[string]any {
				e := logEvent("x", "user.lifecycle.create", "00u1")
				delete(e, "uuid")
				return e
			}()), status: 400, code: "schema_violation"},
			{name: "published is not a time", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(func() map[string]any {
				e := logEvent("x2", "user.lifecycle.create", "00u1")
				e["published"] = "yesterday"
				return e
			}()), status: 400, code: "schema_violation"},
			{name: "eventType with spaces", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(logEvent("x3", "user lifecycle create", "00u1")), status: 400, code: "schema_violation"},
			{name: "target of the wrong type", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(func() map[string]any {
				e := logEvent("x4", "user.lifecycle.create", "00u1")
				e["target"] = "00u1"
				return e
			}()), status: 400, code: "schema_violation"},
			{name: "delete without a User target rejects the whole batch", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(logEvent("uuid-ok-unpublished", "user.lifecycle.create", "00u7"), noUser), status: 400, code: "schema_violation", contains: "/data/events/1"},
			{name: "oversized body", method: "POST", path: "/okta/events", header: auth, body: big, status: 413, code: "body_too_large"},
			{name: "text/plain", method: "POST", path: "/okta/events", header: withHeader("Content-Type", "text/plain"), body: oktaBatch(create), status: 415, code: "unsupported_media_type"},
			{name: "form encoded", method: "POST", path: "/okta/events", header: withHeader("Content-Type", "application/x-www-form-urlencoded"), body: []byte("a=b"), status: 415, code: "unsupported_media_type"},
			{name: "JSON with charset", method: "POST", path: "/okta/events", header: withHeader("Content-Type", "application/json; charset=utf-8"), body: oktaBatch(logEvent("uuid-charset", "user.lifecycle.activate", "00u8")), status: 200,
				stored: []string{"okta.create.user uuid-charset 00u8"}},
			{name: "PUT is not allowed", method: "PUT", path: "/okta/events", header: auth, body: oktaBatch(create), status: 405, code: "method_not_allowed", allow: "GET, POST"},
			{name: "DELETE is not allowed", method: "DELETE", path: "/okta/delete/user", header: auth, status: 405, code: "method_not_allowed"},
			{name: "unknown endpoint", method: "POST", path: "/okta/unknown", header: auth, body: oktaBatch(create), status: 404, code: "not_found"},
			{name: "deactivate is not a deletion unless configured", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(deactivate), status: 200, contains: `"ignored":1`},
			{name: "non-matrix type not forwarded by default", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(session, membership), status: 200, contains: `"ignored":2`},
			{name: "type unknown to the catalog is ignored", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(logEvent("uuid-future", "user.lifecycle.teleport", "00u1")), status: 200, contains: `"ignored":1`},
			{name: "mixed batch on /okta/events", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(logEvent("uuid-m1", "user.lifecycle.create", "00ua"), session, logEvent("uuid-m2", "user.lifecycle.delete.initiated", "00ub")), status: 200,
				stored: []string{"okta.create.user uuid-m1 00ua", "okta.delete.user uuid-m2 00ub"}, contains: `"ignored":1`},
			{name: "create endpoint takes create and activate only", method: "POST", path: "/okta/create/user", header: auth, body: oktaBatch(logEvent("uuid-c1", "user.lifecycle.create", "00uc"), logEvent("uuid-c2", "user.lifecycle.delete.initiated", "00uc"), logEvent("uuid-c3", "user.lifecycle.activate", "00uc")), status: 200,
				stored: []string{"okta.create.user uuid-c1 00uc", "okta.create.user uuid-c3 00uc"}, contains: `"ignored":1`},
			{name: "delete endpoint takes delete only", method: "POST", path: "/okta/delete/user", header: auth, body: oktaBatch(logEvent("uuid-d1", "user.lifecycle.create", "00ud"), logEvent("uuid-d2", "user.lifecycle.delete.initiated", "00ud"), session), status: 200,
				stored: []string{"okta.delete.user uuid-d2 00ud"}, contains: `"ignored":2`},
			{name: "delete endpoint with only other types stores nothing", method: "POST", path: "/okta/delete/user", header: auth, body: oktaBatch(logEvent("uuid-d3", "user.lifecycle.activate", "00ud")), status: 200, contains: `"ignored":1`},
			{name: "same event on two endpoints is stored once", method: "POST", path: "/okta/delete/user", header: auth, body: oktaBatch(del), status: 200, contains: `"duplicates":1`},
			{name: "public deactivate fixture is acknowledged", method: "POST", path: "/okta/events", header: auth, body: testdata.Okta("event-hook.user-lifecycle-deactivate"), status: 200, contains: `"ignored":1`},
			{name: "public membership fixture is acknowledged", method: "POST", path: "/okta/events", header: auth, body: testdata.Okta("event-hook.group-user-membership-add"), status: 200, contains: `"ignored":1`},
			{name: "empty batch", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(), status: 200, contains: `"published":0`},
			{name: "many events in one batch", method: "POST", path: "/okta/events", header: auth, body: oktaBatch(manyEvents(20)...), status: 200, stored: manyStored(20)},
		}
		runTable(t, h, cases)
	})
}

func manyEvents(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = logEvent(fmt.Sprintf("uuid-many-%02d", i), "user.lifecycle.create", fmt.Sprintf("00um%02d", i))
	}
	return out
}

func manyStored(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("okta.create.user uuid-many-%02d 00um%02d", i, i)
	}
	return out
}
