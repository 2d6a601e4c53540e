package ratelimit_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idsync/idsync/pkg/ratelimit"
)

// TestCallsAreCountedByStatusAndWaitsApart: the calls that reach the
// provider are counted by operation and status; the ones held back until the
// reset are waits, not calls.
func TestCallsAreCountedByStatusAndWaitsApart(t *testing.T) {
	srv, _ := quotaServer(ratelimit.GitLab, 3, time.Now().Add(time.Minute))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	client := &http.Client{Transport: ratelimit.New(nil, ratelimit.GitLab, "gitlab", reg)}
	for range 5 {
		if resp, err := client.Get(srv.URL + "/api/v4/users/7"); err == nil {
			resp.Body.Close()
		}
	}
	want := `
# HELP idsync_provider_rate_limit_waits_total Calls held back because the provider's rate-limit quota was spent (the message is retried after the reset).
# TYPE idsync_provider_rate_limit_waits_total counter
idsync_provider_rate_limit_waits_total{provider="gitlab"} 2
# HELP idsync_provider_requests_total Calls to a provider API by provider, operation (method and path template) and status (HTTP code, or error when no answer came back).
# TYPE idsync_provider_requests_total counter
idsync_provider_requests_total{operation="GET /api/v4/users/{}",provider="gitlab",status="200"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "idsync_provider_requests_total", "idsync_provider_rate_limit_waits_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "idsync_provider_request_duration_seconds"); err != nil || n != 1 {
		t.Errorf("request_duration_seconds series = %d (%v), want 1", n, err)
	}
}
