package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
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
