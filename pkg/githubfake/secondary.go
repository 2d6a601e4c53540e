package githubfake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SecondaryDocsURL is the documentation_url GitHub sends with a secondary
// rate limit refusal (go-github recognises it by its suffix).
const SecondaryDocsURL = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"

type secondaryLimit struct {
	remaining  int
	method     string
	prefix     string
	retryAfter time.Duration
}

// SecondaryLimitNext makes the next n requests whose method (empty = any)
// and path (relative to the base path) prefix match answer as GitHub's
// secondary rate limit does: 403, the primary quota not spent
// (x-ratelimit-remaining above 0), Retry-After when retryAfter is not zero.
func (f *Fake) SecondaryLimitNext(n int, method, pathPrefix string, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits = append(f.limits, &secondaryLimit{remaining: n, method: method, prefix: f.base + strings.TrimPrefix(pathPrefix, "/"), retryAfter: retryAfter})
}

func (f *Fake) secondary(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		var hit *secondaryLimit
		for _, l := range f.limits {
			if l.remaining > 0 && (l.method == "" || l.method == r.Method) && strings.HasPrefix(r.URL.Path, l.prefix) {
				l.remaining--
				hit = l
				break
			}
		}
		now := f.now()
		f.mu.Unlock()
		if hit == nil {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		if hit.retryAfter > 0 {
			h.Set("Retry-After", strconv.Itoa(int((hit.retryAfter+time.Second-1)/time.Second)))
		}
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Remaining", "4990")
		h.Set("X-RateLimit-Used", "10")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Hour).Unix(), 10))
		h.Set("X-RateLimit-Resource", "core")
		writeJSON(w, http.StatusForbidden, map[string]string{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": SecondaryDocsURL,
		})
	})
}
