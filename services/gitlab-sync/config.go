// Package gitlabsync is the gitlab-sync service: it creates (or unblocks)
// GitLab users for new Okta users, keeps GitLab group memberships in line
// with the rules and the users' effective Console access, and offboards
// users deleted in Okta (memberships removed; blocked, deactivated or
// deleted).
package gitlabsync

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// Name is the service's and its durable consumer's name.
const Name = "gitlab-sync"

// Provider is the provider gitlab-sync acts on.
const Provider = events.ProviderGitLab

// Config is gitlab-sync's configuration.
type Config struct {
	Sync   syncsvc.Config
	GitLab GitLabConfig
}

// GitLabConfig says how to reach GitLab.
type GitLabConfig struct {
	// URL is the instance, not the API: client-go appends /api/v4.
	URL string `env:"IDSYNC_GITLAB_URL" help:"GitLab base URL (e.g. https://gitlab.example.com; /api/v4 is added)"`
	// Token must belong to an administrator: creating, blocking and
	// deleting users are admin-only (and not offered on GitLab.com).
	Token config.Secret `env:"IDSYNC_GITLAB_TOKEN" help:"GitLab administrator access token (api scope)"`
	// Timeout bounds one call, well below the consumer's ack wait.
	Timeout time.Duration `env:"IDSYNC_GITLAB_TIMEOUT" default:"10s" help:"timeout of one GitLab API call"`
	// GitLab documents no concurrency limit, but every call holds a Puma
	// worker of a self-managed instance: bound what one replica asks at once.
	MaxConcurrency int `env:"IDSYNC_GITLAB_MAX_CONCURRENCY" default:"64" help:"GitLab API calls in flight per replica; 0 = unbounded"`
}

// Configured reports whether credentials are given; without them
// gitlab-sync runs in dry-run.
func (c GitLabConfig) Configured() bool { return c.URL != "" && c.Token != "" }

// Validate reports every problem, one error each.
func (c GitLabConfig) Validate() error {
	var errs []error
	if (c.URL == "") != (c.Token == "") {
		errs = append(errs, errors.New("IDSYNC_GITLAB_URL and IDSYNC_GITLAB_TOKEN go together"))
	}
	if c.URL != "" {
		if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("IDSYNC_GITLAB_URL: %q is not an http(s) URL", c.URL))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_GITLAB_TIMEOUT: %s, want more than 0", c.Timeout))
	}
	if c.MaxConcurrency < 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_GITLAB_MAX_CONCURRENCY: %d, want 0 (unbounded) or more", c.MaxConcurrency))
	}
	return errors.Join(errs...)
}

// Validate reports every problem, one error each.
func (c Config) Validate() error { return errors.Join(c.Sync.Validate(), c.GitLab.Validate()) }
