// Package githubsync is the github-sync service: it keeps GitHub
// organization and team memberships in line with the rules when a Console
// user's permissions change (inviting by email people whose login is not
// known yet), and removes users deleted in Okta from the organizations,
// cancelling their pending invitations. Logins are resolved through the
// identity map (pkg/identity) in the IDENTITIES KV bucket.
package githubsync

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// Name is the service's and its durable consumer's name.
const Name = "github-sync"

// Provider is the provider github-sync acts on.
const Provider = events.ProviderGitHub

// Config is github-sync's configuration.
type Config struct {
	Sync   syncsvc.Config
	GitHub GitHubConfig
}

// Validate reports every problem, one error each.
func (c Config) Validate() error { return errors.Join(c.Sync.Validate(), c.GitHub.Validate()) }

// GitHubConfig says how to reach GitHub. Authenticate either with a token or
// as a GitHub App installation (preferred: higher rate limits, not tied to
// a person; it needs the organization permission Members: read & write).
type GitHubConfig struct {
	// The REST API root; GitHub Enterprise Server serves it under /api/v3/.
	APIURL string `env:"IDSYNC_GITHUB_API_URL" default:"https://api.github.com/" help:"GitHub REST API root (GitHub Enterprise Server: https://HOST/api/v3/)"`
	// A classic token of an organization owner (admin:org) or a fine-grained
	// token with Members: read & write.
	Token config.Secret `env:"IDSYNC_GITHUB_TOKEN" help:"GitHub token (alternative to the GitHub App settings)"`
	// The three App settings go together.
	AppID          int64  `env:"IDSYNC_GITHUB_APP_ID" help:"GitHub App id (with IDSYNC_GITHUB_INSTALLATION_ID and IDSYNC_GITHUB_PRIVATE_KEY_FILE)"`
	InstallationID int64  `env:"IDSYNC_GITHUB_INSTALLATION_ID" help:"the App's installation id on the organization"`
	PrivateKeyFile string `env:"IDSYNC_GITHUB_PRIVATE_KEY_FILE" help:"PEM file of the App's private key"`
	// Loaded into the identity map at every start (upsert).
	IdentityFile string `env:"IDSYNC_GITHUB_IDENTITY_FILE" help:"email→login mapping file (CSV email,login or YAML list of {email, login}) loaded into the identity map at start"`
	// One call; the consumer's ack wait covers several.
	Timeout time.Duration `env:"IDSYNC_GITHUB_TIMEOUT" default:"10s" help:"timeout of one GitHub API call"`
	// GitHub's secondary rate limit allows no more than 100 concurrent
	// requests; going over it blocks the integration for a minute or more.
	MaxConcurrency int `env:"IDSYNC_GITHUB_MAX_CONCURRENCY" default:"50" help:"GitHub API calls in flight per replica (GitHub allows 100 concurrent requests per integration); 0 = unbounded"`
}

// usesApp reports whether any App setting is given.
func (c GitHubConfig) usesApp() bool {
	return c.AppID != 0 || c.InstallationID != 0 || c.PrivateKeyFile != ""
}

// Configured reports whether an authentication method is set (otherwise
// github-sync runs in dry-run).
func (c GitHubConfig) Configured() bool {
	return c.Token != "" || (c.AppID != 0 && c.InstallationID != 0 && c.PrivateKeyFile != "")
}

// Validate reports every problem, one error each.
func (c GitHubConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("IDSYNC_GITHUB_API_URL: %q is not an http(s) URL", c.APIURL))
	}
	if c.Token != "" && c.usesApp() {
		errs = append(errs, errors.New("IDSYNC_GITHUB_TOKEN and IDSYNC_GITHUB_APP_ID/_INSTALLATION_ID/_PRIVATE_KEY_FILE are alternatives: set one authentication method"))
	}
	if c.usesApp() {
		if c.AppID <= 0 {
			errs = append(errs, fmt.Errorf("IDSYNC_GITHUB_APP_ID: %d, want the App's id (goes with IDSYNC_GITHUB_INSTALLATION_ID and IDSYNC_GITHUB_PRIVATE_KEY_FILE)", c.AppID))
		}
		if c.InstallationID <= 0 {
			errs = append(errs, fmt.Errorf("IDSYNC_GITHUB_INSTALLATION_ID: %d, want the App's installation id", c.InstallationID))
		}
		if c.PrivateKeyFile == "" {
			errs = append(errs, errors.New("IDSYNC_GITHUB_PRIVATE_KEY_FILE: required with IDSYNC_GITHUB_APP_ID"))
		} else if _, err := os.Stat(c.PrivateKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("IDSYNC_GITHUB_PRIVATE_KEY_FILE: %w", err))
		}
	}
	if c.IdentityFile != "" {
		if _, err := os.Stat(c.IdentityFile); err != nil {
			errs = append(errs, fmt.Errorf("IDSYNC_GITHUB_IDENTITY_FILE: %w", err))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_GITHUB_TIMEOUT: %s, want more than 0", c.Timeout))
	}
	if c.MaxConcurrency < 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_GITHUB_MAX_CONCURRENCY: %d, want 0 (unbounded) or more", c.MaxConcurrency))
	}
	return errors.Join(errs...)
}
