package ratelimit_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/ratelimit"
)

// quotaServer answers with a provider's headers for a fixed window quota.
func quotaServer(style ratelimit.Style, limit int, reset time.Time) (*httptest.Server, *atomic.Int32) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(served.Add(1))
		left := max(limit-n, 0)
		names := map[ratelimit.Style][3]string{
			ratelimit.Okta:   {"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"},
			ratelimit.GitHub: {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"},
			ratelimit.GitLab: {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
		}[style]
		w.Header().Set(names[0], strconv.Itoa(limit))
		w.Header().Set(names[1], strconv.Itoa(left))
		w.Header().Set(names[2], strconv.FormatInt(reset.Unix(), 10))
		if n > limit {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	return srv, &served
}

func TestPacingHoldsRequestsOnceTheQuotaIsSpent(t *testing.T) {
	for _, style := range []ratelimit.Style{ratelimit.Okta, ratelimit.GitHub, ratelimit.GitLab} {
		t.Run(strconv.Itoa(int(style)), func(t *testing.T) {
			srv, served := quotaServer(style, 5, time.Now().Add(time.Minute))
			defer srv.Close()
			client := &http.Client{Transport: ratelimit.New(nil, style, "test", prometheus.NewRegistry())}
			var waited int
			for range 10 {
				resp, err := client.Get(srv.URL)
				if d, ok := ratelimit.AsWait(err); ok {
					if d < 50*time.Second || d > 61*time.Second {
						t.Fatalf("wait %s, want about a minute (until the reset)", d)
					}
					waited++
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if served.Load() != 5 || waited != 5 {
				t.Fatalf("served %d, held back %d; want 5 and 5: no request may be sent into a 429", served.Load(), waited)
			}
		})
	}
}

func TestNoHeadersNoPacing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	tr := ratelimit.New(nil, ratelimit.Okta, "test", prometheus.NewRegistry())
	client := &http.Client{Transport: tr}
	for range 20 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := tr.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestRetryDelay(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	mk := func(h map[string]string) *http.Response {
		r := &http.Response{Header: http.Header{}}
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return r
	}
	tests := []struct {
		name string
		resp *http.Response
		want time.Duration
	}{
		{"Retry-After seconds", mk(map[string]string{"Retry-After": "7"}), 7 * time.Second},
		{"Retry-After date", mk(map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}), 90 * time.Second},
		{"spent quota until reset", mk(map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(42*time.Second).Unix(), 10)}), 42 * time.Second},
		{"quota left: fallback", mk(map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": strconv.FormatInt(now.Unix(), 10)}), time.Minute},
		{"nothing: fallback", mk(nil), time.Minute},
		{"no response: fallback", nil, time.Minute},
	}
	for _, tc := range tests {
		if got := ratelimit.RetryDelay(tc.resp, ratelimit.GitHub, now, time.Minute); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestOktaResetIsMeasuredAgainstTheResponseDate(t *testing.T) {
	now := time.Now()
	// The server's clock is an hour ahead of ours: the reset is 30 s after
	// its Date, so 30 s from now for us.
	server := now.Add(time.Hour)
	resp := &http.Response{Header: http.Header{}}
	resp.Header.Set("Date", server.UTC().Format(http.TimeFormat))
	resp.Header.Set("X-Rate-Limit-Limit", "600")
	resp.Header.Set("X-Rate-Limit-Remaining", "0")
	resp.Header.Set("X-Rate-Limit-Reset", strconv.FormatInt(server.Add(30*time.Second).Unix(), 10))
	_, _, reset, ok := ratelimit.Headers(resp, ratelimit.Okta, now)
	if d := reset.Sub(now); !ok || d < 28*time.Second || d > 32*time.Second {
		t.Fatalf("reset in %s, want about 30s", d)
	}
}

// TestMaxInFlightBoundsConcurrentCalls: with MaxInFlight(3), ten
// concurrent calls reach the provider at most three at a time, and every
// one of them is served once a slot frees.
func TestMaxInFlightBoundsConcurrentCalls(t *testing.T) {
	var inFlight, peak, served atomic.Int32
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		served.Add(1)
		<-gate
		inFlight.Add(-1)
	}))
	defer srv.Close()
	client := &http.Client{Transport: ratelimit.New(nil, ratelimit.Okta, "test", prometheus.NewRegistry(), ratelimit.MaxInFlight(3))}
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			resp, err := client.Get(srv.URL)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	waitUntil(t, "three calls in flight", func() bool { return served.Load() == 3 })
	close(gate)
	for range 10 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if peak.Load() != 3 || served.Load() != 10 {
		t.Fatalf("peak %d in flight, %d served; want 3 and 10", peak.Load(), served.Load())
	}
}

// TestMaxInFlightWaitEndsWithTheContext: a call waiting for a slot gives up
// when its request's context ends, without reaching the provider.
func TestMaxInFlightWaitEndsWithTheContext(t *testing.T) {
	var served atomic.Int32
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		<-gate
	}))
	defer srv.Close()
	defer close(gate)
	client := &http.Client{Transport: ratelimit.New(nil, ratelimit.GitLab, "test", prometheus.NewRegistry(), ratelimit.MaxInFlight(1))}
	go func() {
		if resp, err := client.Get(srv.URL); err == nil {
			resp.Body.Close()
		}
	}()
	waitUntil(t, "the first call in flight", func() bool { return served.Load() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if _, err := client.Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if served.Load() != 1 {
		t.Fatalf("served %d, want 1: the waiting call must not reach the provider", served.Load())
	}
}

// clock is a settable time for a Transport.
type clock struct{ ns atomic.Int64 }

func newClock() *clock                   { c := &clock{}; c.ns.Store(time.Now().UnixNano()); return c }
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// answer writes Okta's rate-limit headers, the reset in the provider's
// clock (the real one, which the Date header carries too).
func answer(w http.ResponseWriter, limit, left int, resetIn time.Duration, status int) {
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(left))
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Add(resetIn).Unix(), 10))
	w.WriteHeader(status)
}

