// Package fakehttp is what every provider fake (Okta, GitLab, GitHub,
// Console) shares: injected latency, failures on demand (5xx, 429 with
// Retry-After), a provider-style rate limit that sends the provider's own
// headers, pagination helpers, and a log of the requests served so that
// tests can count provider calls.
package fakehttp

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateStyle names a provider's rate-limit headers.
type RateStyle int

const (
	// Okta: X-Rate-Limit-Limit, -Remaining, -Reset (epoch seconds); 429.
	Okta RateStyle = iota
	// GitHub: x-ratelimit-limit, -remaining, -used, -reset; 403 with remaining 0.
	GitHub
	// GitLab: RateLimit-Limit, -Remaining, -Reset, Retry-After; 429.
	GitLab
	// Console: Retry-After; 429.
	Console
)

// Request is one request served.
type Request struct {
	Method, Path string
	Status       int
	At           time.Time
	// Exempt requests (token endpoints) are logged but not counted as writes.
	Exempt bool
}

type failure struct {
	status     int
	remaining  int
	retryAfter time.Duration
	method     string
	prefix     string
}

// Faults injects latency, failures and a rate limit, and logs requests.
type Faults struct {
	mu       sync.Mutex
	latency  time.Duration
	failures []*failure
	style    RateStyle
	limit    int
	window   time.Duration
	winStart time.Time
	used     int
	log      []Request
	now      func() time.Time
	inFlight int
	peak     int
}

// NewFaults returns Faults sending style's rate-limit headers.
func NewFaults(style RateStyle) *Faults { return &Faults{style: style, now: time.Now} }

// SetLatency delays every request by d.
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// FailNext makes the next n requests whose method (empty = any) and path
// prefix match answer status; for 429 (and GitHub's 403 secondary limit)
// retryAfter is sent as Retry-After.
func (f *Faults) FailNext(n int, status int, method, pathPrefix string, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &failure{status: status, remaining: n, retryAfter: retryAfter, method: method, prefix: pathPrefix})
}

// ClearFailures drops pending injected failures (the provider is "fixed").
func (f *Faults) ClearFailures() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = nil
}

// RateLimit allows limit requests per window (fixed windows, like Okta and
// GitHub); 0 removes the limit. Every answer then carries the headers.
func (f *Faults) RateLimit(limit int, window time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limit, f.window, f.winStart, f.used = limit, window, f.now(), 0
}

// Requests returns the requests served so far.
func (f *Faults) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.log...)
}

// Count counts served requests with method (empty = any) and a path prefix.
func (f *Faults) Count(method, pathPrefix string) int {
	n := 0
	for _, r := range f.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// Writes counts served requests that change state (POST, PUT, PATCH, DELETE)
// and succeeded.
func (f *Faults) Writes() int {
	n := 0
	for _, r := range f.Requests() {
		if !r.Exempt && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Status < 300 {
			n++
		}
	}
	return n
}

// PeakConcurrency is the most requests the fake served at the same time.
func (f *Faults) PeakConcurrency() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak
}

// ResetLog forgets the requests served so far.
func (f *Faults) ResetLog() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = nil
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
	r.ResponseWriter.WriteHeader(s)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Wrap serves next with the faults applied. Paths starting with one of
// exempt (e.g. token endpoints) are neither limited nor failed.
func (f *Faults) Wrap(next http.Handler, exempt ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		exemptReq := false
		for _, p := range exempt {
			exemptReq = exemptReq || strings.HasPrefix(r.URL.Path, p)
		}
		defer func() {
			f.mu.Lock()
			f.log = append(f.log, Request{Method: r.Method, Path: r.URL.Path, Status: rec.status, At: f.now(), Exempt: exemptReq})
			f.mu.Unlock()
		}()
		f.mu.Lock()
		latency := f.latency
		f.inFlight++
		f.peak = max(f.peak, f.inFlight)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.inFlight--
			f.mu.Unlock()
		}()
		if latency > 0 {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}
		if exemptReq {
			next.ServeHTTP(rec, r)
			return
		}
		if f.injected(rec, r) || f.limited(rec) {
			return
		}
		next.ServeHTTP(rec, r)
	})
}

