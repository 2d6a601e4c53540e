package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/bus/bustest"
)

func TestOktaRoutingOptions(t *testing.T) {
	srv := bustest.Start(t)
	tests := []struct {
		name              string
		deactivateDeletes bool
		forward           []string
		batch             []byte
		want              []string
	}{
		{name: "deactivate deletes when configured", deactivateDeletes: true,
			batch: oktaBatch(logEvent("r1", "user.lifecycle.deactivate", "00u1")),
			want:  []string{"okta.delete.user r1 00u1"}},
		{name: "forwarded types are published on their own subjects", forward: []string{"user.session.start", "group.user_membership.add"},
			batch: oktaBatch(logEvent("r2", "user.session.start", "00u2"), logEvent("r3", "group.user_membership.add", "00u3"), logEvent("r4", "user.account.lock", "00u4")),
			want:  []string{"okta.user.session.start r2 00u2", "okta.group.user_membership.add r3 00u3"}},
		{name: "star forwards every catalog type but keeps the matrix mapping", forward: []string{"*"},
			batch: oktaBatch(logEvent("r5", "user.account.lock", "00u5"), logEvent("r6", "user.lifecycle.create", "00u6"), logEvent("r7", "not.in.catalog", "00u7")),
			want:  []string{"okta.user.account.lock r5 00u5", "okta.create.user r6 00u6"}},
		{name: "forwarded deactivate stays a passthrough without the option", forward: []string{"user.lifecycle.deactivate"},
			batch: oktaBatch(logEvent("r8", "user.lifecycle.deactivate", "00u8")),
			want:  []string{"okta.user.lifecycle.deactivate r8 00u8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testHookConfig()
			cfg.DeactivateDeletes, cfg.ForwardEventTypes = tc.deactivateDeletes, tc.forward
			h := newHarness(t, bustest.Target{URL: srv.URL(), NS: bustest.Namespace(t)}, cfg)
			r := h.do("POST", "/okta/events", oktaAuth(oktaSecret), tc.batch)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := stored(h.since(0)); !slices.Equal(got, tc.want) {
				t.Fatalf("stored %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	srv := bustest.Start(t)
	h := newHarness(t, bustest.Target{URL: srv.URL(), NS: bustest.Namespace(t)}, testHookConfig())
	if r := h.do("GET", "/healthz", nil, nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := h.do("GET", "/readyz", nil, nil); r.status != 200 {
		t.Fatalf("readyz %d %s", r.status, r.body)
	}
	h.do("POST", "/okta/events", oktaAuth(oktaSecret), oktaBatch(logEvent("m1", "user.lifecycle.create", "00u1")))
	h.do("POST", "/okta/events", oktaAuth("bad-bad-bad-bad-bad"), oktaBatch(logEvent("m2", "user.lifecycle.create", "00u1")))
	text := scrape(t, h)
	for _, want := range []string{
		`idsync_gateway_requests_total{method="POST",route="/okta/events",status="200"} 1`,
		`idsync_gateway_requests_total{method="POST",route="/okta/events",status="401"} 1`,
		`idsync_gateway_rejected_total{code="auth_invalid",route="/okta/events"} 1`,
		`idsync_gateway_events_total{result="published",route="/okta/events",type="okta.create.user"} 1`,
		`idsync_gateway_request_duration_seconds_count{route="/okta/events"} 2`,
		`idsync_bus_published_total{result="stored",stream="` + string(h.ns.Stream("EVENTS")) + `"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// With the bus gone, readiness fails and deliveries get 503 + Retry-After.
	srv.Shutdown()
	waitFor(t, "not ready", func() bool { return h.do("GET", "/readyz", nil, nil).status == 503 })
	r := h.do("POST", "/okta/events", oktaAuth(oktaSecret), oktaBatch(logEvent("m3", "user.lifecycle.create", "00u1")))
	if r.status != 503 || r.errorCode() != "bus_unavailable" || r.header.Get("Retry-After") != "5" {
		t.Fatalf("with NATS down: %d %q Retry-After %q", r.status, r.errorCode(), r.header.Get("Retry-After"))
	}
}

func scrape(t *testing.T, h *harness) string {
	t.Helper()
	r := h.do("GET", "/metrics", nil, nil)
	if r.status != 200 {
		t.Fatalf("metrics %d", r.status)
	}
	return string(r.body)
}