// TestRefusalWithoutQuotaDoesNotBlockForever: Okta refuses a call over its
// concurrency limit with Limit and Remaining 0; once the delay it asked for
// has passed, calls must flow again (a remembered limit of 0 once meant
// waiting forever).
func TestRefusalWithoutQuotaDoesNotBlockForever(t *testing.T) {
	c := newClock()
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 1 {
			answer(w, 0, 0, -time.Second, http.StatusTooManyRequests)
			return
		}
		answer(w, 600, 500, time.Minute, http.StatusOK)
	}))
	defer srv.Close()
	tr := ratelimit.New(nil, ratelimit.Okta, "test", prometheus.NewRegistry())
	ratelimit.SetClock(tr, c.now)
	client := &http.Client{Transport: tr}
	if resp, err := client.Get(srv.URL); err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("first call: %v, want the 429", err)
	}
	if _, err := client.Get(srv.URL); err == nil {
		t.Fatal("a call right after the refusal was sent; want it held back")
	}
	c.advance(2 * time.Second)
	for i := range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatalf("call %d after the delay: %v", i, err)
		}
		resp.Body.Close()
	}
	if served.Load() != 4 {
		t.Fatalf("served %d, want 4", served.Load())
	}
}

// TestNewWindowIsProbedByOneCall: when a window has passed, concurrent
// calls do not rush the provider: one goes first, and when the provider
// refuses it (its window had not reset yet), the others wait without being
// sent — at most one 429 per window.
func TestNewWindowIsProbedByOneCall(t *testing.T) {
	c := newClock()
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 1 {
			answer(w, 10, 9, time.Second, http.StatusOK)
			return
		}
		w.Header().Set("Retry-After", "30")
		answer(w, 10, 0, 30*time.Second, http.StatusTooManyRequests)
	}))
	defer srv.Close()
	tr := ratelimit.New(nil, ratelimit.Okta, "test", prometheus.NewRegistry())
	ratelimit.SetClock(tr, c.now)
	client := &http.Client{Transport: tr}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.advance(5 * time.Second) // the window we know of has passed
	const calls = 8
	waits := make(chan time.Duration, calls)
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			resp, err := client.Get(srv.URL)
			if d, ok := ratelimit.AsWait(err); ok {
				waits <- d
				return
			}
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	close(waits)
	if got := served.Load() - 1; got != 1 {
		t.Fatalf("%d calls reached the provider in the new window, want 1 (the probe)", got)
	}
	n := 0
	for d := range waits {
		n++
		if d < 29*time.Second || d > 31*time.Second {
			t.Errorf("held back for %s, want the 30s the provider asked", d)
		}
	}
	if n != calls-1 {
		t.Fatalf("%d calls held back, want %d", n, calls-1)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
