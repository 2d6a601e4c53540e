package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v92/github"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/ratelimit"
)

// SecondaryFallback is the wait after a secondary rate limit that names
// neither Retry-After nor a spent quota: GitHub asks for at least a minute.
const SecondaryFallback = time.Minute

// classify gives err its class:
//   - our transport holding a request back (quota spent), go-github's
//     RateLimitError (403/429 with x-ratelimit-remaining 0) and
//     AbuseRateLimitError (secondary limit), and any 429 or a 403 with
//     Retry-After → RateLimited, after Retry-After, else the reset, else a
//     minute;
//   - 404 → NotFound;
//   - 5xx, 408, timeouts and transport failures → Retryable;
//   - other 4xx (422 validation, 403 on an IdP-synced team, 401) → Permanent;
//   - a GitHub App token GitHub refuses with a 4xx → Permanent.
func (c *Client) classify(op string, resp *gh.Response, err error) error {
	if err == nil {
		return nil
	}
	werr := fmt.Errorf("github: %s: %w", op, err)
	if d, ok := ratelimit.AsWait(err); ok {
		return errclass.AsRateLimited(d, werr)
	}
	var hr *http.Response
	if resp != nil {
		hr = resp.Response
	}
	var rle *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	var appErr *ghinstallation.HTTPError
	switch {
	case errors.As(err, &rle):
		return errclass.AsRateLimited(ratelimit.RetryDelay(rle.Response, ratelimit.GitHub, c.now(), SecondaryFallback), werr)
	case errors.As(err, &abuse):
		return errclass.AsRateLimited(ratelimit.RetryDelay(abuse.Response, ratelimit.GitHub, c.now(), SecondaryFallback), werr)
	case errors.As(err, &er) && er.Response != nil:
		hr = er.Response
	case errors.As(err, &appErr):
		if appErr.Response != nil && appErr.Response.StatusCode >= 400 && appErr.Response.StatusCode < 500 {
			return errclass.AsPermanent(fmt.Errorf("github: %s: GitHub refused the App installation token (check IDSYNC_GITHUB_APP_ID, IDSYNC_GITHUB_INSTALLATION_ID and the private key): %w", op, err))
		}
		return errclass.AsRetryable(werr)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), hr == nil:
		return errclass.AsRetryable(werr)
	}
	switch s := hr.StatusCode; {
	case s == http.StatusNotFound:
		return errclass.AsNotFound(werr)
	case s == http.StatusTooManyRequests,
		s == http.StatusForbidden && (hr.Header.Get("Retry-After") != "" || hr.Header.Get("X-RateLimit-Remaining") == "0"):
		return errclass.AsRateLimited(ratelimit.RetryDelay(hr, ratelimit.GitHub, c.now(), SecondaryFallback), werr)
	case s >= 500, s == http.StatusRequestTimeout:
		return errclass.AsRetryable(werr)
	case s >= 400:
		return errclass.AsPermanent(werr)
	}
	return errclass.AsRetryable(werr)
}
