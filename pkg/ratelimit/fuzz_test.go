package ratelimit_test

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/ratelimit"
)

var fuzzNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// headerNames are each style's limit, remaining and reset headers.
var headerNames = [3][3]string{
	ratelimit.Okta:   {"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"},
	ratelimit.GitHub: {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"},
	ratelimit.GitLab: {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
}

// fuzzResponse is a response carrying the rate-limit headers of style (each
// only when non-empty), Retry-After and Date.
func fuzzResponse(style ratelimit.Style, limit, remaining, reset, retryAfter, date string) *http.Response {
	h := http.Header{}
	for i, v := range []string{limit, remaining, reset} {
		if v != "" {
			h.Set(headerNames[style][i], v)
		}
	}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	if date != "" {
		h.Set("Date", date)
	}
	return &http.Response{StatusCode: http.StatusTooManyRequests, Header: h}
}

func addRateLimitSeeds(f *testing.F) {
	reset := strconv.FormatInt(fuzzNow.Add(42*time.Second).Unix(), 10)
	date := fuzzNow.Add(time.Hour).Format(http.TimeFormat)
	f.Add(uint8(ratelimit.Okta), "600", "0", reset, "", date)
	f.Add(uint8(ratelimit.GitHub), "5000", "3", reset, "7", "")
	f.Add(uint8(ratelimit.GitLab), " 10 ", "0", reset, fuzzNow.Add(90*time.Second).Format(http.TimeFormat), "")
	f.Add(uint8(ratelimit.GitHub), "5000", "0", "9223372036854775807", "", "")
	f.Add(uint8(ratelimit.Okta), "1", "0", "-9223372036854775808", "9223372036854775807", "Mon, 01 Jan 0001 00:00:00 GMT")
}

// FuzzHeaders: the limit, remaining and reset are read exactly as the
// provider wrote them or not at all, and a reset the provider places after
// its Date (or after now, without a Date) is never in our past: pacing must
// never take a future reset for an expired window.
func FuzzHeaders(f *testing.F) {
	addRateLimitSeeds(f)
	f.Fuzz(func(t *testing.T, style uint8, limit, remaining, reset, retryAfter, date string) {
		st := ratelimit.Style(style % 3)
		resp := fuzzResponse(st, limit, remaining, reset, retryAfter, date)
		li, ri, rt, ok := ratelimit.Headers(resp, st, fuzzNow)
		// What the header values hold, read back from the response (the
		// header may have dropped what net/http would not carry).
		get := func(i int) string { return strings.TrimSpace(resp.Header.Get(headerNames[st][i])) }
		wl, e1 := strconv.Atoi(get(0))
		wr, e2 := strconv.Atoi(get(1))
		ws, e3 := strconv.ParseInt(get(2), 10, 64)
		parsed := e1 == nil && e2 == nil && e3 == nil
		if ok && !parsed {
			t.Fatalf("ok for unparsable headers %q %q %q", get(0), get(1), get(2))
		}
		if !ok {
			if parsed && ws >= 0 && ws <= 253402300799 {
				t.Fatalf("refused parsable headers %d %d %d", wl, wr, ws)
			}
			return
		}
		if li != wl || ri != wr {
			t.Fatalf("limit %d remaining %d, want %d %d", li, ri, wl, wr)
		}
		base, dated := fuzzNow, false
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			base, dated = d, true
		}
		ahead := ws - base.Unix() // seconds from the provider's now to its reset
		switch {
		case ahead >= 0 && rt.Before(fuzzNow):
			t.Fatalf("reset %d is %ds after the provider's now %v, but %v is in our past", ws, ahead, base, rt)
		case ahead < 0 && !rt.Before(fuzzNow):
			t.Fatalf("reset %d is %ds before the provider's now %v, but %v is not in our past", ws, ahead, base, rt)
		case !dated && rt.Unix() != ws:
			t.Fatalf("reset %v, want Unix %d", rt, ws)
		case dated && math.Abs(float64(ahead)) < 1e9 && rt.Sub(fuzzNow) != time.Duration(ahead)*time.Second:
			t.Fatalf("reset in %s, want %ds (measured against Date %v)", rt.Sub(fuzzNow), ahead, base)
		}
	})
}

// FuzzRetryDelay: the delay is the fallback or at least a second; a
// Retry-After in seconds or as a date is honoured exactly (the longest
// Duration when it holds more), whatever else the response says.
func FuzzRetryDelay(f *testing.F) {
	addRateLimitSeeds(f)
	const fallback = 37 * time.Second
	f.Fuzz(func(t *testing.T, style uint8, limit, remaining, reset, retryAfter, date string) {
		st := ratelimit.Style(style % 3)
		resp := fuzzResponse(st, limit, remaining, reset, retryAfter, date)
		got := ratelimit.RetryDelay(resp, st, fuzzNow, fallback)
		if got != fallback && got < time.Second {
			t.Fatalf("delay %s: neither the fallback nor at least 1s", got)
		}
		ra := resp.Header.Get("Retry-After")
		if s, err := strconv.Atoi(strings.TrimSpace(ra)); ra != "" && err == nil && s >= 0 {
			want := time.Duration(math.MaxInt64)
			if int64(s) <= math.MaxInt64/int64(time.Second) {
				want = max(time.Duration(s)*time.Second, time.Second)
			}
			if got != want {
				t.Fatalf("Retry-After %q: delay %s, want %s", ra, got, want)
			}
			return
		}
		if ra != "" {
			if at, err := http.ParseTime(ra); err == nil {
				if want := max(at.Sub(fuzzNow), time.Second); got != want {
					t.Fatalf("Retry-After %q: delay %s, want %s", ra, got, want)
				}
				return
			}
		}
		if _, left, rt, ok := ratelimit.Headers(resp, st, fuzzNow); ok && left == 0 {
			if want := max(rt.Sub(fuzzNow), time.Second); got != want {
				t.Fatalf("spent quota: delay %s, want %s until the reset %v", got, want, rt)
			}
		} else if got != fallback {
			t.Fatalf("delay %s without Retry-After or a spent quota, want the fallback", got)
		}
	})
}
