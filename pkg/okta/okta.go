// Package okta adapts the Okta SDK (github.com/okta/okta-sdk-golang/v6) to
// what idsync needs: users by login, groups by name, group creation and
// memberships. Every error is classified (pkg/errclass) from the HTTP status
// and Okta's rate-limit headers; calls are paced from those headers.
package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/okta/okta-sdk-golang/v6/okta"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/idsync/idsync/pkg/callcount"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/ratelimit"
)

// Config says how to reach the Okta org.
type Config struct {
	OrgURL         string        `env:"IDSYNC_OKTA_ORG_URL" help:"Okta org URL, e.g. https://example.okta.com"`
	APIToken       config.Secret `env:"IDSYNC_OKTA_API_TOKEN" help:"Okta API token (SSWS); or use the OAuth 2.0 service app below"`
	ClientID       string        `env:"IDSYNC_OKTA_CLIENT_ID" help:"Okta OAuth 2.0 service app client id (private key JWT)"`
	PrivateKeyFile string        `env:"IDSYNC_OKTA_PRIVATE_KEY_FILE" help:"PEM private key of the OAuth 2.0 service app"`
	PrivateKeyID   string        `env:"IDSYNC_OKTA_PRIVATE_KEY_ID" help:"key id (kid) of that private key"`
	Timeout        time.Duration `env:"IDSYNC_OKTA_TIMEOUT" default:"10s" help:"timeout of one Okta API call"`
	// Okta limits concurrent requests per org (75 on Workforce orgs,
	// shared with every other integration) and answers one over the limit
	// with a 429 that stops calls until its reset.
	MaxConcurrency int `env:"IDSYNC_OKTA_MAX_CONCURRENCY" default:"50" help:"Okta API calls in flight per replica (Okta's per-org concurrency limit is 75, shared by all integrations); 0 = unbounded"`
}

// Configured reports whether credentials are given.
func (c Config) Configured() bool {
	return c.OrgURL != "" && (c.APIToken != "" || (c.ClientID != "" && c.PrivateKeyFile != ""))
}

// Validate reports every problem, one error each.
func (c Config) Validate() error {
	var errs []error
	if c.OrgURL != "" {
		if u, err := url.Parse(c.OrgURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("IDSYNC_OKTA_ORG_URL: %q is not an http(s) URL", c.OrgURL))
		}
	}
	if c.APIToken != "" && (c.ClientID != "" || c.PrivateKeyFile != "") {
		errs = append(errs, errors.New("IDSYNC_OKTA_API_TOKEN and IDSYNC_OKTA_CLIENT_ID/IDSYNC_OKTA_PRIVATE_KEY_FILE are alternatives: set one"))
	}
	if (c.ClientID == "") != (c.PrivateKeyFile == "") {
		errs = append(errs, errors.New("IDSYNC_OKTA_CLIENT_ID and IDSYNC_OKTA_PRIVATE_KEY_FILE go together"))
	}
	if c.PrivateKeyFile != "" {
		if _, err := os.Stat(c.PrivateKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("IDSYNC_OKTA_PRIVATE_KEY_FILE: %w", err))
		}
	}
	if (c.APIToken != "" || c.ClientID != "") && c.OrgURL == "" {
		errs = append(errs, errors.New("IDSYNC_OKTA_ORG_URL: required with Okta credentials"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_OKTA_TIMEOUT: %s, want more than 0", c.Timeout))
	}
	if c.MaxConcurrency < 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_OKTA_MAX_CONCURRENCY: %d, want 0 (unbounded) or more", c.MaxConcurrency))
	}
	return errors.Join(errs...)
}

// Client is the Okta adapter.
type Client struct {
	api    *okta.APIClient
	pacer  *ratelimit.Transport
	groups sync.Map // name → group id, once found (groups are not renamed by idsync)
	// lookups collapses concurrent searches for the same group name (a
	// burst of events for a new group would otherwise search once each).
	lookups singleflight.Group
}

// Option adjusts New.
type Option func(*options)

type options struct{ scopes []string }

