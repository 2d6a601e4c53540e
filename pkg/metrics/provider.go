package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ProviderTransport wraps base (nil: http.DefaultTransport) so that every
// call to a provider API is counted in idsync_provider_requests_total
// {provider, operation, status} and timed in
// idsync_provider_request_duration_seconds{provider, operation}. status is
// the HTTP status code, or "error" when no response came back (timeout,
// connection refused). operation is Operation(req): the method and a path
// template, never the raw URL.
func ProviderTransport(base http.RoundTripper, provider string, reg prometheus.Registerer) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &providerTransport{
		base: base,
		calls: Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "provider", Name: "requests_total",
			Help: "Calls to a provider API by provider, operation (method and path template) and status (HTTP code, or error when no answer came back).",
		}, []string{"provider", "operation", "status"})).MustCurryWith(prometheus.Labels{"provider": provider}),
		duration: Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "provider", Name: "request_duration_seconds",
			Help:    "Latency of calls to a provider API, by provider and operation.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"provider", "operation"})).MustCurryWith(prometheus.Labels{"provider": provider}),
	}
}

type providerTransport struct {
	base     http.RoundTripper
	calls    *prometheus.CounterVec
	duration prometheus.ObserverVec
}

func (t *providerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := Operation(req)
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	t.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	status := "error"
	if err == nil && resp != nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	t.calls.WithLabelValues(op, status).Inc()
	return resp, err
}

// Operation names a provider call for metrics with low cardinality: the
// method and the path with every segment that is not a known API word
// replaced by {} — ids, logins, emails, group paths and organization names
// all collapse — and the deployment's base path (segments before the first
// known word, e.g. a GitHub Enterprise prefix) dropped. Example:
// "DELETE /api/v1/groups/{}/users/{}".
func Operation(req *http.Request) string {
	segs := strings.Split(strings.Trim(req.URL.EscapedPath(), "/"), "/")
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte(' ')
	started := false
	for _, s := range segs {
		known := apiWords[s]
		if !started && !known {
			continue
		}
		started = true
		b.WriteByte('/')
		if known {
			b.WriteString(s)
		} else {
			b.WriteString("{}")
		}
	}
	if !started {
		b.WriteByte('/')
	}
	return b.String()
}

// apiWords are the fixed path segments of the provider APIs idsync calls
// (Okta Management, GitLab v4, GitHub REST, the Console). A word missing
// here only makes an operation less precise ({}), never more cardinal.
var apiWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		api v1 v3 v4 m2m oauth oauth2 token
		users user groups group members all block unblock ban unban activate deactivate lifecycle
		reactivate suspend unsuspend roles apps search emails keys identities invitations
		orgs org teams memberships installations installation access_tokens app repos
		companies company projects project backend environments tenants
		me iam bindings service-accounts`) {
		m[w] = true
	}
	return m
}()
