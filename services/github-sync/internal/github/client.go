// Package github is github-sync's adapter over go-github v92: the calls
// github-sync makes for organization and team membership and invitations,
// authenticated with a token or as a GitHub App installation
// (ghinstallation), paced by the rate-limit transport (pkg/ratelimit), with
// every error classified (pkg/errclass) so that callers act on the class.
// go-github takes a new major about every month; keeping its use in this
// package makes a bump touch one place.
package github

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v92/github"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/callcount"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/ratelimit"
)

// Options say how to reach GitHub.
type Options struct {
	// APIURL is the REST API root: https://api.github.com/ or, for GitHub
	// Enterprise Server, https://HOST/api/v3/.
	APIURL string
	// Token authenticates as a user or with a fine-grained token…
	Token string
	// …or AppID, InstallationID and PrivateKey (PEM) as a GitHub App
	// installation, with tokens minted and renewed by ghinstallation.
	AppID, InstallationID int64
	PrivateKey            []byte
	// Timeout bounds one API call.
	Timeout time.Duration
	// MaxConcurrency bounds the calls in flight (0: unbounded).
	MaxConcurrency int
	// Transport is the network transport (nil: ratelimit.PooledTransport).
	Transport http.RoundTripper
	// Registerer receives the rate-limit metrics (nil: none kept).
	Registerer prometheus.Registerer
}

// Client calls GitHub.
type Client struct {
	gh   *gh.Client
	now  func() time.Time
	page int
}

// New returns a client; exactly one of Token and the App settings must be given.
func New(o Options) (*Client, error) {
	base := o.Transport
	if base == nil {
		// Not http.DefaultTransport: it keeps 2 idle connections per
		// host, so with the workers' calls in flight most calls dialled
		// a new connection (goroutine dumps at 50 ms per call: up to a
		// third of the workers waiting in Transport.getConn).
		base = ratelimit.PooledTransport()
	}
	base = callcount.Transport(events.ProviderGitHub, base)
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	apiURL := strings.TrimRight(o.APIURL, "/") + "/"
	opts := []gh.ClientOptionsFunc{
		gh.WithURLs(&apiURL, &apiURL),
		gh.WithTimeout(o.Timeout),
		gh.WithUserAgent("idsync-github-sync"),
		// Our transport paces from the headers and the consumer schedules
		// the retry: go-github's own local block would only hide the delay.
		gh.WithDisableRateLimitCheck(),
	}
	switch {
	case o.Token != "" && o.AppID == 0:
		opts = append(opts, gh.WithTransport(ratelimit.New(base, ratelimit.GitHub, "github", reg, ratelimit.MaxInFlight(o.MaxConcurrency))), gh.WithAuthToken(o.Token))
	case o.Token == "" && o.AppID != 0:
		itr, err := ghinstallation.New(base, o.AppID, o.InstallationID, o.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("github.New: GitHub App private key: %w", err)
		}
		itr.BaseURL = strings.TrimRight(apiURL, "/")
		opts = append(opts, gh.WithTransport(ratelimit.New(itr, ratelimit.GitHub, "github", reg, ratelimit.MaxInFlight(o.MaxConcurrency))))
	default:
		return nil, errors.New("github.New: give a token or a GitHub App (app id, installation id, private key), not both")
	}
	c, err := gh.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github.New: %w", err)
	}
	return &Client{gh: c, now: time.Now, page: 100}, nil
}

// SetPageSize sets how many items a listing page asks for (default 100).
func (c *Client) SetPageSize(n int) {
	if n > 0 {
		c.page = n
	}
}

// Membership is an organization or team membership. A pending one (invited,
// not accepted yet) counts as a membership: the grant is in progress.
type Membership struct {
	Role  string
	State string
}

// Invitation is a pending organization invitation.
type Invitation struct {
	ID           int64
	Email, Login string
	// Role is the invitation's role: direct_member or admin.
	Role    string
	TeamIDs []int64
	// TeamSlugs are the slugs of TeamIDs, in the same order (filled by
	// OrgInvitations).
	TeamSlugs []string
}

// Invitation roles.
const (
	InviteMember = "direct_member"
	InviteAdmin  = "admin"
)
