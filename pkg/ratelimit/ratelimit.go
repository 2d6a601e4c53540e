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
	"context"
	"errors"
	"fmt"
	"io"
	"math"
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
	// slots bounds the calls in flight (nil: unbounded). Providers limit
	// concurrent requests apart from their quota (Okta: 75 per org, shared
	// by every integration; GitHub: 100), and the refusal of a call over
	// that limit spends a whole rate-limit window of waiting.
	slots    chan struct{}
	inFlight prometheus.Gauge
	// probing is closed when the first call of a new window has its answer.
	probing chan struct{}
	// epoch is the current window's reset as the provider wrote it.
	epoch int64
}

// Option tunes a Transport.
type Option func(*Transport)

// MaxInFlight lets at most n calls be in flight at once (n <= 0: no bound);
// the others wait for a free slot, or for their request's context to end.
func MaxInFlight(n int) Option {
	return func(t *Transport) {
		if n > 0 {
			t.slots = make(chan struct{}, n)
		}
	}
}

// New wraps base (nil: PooledTransport); provider labels the metrics. The
// calls it lets through are counted and timed by metrics.ProviderTransport
// (calls it holds back are only rate_limit_waits_total), and each is a
// client span (tracing.Transport).
func New(base http.RoundTripper, style Style, provider string, reg prometheus.Registerer, opts ...Option) *Transport {
	if base == nil {
		base = PooledTransport()
	}
	base = tracing.Transport(metrics.ProviderTransport(base, provider, reg), provider)
	l := prometheus.Labels{"provider": provider}
	t := &Transport{
		base: base, style: style, now: time.Now,
		refused: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "provider", Name: "rate_limit_waits_total",
			Help: "Calls held back because the provider's rate-limit quota was spent (the message is retried after the reset).",
		}, []string{"provider"})).With(l),
		observed: metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Subsystem: "provider", Name: "rate_limit_remaining",
			Help: "Requests left in the provider's current rate-limit window, as last reported.",
		}, []string{"provider"})).With(l),
		inFlight: metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Subsystem: "provider", Name: "requests_in_flight",
			Help: "Calls to a provider API in flight (bounded per replica by the provider's IDSYNC_<PROVIDER>_MAX_CONCURRENCY).",
		}, []string{"provider"})).With(l),
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	d, probe, err := t.reserve(req.Context())
	if err != nil {
		return nil, err
	}
	if d > 0 {
		t.refused.Inc()
		return nil, &WaitError{Delay: d}
	}
	if probe != nil {
		defer t.endProbe(probe)
	}
	release, err := t.acquire(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if resp == nil {
		release()
		return nil, err
	}
	t.observe(resp)
	// The provider counts the call until its answer is read: the slot is
	// free when the SDK closes the body.
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, err
}

// acquire takes an in-flight slot, waiting for one while ctx allows.
func (t *Transport) acquire(ctx context.Context) (release func(), err error) {
	if t.slots == nil {
		t.inFlight.Inc()
		return sync.OnceFunc(t.inFlight.Dec), nil
	}
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t.inFlight.Inc()
	return sync.OnceFunc(func() {
		t.inFlight.Dec()
		<-t.slots
	}), nil
}

// releasingBody frees the call's slot when the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// PooledTransport is http.DefaultTransport keeping enough idle connections
// per host for a consumer's workers: the default keeps 2, so concurrent
// calls to one provider would reconnect (and pay TLS handshakes) each time.
// It keeps as many as the default number of workers (256), and lifts the
// default's limit of 100 idle connections over all hosts, which would
// otherwise be the bound.
func PooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	t.MaxIdleConns = 0
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
//
// When a window has passed, the quota of the next one is unknown until the
// provider answers: the first call goes alone (probe is non-nil for it, to
// be ended with endProbe) and the others wait for its answer instead of
// rushing in together — after a refusal, or with a reset the provider
// rounds down to the second, that rush would be a burst of 429s. So a
// window costs at most one refused call.
func (t *Transport) reserve(ctx context.Context) (wait time.Duration, probe chan struct{}, err error) {
	for {
		t.mu.Lock()
		if !t.known {
			t.mu.Unlock()
			return 0, nil, nil
		}
		if p := t.probing; p != nil {
			t.mu.Unlock()
			select {
			case <-p:
				continue
			case <-ctx.Done():
				return 0, nil, ctx.Err()
			}
		}
		now := t.now()
		if !now.Before(t.reset) {
			t.probing, t.left = make(chan struct{}), 0
			p := t.probing
			t.mu.Unlock()
			return 0, p, nil
		}
		defer t.mu.Unlock()
		if t.left <= 0 {
			return t.reset.Sub(now), nil, nil
		}
		t.left--
		return 0, nil, nil
	}
}

// endProbe lets the calls waiting for a window's first answer go on (after
// observe read it, or after the call failed without one).
func (t *Transport) endProbe(p chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.probing == p {
		t.probing = nil
	}
	close(p)
}

// observe reads the headers of a response.
func (t *Transport) observe(resp *http.Response) {
	limit, left, reset, epoch, ok := headers(resp, t.style, t.now())
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.known || epoch > t.epoch {
		// A new window: the provider's count is the truth.
		t.left, t.reset, t.epoch = left, reset, epoch
	} else if epoch == t.epoch {
		// The same window: calls still in flight are not counted by the
		// provider yet, so keep the lower of the two counts (taking a
		// higher one back would send more than the quota).
		t.left = min(left, t.left)
	}
	t.known, t.limit = true, limit
	if resp.StatusCode == http.StatusTooManyRequests {
		// Refused: wait at least as long as the provider asks (Retry-After,
		// or a second) even if its reset, rounded down, has already passed.
		t.left = 0
		if until := t.now().Add(RetryDelay(resp, t.style, t.now(), time.Second)); until.After(t.reset) {
			t.reset = until
		}
	}
	t.observed.Set(float64(t.left))
}

// maxResetUnix is 9999-12-31T23:59:59Z, the latest reset Headers reads.
const maxResetUnix = 253402300799

// Headers reads the limit, the requests left and the reset time of a
// response in a provider's style.
func Headers(resp *http.Response, style Style, now time.Time) (limit, left int, reset time.Time, ok bool) {
	limit, left, reset, _, ok = headers(resp, style, now)
	return limit, left, reset, ok
}

// headers is Headers plus the reset as the provider wrote it (Unix
// seconds), which names the window: the reset measured against Date moves by
// up to a second between answers of the same window.
func headers(resp *http.Response, style Style, now time.Time) (limit, left int, reset time.Time, epoch int64, ok bool) {
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
	// The reset is a Unix time; one outside the years 1970–9999 is not a
	// window a provider means (and near the int64 limit time.Unix wraps it
	// into the past, which would end the window at once).
	if err1 != nil || err2 != nil || err3 != nil || si < 0 || si > maxResetUnix {
		return 0, 0, time.Time{}, 0, false
	}
	reset = time.Unix(si, 0)
	// Okta asks to measure the reset against the response's Date, not the
	// local clock; shift by the skew when Date is present.
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		reset = now.Add(reset.Sub(d))
	}
	return li, ri, reset, si, true
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
			// More seconds than a Duration holds would overflow into a
			// short (or negative) delay: wait the longest Duration instead.
			if int64(s) > math.MaxInt64/int64(time.Second) {
				return math.MaxInt64
			}
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
