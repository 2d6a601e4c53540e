package oktafake_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/idsync/idsync/pkg/oktafake"
)

// TestSystemLogErrors: what Okta answers to a request it cannot serve, in
// its error shape with its codes.
func TestSystemLogErrors(t *testing.T) {
	t.Parallel()
	f := oktafake.New("tok")
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	tests := []struct {
		name, query, token string
		status             int
		code               string
	}{
		{name: "unsupported filter", query: "filter=" + url.QueryEscape(`eventType gt "a"`), token: "tok", status: 400, code: "E0000031"},
		{name: "bad date", query: "since=yesterday", token: "tok", status: 400, code: "E0000030"},
		{name: "bad limit", query: "limit=-1", token: "tok", status: 400, code: "E0000001"},
		{name: "bad sort order", query: "sortOrder=SIDEWAYS", token: "tok", status: 400, code: "E0000001"},
		{name: "polling cursor on a bounded request", query: "until=2030-01-01T00:00:00.000Z&after=cDoz", token: "tok", status: 400, code: "E0000001"},
		{name: "no token", token: "", status: 401, code: "E0000011"},
		{name: "ok", query: "limit=1000", token: "tok", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/logs?"+tc.query, nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "SSWS "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ ErrorCode, ErrorSummary string }
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.status || body.ErrorCode != tc.code {
				t.Fatalf("%d %s (%s), want %d %s", resp.StatusCode, body.ErrorCode, body.ErrorSummary, tc.status, tc.code)
			}
		})
	}
}
