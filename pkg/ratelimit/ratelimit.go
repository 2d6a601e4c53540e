// Package ratelimit paces calls to a provider API from the rate-limit
// headers the provider sends (Okta's X-Rate-Limit-*, GitHub's
// x-ratelimit-*, GitLab's RateLimit-*). It is an http.RoundTripper under the
// provider's SDK: it counts the requests it lets through against the
// remaining quota and, when the quota is spent, refuses further requests
// until the reset with a *WaitError carrying the delay — which the adapters
// turn into a delayed redelivery instead of a request the provider would
// refuse with 429.
package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/pkg/tracing"
)

// Style names a provider's headers.
type Style int

const (
	Okta Style = iota
	GitHub
	GitLab
)

// WaitError is returned instead of sending a request while the quota is spent.
type WaitError struct{ Delay time.Duration }

func (e *WaitError) Error() string {
	return fmt.Sprintf("rate limit: quota spent, next window in %s", e.Delay.Round(time.Millisecond))
}

// AsWait finds a WaitError in err's chain (SDKs wrap transport errors).
func AsWait(err error) (time.Duration, bool) {
	var we *WaitError
	if errors.As(err, &we) {
		return we.Delay, true
	}
	return 0, false
}

// Transport paces one credential's calls.
type Transport struct {
	base     http.RoundTripper
	style    Style
	now      func() time.Time
	mu       sync.Mutex
	known    bool
	limit    int
	left     int
	reset    time.Time
	refused  prometheus.Counter
	observed prometheus.Gauge
}

// New wraps base (nil: PooledTransport); provider labels the metrics. The
// calls it lets through are counted and timed by metrics.ProviderTransport
// (calls it holds back are only rate_limit_waits_total), and each is a
// client span (tracing.Transport).
func New(base http.RoundTripper, style Style, provider string, reg prometheus.Registerer) *Transport {
	if base == nil {
		base = PooledTransport()
	}
	base = tracing.Transport(metrics.ProviderTransport(base, provider, reg), provider)
	l := prometheus.Labels{"provider": provider}
	return &Transport{
		base: base, style: style, now: time.Now,
		refused: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "provider", Name: "rate_limit_waits_total",
			Help: "Calls held back because the provider's rate-limit quota was spent (the message is retried after the reset).",
		}, []string{"provider"})).With(l),
		observed: metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Subsystem: "provider", Name: "rate_limit_remaining",
			Help: "Requests left in the provider's current rate-limit window, as last reported.",
		}, []string{"provider"})).With(l),
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if d := t.reserve(); d > 0 {
		t.refused.Inc()
		return nil, &WaitError{Delay: d}
	}
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		t.observe(resp)
	}
	return resp, err
}

// PooledTransport is http.DefaultTransport keeping enough idle connections
// per host for a consumer's workers: the default keeps 2, so concurrent
// calls to one provider would reconnect (and pay TLS handshakes) each time.
func PooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	return t
}

// Check returns a *WaitError when the quota is spent, without taking from
// it. Adapters over SDKs that flatten transport errors to strings (the Okta
// SDK does) call it before each call, so that the wait keeps its type.
func (t *Transport) Check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.known || t.left > 0 {
		return nil
	}
	if now := t.now(); now.Before(t.reset) {
		t.refused.Inc()
		return &WaitError{Delay: t.reset.Sub(now)}
	}
	return nil
}

// reserve takes one request from the quota, or returns how long to wait.
func (t *Transport) reserve() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.known {
		return 0
	}
	now := t.now()
	if !now.Before(t.reset) {
		// A new window: the provider will tell the new quota; until then
		// assume the last limit.
		t.left, t.reset = t.limit, now.Add(time.Second)
	}
	if t.left <= 0 {
		return t.reset.Sub(now)
	}
	t.left--
	return 0
}

// observe reads the headers of a response.
func (t *Transport) observe(resp *http.Response) {
	limit, left, reset, ok := Headers(resp, t.style, t.now())
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.known || reset.After(t.reset) || left < t.left {
		// Requests still in flight are not counted by the provider yet:
		// keep the lower of the two counts within a window.
		if t.known && !reset.After(t.reset) {
			left = min(left, t.left)
		}
		t.left = left
	}
	t.known, t.limit = true, limit
	if reset.After(t.reset) {
		t.reset = reset
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		t.left = 0
	}
	t.observed.Set(float64(t.left))
}

// Headers reads the limit, the requests left and the reset time of a
// response in a provider's style.
func Headers(resp *http.Response, style Style, now time.Time) (limit, left int, reset time.Time, ok bool) {
	h := resp.Header
	var l, r, s string
	switch style {
	case Okta:
		l, r, s = h.Get("X-Rate-Limit-Limit"), h.Get("X-Rate-Limit-Remaining"), h.Get("X-Rate-Limit-Reset")
	case GitHub:
		l, r, s = h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset")
	case GitLab:
		l, r, s = h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset")
	}
	li, err1 := strconv.Atoi(strings.TrimSpace(l))
	ri, err2 := strconv.Atoi(strings.TrimSpace(r))
	si, err3 := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, time.Time{}, false
	}
	reset = time.Unix(si, 0)
	// Okta asks to measure the reset against the response's Date, not the
	// local clock; shift by the skew when Date is present.
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		reset = now.Add(reset.Sub(d))
	}
	return li, ri, reset, true
}

// RetryDelay is how long to wait before retrying a refused response:
// Retry-After when given, else the time to the reset when the quota is
// spent, else fallback.
func RetryDelay(resp *http.Response, style Style, now time.Time, fallback time.Duration) time.Duration {
	if resp == nil {
		return fallback
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
			return max(time.Duration(s)*time.Second, time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), time.Second)
		}
	}
	if _, left, reset, ok := Headers(resp, style, now); ok && left == 0 {
		return max(reset.Sub(now), time.Second)
	}
	return fallback
}