// Scopes replaces the OAuth 2.0 scopes the service app asks for (default:
// okta.users.read and okta.groups.manage, what the sync consumers use). Okta
// refuses a token asking for a scope the app was not granted, so each
// caller asks for what it uses: the System Log backfill okta.logs.read.
func Scopes(scopes ...string) Option { return func(o *options) { o.scopes = scopes } }

// New builds the SDK client. transport is the underlying RoundTripper (nil:
// the default); the pacer wraps it.
func New(cfg Config, transport http.RoundTripper, reg prometheus.Registerer, with ...Option) (*Client, error) {
	o := options{scopes: []string{"okta.users.read", "okta.groups.manage"}}
	for _, opt := range with {
		opt(&o)
	}
	if transport == nil {
		transport = ratelimit.PooledTransport()
	}
	pacer := ratelimit.New(callcount.Transport(events.ProviderOkta, transport), ratelimit.Okta, "okta", reg, ratelimit.MaxInFlight(cfg.MaxConcurrency))
	opts := []okta.ConfigSetter{
		okta.WithOrgUrl(cfg.OrgURL),
		// GETs cached for minutes would hide the changes idsync makes.
		okta.WithCache(false),
		okta.WithHttpClientPtr(&http.Client{Transport: pacer, Timeout: cfg.Timeout}),
		// The consumer runtime retries with the delay Okta asks for.
		okta.WithRateLimitMaxRetries(0),
	}
	if cfg.APIToken != "" {
		opts = append(opts, okta.WithToken(cfg.APIToken.Reveal()))
	} else {
		pem, err := os.ReadFile(cfg.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("IDSYNC_OKTA_PRIVATE_KEY_FILE: %w", err)
		}
		opts = append(opts, okta.WithAuthorizationMode("PrivateKey"), okta.WithClientId(cfg.ClientID),
			okta.WithScopes(o.scopes), okta.WithPrivateKey(string(pem)))
		if cfg.PrivateKeyID != "" {
			opts = append(opts, okta.WithPrivateKeyId(cfg.PrivateKeyID))
		}
	}
	conf, err := okta.NewConfiguration(opts...)
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	// NewConfiguration keeps only the host name: put the port back.
	if u, err := url.Parse(cfg.OrgURL); err == nil {
		conf.Host, conf.Scheme = u.Host, u.Scheme
	}
	return &Client{api: okta.NewAPIClient(conf), pacer: pacer}, nil
}

// classify turns an SDK error into an errclass error. The SDK swallows a
// 429 response (it returns only "too many requests"), but the pacer saw its
// headers: when the pacer says wait, that is the delay.
func (c *Client) classify(op string, resp *okta.APIResponse, err error) error {
	if err == nil {
		return nil
	}
	if d, ok := ratelimit.AsWait(err); ok {
		return errclass.AsRateLimited(d, err)
	}
	e := fmt.Errorf("okta %s: %w", op, err)
	if resp == nil || resp.Response == nil {
		if werr := c.pacer.Check(); werr != nil {
			d, _ := ratelimit.AsWait(werr)
			return errclass.AsRateLimited(d, e)
		}
		return errclass.AsRetryable(e)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		return errclass.AsRateLimited(ratelimit.RetryDelay(resp.Response, ratelimit.Okta, time.Now(), 30*time.Second), e)
	case s == http.StatusNotFound:
		return errclass.AsNotFound(e)
	case s >= 500:
		return errclass.AsRetryable(e)
	default:
		return errclass.AsPermanent(fmt.Errorf("%w (HTTP %s)", e, strconv.Itoa(s)))
	}
}

// UserID finds a user by login (or id). found is false for an unknown user.
func (c *Client) UserID(ctx context.Context, login string) (string, bool, error) {
	if err := c.pacer.Check(); err != nil {
		return "", false, c.classify("get user", nil, err)
	}
	u, resp, err := c.api.UserAPI.GetUser(ctx, login).Execute()
	if err := c.classify("get user", resp, err); err != nil {
		if errclass.Of(err) == errclass.NotFound {
			return "", false, nil
		}
		return "", false, err
	}
	return u.GetId(), true, nil
}

