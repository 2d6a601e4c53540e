package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/testdata"
)

func registration(t *testing.T, email string) []byte {
	return mutate(t, testdata.Okta("registration-hook-ssr-request"), func(m map[string]any) {
		p := field(m, "data", "userProfile")
		p["email"], p["login"] = email, email
		m["eventId"] = "reg-" + email
	})
}

func TestOktaVerifyEmail(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		h := newHarness(t, tg, testHookConfig())
		auth := oktaAuth(oktaSecret)
		allowLogin := `{"commands":[{"type":"com.okta.user.profile.update","value":{"login":"rosario.jones@example.com"}}]}`
		cases := []struct {
			name    string
			header  http.Header
			body    []byte
			status  int
			code    string
			want    string // exact response body for 200s
			allowed *bool  // recorded decision
		}{
			{name: "seed sample, allowed domain", header: auth, body: testdata.Okta("registration-hook-ssr-request"), status: 200, want: allowLogin, allowed: ptr(true)},
			{name: "subdomain wildcard", header: auth, body: registration(t, "ann@dev.mia-platform.eu"), status: 200,
				want: `{"commands":[{"type":"com.okta.user.profile.update","value":{"login":"ann@dev.mia-platform.eu"}}]}`, allowed: ptr(true)},
			{name: "wildcard does not match the apex", header: auth, body: registration(t, "bob@mia-platform.eu"), status: 200,
				want:    `{"commands":[{"type":"com.okta.action.update","value":{"registration":"DENY"}}],"error":{"errorSummary":"Registration is not allowed","errorCauses":[{"errorSummary":"Registration with an email address at mia-platform.eu is not allowed.","reason":"INVALID_EMAIL_DOMAIN","locationType":"body","location":"data.userProfile.email","domain":"end-user"}]}}`,
				allowed: ptr(false)},
			{name: "domain case is ignored", header: auth, body: registration(t, "Carl@EXAMPLE.com"), status: 200,
				want: `{"commands":[{"type":"com.okta.user.profile.update","value":{"login":"Carl@EXAMPLE.com"}}]}`, allowed: ptr(true)},
			{name: "lookalike domain denied", header: auth, body: registration(t, "eve@example.com.attacker.net"), status: 200, allowed: ptr(false)},
			{name: "no at sign denied", header: auth, body: registration(t, "not-an-email"), status: 200, allowed: ptr(false)},
			{name: "classic engine without requestType", header: auth, body: mutate(t, testdata.Okta("registration-hook-ssr-request"), func(m map[string]any) { delete(m, "requestType"); m["eventId"] = "classic-1" }), status: 200, want: allowLogin, allowed: ptr(true)},
			{name: "progressive profile without email change", header: auth, body: testdata.Okta("registration-hook-progressive-request"), status: 200, want: `{"commands":[]}`, allowed: ptr(true)},
			{name: "progressive profile changing email to a denied domain", header: auth, body: mutate(t, testdata.Okta("registration-hook-progressive-request"), func(m map[string]any) {
				field(m, "data", "userProfileUpdate")["email"] = "x@elsewhere.org"
				m["eventId"] = "prog-2"
			}), status: 200, allowed: ptr(false)},
			{name: "without auth", header: http.Header{"Content-Type": {"application/json"}}, body: testdata.Okta("registration-hook-ssr-request"), status: 401, code: "auth_missing"},
			{name: "wrong secret", header: oktaAuth("wrong-wrong-wrong-wrong"), body: testdata.Okta("registration-hook-ssr-request"), status: 401, code: "auth_invalid"},
			{name: "invalid JSON", header: auth, body: []byte(`{"eventId":`), status: 400, code: "invalid_json"},
			{name: "missing eventId", header: auth, body: mutate(t, testdata.Okta("registration-hook-ssr-request"), func(m map[string]any) { delete(m, "eventId") }), status: 400, code: "schema_violation"},
			{name: "event hook body on the inline hook", header: auth, body: oktaBatch(logEvent("u", "user.lifecycle.create", "00u1")), status: 400, code: "schema_violation"},
			{name: "unknown requestType", header: auth, body: mutate(t, testdata.Okta("registration-hook-ssr-request"), func(m map[string]any) { m["requestType"] = "password.reset" }), status: 400, code: "schema_violation"},
			{name: "self-service without userProfile", header: auth, body: mutate(t, testdata.Okta("registration-hook-ssr-request"), func(m map[string]any) { delete(field(m, "data"), "userProfile") }), status: 400, code: "schema_violation"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				h.t = t
				before := h.lastSeq()
				r := h.do("POST", "/okta/verify/email", tc.header, tc.body)
				if r.status != tc.status || r.errorCode() != tc.code {
					t.Fatalf("status %d code %q, want %d %q; body %s", r.status, r.errorCode(), tc.status, tc.code, r.body)
				}
				if tc.want != "" && string(r.body) != tc.want {
					t.Fatalf("body\n%s\nwant\n%s", r.body, tc.want)
				}
				if tc.allowed == nil {
					if got := h.since(before); len(got) != 0 {
						t.Fatalf("a rejected request recorded %d events", len(got))
					}
					return
				}
				// The decision is recorded asynchronously.
				waitFor(t, "okta.verify.email recorded", func() bool { return len(h.since(before)) == 1 })
				m := h.since(before)[0]
				if m.Header.Get("ce-type") != "okta.verify.email" {
					t.Fatalf("recorded %s", m.Header.Get("ce-type"))
				}
				var data struct {
					Allowed bool   `json:"allowed"`
					Domain  string `json:"domain"`
				}
				if err := json.Unmarshal(m.Data, &data); err != nil {
					t.Fatal(err)
				}
				if data.Allowed != *tc.allowed {
					t.Fatalf("recorded allowed=%v, want %v", data.Allowed, *tc.allowed)
				}
			})
		}
	})
}

func TestOktaVerifyEmailFailsClosedWithoutDomains(t *testing.T) {
	cfg := testHookConfig()
	cfg.AllowedDomains = nil
	h := newHarness(t, bustest.Target{URL: bustest.Start(t).URL(), NS: bustest.Namespace(t)}, cfg)
	r := h.do("POST", "/okta/verify/email", oktaAuth(oktaSecret), testdata.Okta("registration-hook-ssr-request"))
	if r.status != 200 || !json.Valid(r.body) || !strings.Contains(string(r.body), `"registration":"DENY"`) {
		t.Fatalf("got %d %s, want a DENY", r.status, r.body)
	}
}

func ptr[T any](v T) *T { return &v }