func (f *Faults) injected(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	var hit *failure
	for _, fl := range f.failures {
		if fl.remaining > 0 && (fl.method == "" || fl.method == r.Method) && strings.HasPrefix(r.URL.Path, fl.prefix) {
			fl.remaining--
			hit = fl
			break
		}
	}
	f.mu.Unlock()
	if hit == nil {
		return false
	}
	if hit.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((hit.retryAfter+time.Second-1)/time.Second)))
	}
	if hit.status == http.StatusTooManyRequests || (f.style == GitHub && hit.status == http.StatusForbidden) {
		f.rateHeaders(w, 0, f.now().Add(max(hit.retryAfter, time.Second)))
	}
	WriteError(w, f.style, hit.status, "injected failure")
	return true
}

// limited applies the rate limit; it writes the 429/403 itself when over.
func (f *Faults) limited(w http.ResponseWriter) bool {
	f.mu.Lock()
	if f.limit <= 0 {
		f.mu.Unlock()
		return false
	}
	now := f.now()
	if now.Sub(f.winStart) >= f.window {
		f.winStart, f.used = now, 0
	}
	reset := f.winStart.Add(f.window)
	over := f.used >= f.limit
	if !over {
		f.used++
	}
	remaining := f.limit - f.used
	f.mu.Unlock()
	f.rateHeaders(w, remaining, reset)
	if !over {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(max(time.Until(reset), 0)/time.Second)+1))
	status := http.StatusTooManyRequests
	if f.style == GitHub {
		status = http.StatusForbidden
	}
	WriteError(w, f.style, status, "API rate limit exceeded")
	return true
}

func (f *Faults) rateHeaders(w http.ResponseWriter, remaining int, reset time.Time) {
	h := w.Header()
	f.mu.Lock()
	limit := f.limit
	f.mu.Unlock()
	if limit <= 0 {
		limit = 600
	}
	epoch := strconv.FormatInt(reset.Unix()+1, 10)
	switch f.style {
	case Okta:
		h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
		h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
		h.Set("X-Rate-Limit-Reset", epoch)
	case GitHub:
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Used", strconv.Itoa(limit-remaining))
		h.Set("X-RateLimit-Reset", epoch)
		h.Set("X-RateLimit-Resource", "core")
	case GitLab:
		h.Set("RateLimit-Limit", strconv.Itoa(limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("RateLimit-Reset", epoch)
	}
}

// WriteError writes an error body in the provider's style.
func WriteError(w http.ResponseWriter, style RateStyle, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch style {
	case Okta:
		code := map[int]string{400: "E0000001", 401: "E0000011", 403: "E0000006", 404: "E0000007", 429: "E0000047"}[status]
		if code == "" {
			code = "E0000009"
		}
		fmt.Fprintf(w, `{"errorCode":%q,"errorSummary":%q,"errorLink":%q,"errorId":"oaefake","errorCauses":[]}`, code, msg, code)
	case GitHub:
		fmt.Fprintf(w, `{"message":%q,"documentation_url":"https://docs.github.com/rest"}`, msg)
	case GitLab:
		fmt.Fprintf(w, `{"message":%q}`, fmt.Sprintf("%d %s", status, msg))
	default:
		fmt.Fprintf(w, `{"statusCode":%d,"message":%q}`, status, msg)
	}
}

// PageParams reads page-number pagination (page from 1, per_page capped).
func PageParams(q url.Values, defPer, maxPer int) (page, per int) {
	page, _ = strconv.Atoi(q.Get("page"))
	per, _ = strconv.Atoi(q.Get("per_page"))
	if page < 1 {
		page = 1
	}
	if per < 1 {
		per = defPer
	}
	return page, min(per, maxPer)
}

// Slice returns the page of items and the total number of pages.
func Slice[T any](items []T, page, per int) ([]T, int) {
	pages := max((len(items)+per-1)/per, 1)
	start := (page - 1) * per
	if start >= len(items) {
		return []T{}, pages
	}
	return items[start:min(start+per, len(items))], pages
}

// LinkHeader builds an RFC 8288 Link header with next/prev/first/last for a
// page-number listing of r's URL.
func LinkHeader(r *http.Request, base string, page, pages int) string {
	link := func(p int, rel string) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		u.RawQuery = q.Encode()
		return fmt.Sprintf("<%s%s>; rel=%q", strings.TrimRight(base, "/"), u.RequestURI(), rel)
	}
	var parts []string
	if page < pages {
		parts = append(parts, link(page+1, "next"))
	}
	if page > 1 {
		parts = append(parts, link(page-1, "prev"))
	}
	parts = append(parts, link(1, "first"), link(pages, "last"))
	return strings.Join(parts, ", ")
}
