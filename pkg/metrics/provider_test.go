package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idsync/idsync/pkg/metrics"
)

func TestOperation(t *testing.T) {
	t.Parallel()
	tests := []struct{ method, url, want string }{
		{"GET", "https://acme.okta.com/api/v1/users/00u1abc", "GET /api/v1/users/{}"},
		{"PUT", "https://acme.okta.com/api/v1/groups/00g9/users/00u1", "PUT /api/v1/groups/{}/users/{}"},
		{"GET", "https://acme.okta.com/api/v1/groups?q=console-acme", "GET /api/v1/groups"},
		{"GET", "https://gitlab.example.com/api/v4/groups/acme%2Fpayments/members/all/42", "GET /api/v4/groups/{}/members/all/{}"},
		{"POST", "https://gitlab.example.com/api/v4/users/42/block", "POST /api/v4/users/{}/block"},
		{"DELETE", "https://ghe.example.com/api/v3/orgs/acme/teams/payments/memberships/bob-gh", "DELETE /api/v3/orgs/{}/teams/{}/memberships/{}"},
		{"GET", "https://api.github.com/orgs/acme/memberships/bob-gh", "GET /orgs/{}/memberships/{}"},
		{"GET", "http://127.0.0.1:3000/github-base/orgs/acme", "GET /orgs/{}"},
		{"DELETE", "https://console.example.com/api/companies/acme/users/u-1?removeFromGroups=true", "DELETE /api/companies/{}/users/{}"},
		{"GET", "https://console.example.com/api/backend/projects/payments/", "GET /api/backend/projects/{}"},
		{"GET", "https://console.example.com/bob@example.com", "GET /"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tc.method, tc.url, nil)
			if got := metrics.Operation(req); got != tc.want {
				t.Errorf("Operation(%s %s) = %q, want %q", tc.method, tc.url, got, tc.want)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestProviderTransportCountsAndTimesCalls(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/down"):
			return nil, errors.New("connection refused")
		case r.Method == http.MethodDelete:
			return &http.Response{StatusCode: http.StatusTooManyRequests, Body: http.NoBody, Request: r}, nil
		}
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})
	c := &http.Client{Transport: metrics.ProviderTransport(base, "okta", reg)}
	// A second transport for the same provider shares the families.
	c2 := &http.Client{Transport: metrics.ProviderTransport(base, "okta", reg)}
	for _, call := range []struct {
		c      *http.Client
		method string
		url    string
	}{
		{c, "GET", "https://o.example/api/v1/users/00u1"},
		{c2, "GET", "https://o.example/api/v1/users/00u2"},
		{c, "DELETE", "https://o.example/api/v1/groups/00g1/users/00u1"},
		{c, "GET", "https://o.example/api/v1/down"},
	} {
		req, _ := http.NewRequest(call.method, call.url, nil)
		resp, err := call.c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}
	want := `
# HELP idsync_provider_requests_total Calls to a provider API by provider, operation (method and path template) and status (HTTP code, or error when no answer came back).
# TYPE idsync_provider_requests_total counter
idsync_provider_requests_total{operation="DELETE /api/v1/groups/{}/users/{}",provider="okta",status="429"} 1
idsync_provider_requests_total{operation="GET /api/v1/users/{}",provider="okta",status="200"} 2
idsync_provider_requests_total{operation="GET /api/v1/{}",provider="okta",status="error"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "idsync_provider_requests_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "idsync_provider_request_duration_seconds"); err != nil || n != 3 {
		t.Errorf("request_duration_seconds series = %d (%v), want 3 operations", n, err)
	}
}