// GroupID finds an OKTA_GROUP by exact name; found is false when none exists.
func (c *Client) GroupID(ctx context.Context, name string) (string, bool, error) {
	if id, ok := c.groups.Load(name); ok {
		return id.(string), true, nil
	}
	v, err, _ := c.lookups.Do(name, func() (any, error) {
		id, found, err := c.searchGroup(ctx, name)
		return groupResult{id, found}, err
	})
	if err != nil {
		return "", false, err
	}
	r := v.(groupResult)
	return r.id, r.found, nil
}

type groupResult struct {
	id    string
	found bool
}

func (c *Client) searchGroup(ctx context.Context, name string) (string, bool, error) {
	id := ""
	// search= is exact (q= would be a prefix match, and unpaged).
	err := pages(ctx, c, "list groups", func(after string) ([]okta.Group, *okta.APIResponse, error) {
		req := c.api.GroupAPI.ListGroups(ctx).Search(fmt.Sprintf("profile.name eq %q", name)).Limit(200)
		if after != "" {
			req = req.After(after)
		}
		return req.Execute()
	}, func(g okta.Group) bool {
		if groupName(g) == name {
			id = g.GetId()
		}
		return id == ""
	})
	if err != nil || id == "" {
		return "", false, err
	}
	c.groups.Store(name, id)
	return id, true, nil
}

// CreateGroup creates an OKTA_GROUP.
func (c *Client) CreateGroup(ctx context.Context, name, description string) (string, error) {
	if err := c.pacer.Check(); err != nil {
		return "", c.classify("create group", nil, err)
	}
	profile := okta.OktaUserGroupProfile{Name: &name, Description: &description}
	req := okta.AddGroupRequest{Profile: &profile}
	g, resp, err := c.api.GroupAPI.AddGroup(ctx).Group(req).Execute()
	if err := c.classify("create group", resp, err); err != nil {
		return "", err
	}
	c.groups.Store(name, g.GetId())
	return g.GetId(), nil
}

// IsMember reports whether the user is in the group, reading the user's
// groups page by page. (The SDK's request for a user's groups takes no
// cursor, so its follow-up pages go through the SDK's Next.)
func (c *Client) IsMember(ctx context.Context, groupID, userID string) (bool, error) {
	if err := c.pacer.Check(); err != nil {
		return false, c.classify("list user groups", nil, err)
	}
	groups, resp, err := c.api.UserResourcesAPI.ListUserGroups(ctx, userID).Execute()
	for {
		if err := c.classify("list user groups", resp, err); err != nil {
			return false, err
		}
		for _, g := range groups {
			if g.GetId() == groupID {
				return true, nil
			}
		}
		if resp == nil || !resp.HasNextPage() {
			return false, nil
		}
		groups = nil
		resp, err = resp.Next(&groups)
	}
}

// AddMember assigns the user to the group (idempotent at Okta).
func (c *Client) AddMember(ctx context.Context, groupID, userID string) error {
	if err := c.pacer.Check(); err != nil {
		return c.classify("assign user to group", nil, err)
	}
	resp, err := c.api.GroupAPI.AssignUserToGroup(ctx, groupID, userID).Execute()
	return c.classify("assign user to group", resp, err)
}

// RemoveMember unassigns the user from the group.
func (c *Client) RemoveMember(ctx context.Context, groupID, userID string) error {
	if err := c.pacer.Check(); err != nil {
		return c.classify("unassign user from group", nil, err)
	}
	resp, err := c.api.GroupAPI.UnassignUserFromGroup(ctx, groupID, userID).Execute()
	return c.classify("unassign user from group", resp, err)
}

// groupName reads a group's name whichever profile variant the SDK decoded
// it into (its anyOf decoder tries the Active Directory profile first, which
// also matches an Okta group's {name, description}).
func groupName(g okta.Group) string {
	p := g.GetProfile()
	switch {
	case p.OktaUserGroupProfile != nil:
		return p.OktaUserGroupProfile.GetName()
	case p.OktaActiveDirectoryGroupProfile != nil:
		return p.OktaActiveDirectoryGroupProfile.GetName()
	}
	return ""
}
