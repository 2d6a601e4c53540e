// Package gitlab is gitlab-sync's adapter over GitLab's REST API v4 through
// gitlab.com/gitlab-org/api/client-go/v2: finding, creating and moderating
// users, and reading and changing direct group memberships. Every error it
// returns carries an errclass class: 404 NotFound, 429 RateLimited with
// GitLab's delay, 5xx and transport failures Retryable, other 4xx Permanent.
//
// Requests are paced by pkg/ratelimit from GitLab's RateLimit-* headers;
// client-go's own retries and limiter are off, so a refused or rate-limited
// call becomes a delayed redelivery of the message instead of a sleep.
package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/idsync/idsync/pkg/callcount"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/ratelimit"
)

// Options say how to reach GitLab.
type Options struct {
	// URL is the instance's base URL (e.g. https://gitlab.example.com);
	// client-go appends /api/v4.
	URL string
	// Token is a personal, group or service-account access token of an
	// administrator (creating and moderating users needs admin).
	Token string
	// Timeout bounds one HTTP call.
	Timeout time.Duration
	// MaxConcurrency bounds the calls in flight (0: unbounded).
	MaxConcurrency int
	// Transport is the underlying RoundTripper (nil: a clone of
	// http.DefaultTransport keeping more idle connections).
	Transport http.RoundTripper
	// Registerer receives the rate-limit metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// Client calls GitLab.
type Client struct {
	gl *gl.Client
}

// New returns a client; it makes no request.
func New(o Options) (*Client, error) {
	if o.URL == "" || o.Token == "" {
		return nil, errors.New("gitlab.New: URL and token are required")
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	base := o.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// The consumer's workers call one host concurrently; the default
		// (2 idle connections per host) would reconnect on most calls.
		t.MaxIdleConnsPerHost = maxIdleConns
		base = t
	}
	hc := &http.Client{Transport: ratelimit.New(callcount.Transport(events.ProviderGitLab, base), ratelimit.GitLab, "gitlab", reg, ratelimit.MaxInFlight(o.MaxConcurrency)), Timeout: o.Timeout}
	c, err := gl.NewClient(o.Token,
		gl.WithBaseURL(o.URL),
		gl.WithHTTPClient(hc),
		// The consumer retries with GitLab's own delay; client-go's retries
		// ignore Retry-After and would hold a worker for seconds.
		gl.WithoutRetries(),
		// ratelimit paces from every response; client-go's limiter would be
		// configured once, from the first response, and then sleep.
		gl.WithCustomLimiter(unlimited{}),
	)
	if err != nil {
		return nil, fmt.Errorf("gitlab.New: %w", err)
	}
	return &Client{gl: c}, nil
}

// maxIdleConns is how many connections to GitLab are kept open for reuse.
const maxIdleConns = 64

type unlimited struct{}

func (unlimited) Wait(context.Context) error { return nil }
