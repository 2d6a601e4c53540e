// Package idsync is the all-in-one program and the operator CLI: `idsync run`
// starts the whole system in one process on an embedded NATS JetStream server
// (store in the data directory), serving the gateway on one port.
package idsync

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/idsync/idsync/pkg/oktalog"
	"github.com/idsync/idsync/pkg/syncsvc"
	"github.com/idsync/idsync/services/eventlog"
	"github.com/idsync/idsync/services/gateway"
	githubsync "github.com/idsync/idsync/services/github-sync"
	gitlabsync "github.com/idsync/idsync/services/gitlab-sync"
)

// Config is the all-in-one's configuration: the gateway's, plus where the
// embedded NATS keeps its data and listens.
type Config struct {
	Gateway gateway.Config
	// Sync is what the four sync consumers share (the Console's and Okta's
	// credentials included: every consumer reads both as sources of
	// truth); GitLab and GitHub their own credentials.
	Sync   syncsvc.Settings
	GitLab gitlabsync.GitLabConfig
	GitHub githubsync.GitHubConfig
	// EventLog is the event log's store, API users and retention.
	EventLog eventlog.Settings
	// Backfill reads the Okta System Log for what the hooks missed; it
	// runs when Sync.Okta is configured (its routing is the gateway's).
	Backfill oktalog.Config
	DataDir  string `env:"IDSYNC_DATA_DIR" default:"./data" help:"embedded JetStream store, SQLite event log and generated secrets"`
	// NATSListen is where the embedded server also accepts other systems
	// (the nats CLI, internal publishers and subscribers).
	NATSListen string `env:"IDSYNC_NATS_LISTEN" default:"127.0.0.1:4222" help:"where the embedded NATS listens for other systems; off = in-process only"`
	// Demo starts in-process fakes of the four providers with a small
	// organisation and points the sync consumers at them.
	Demo bool `env:"IDSYNC_DEMO" default:"false" help:"run against built-in fakes of Okta, GitLab, GitHub and the Console (try the whole flow without credentials)"`
}

// DefaultNATSListen is the default of IDSYNC_NATS_LISTEN.
const DefaultNATSListen = "127.0.0.1:4222"

// Validate reports every problem, one error each. Secrets are optional: the
// all-in-one generates them.
func (c Config) Validate() error {
	errs := []error{c.Gateway.Validate(false), c.Sync.Validate(), c.GitHub.Validate(), c.GitLab.Validate(), c.EventLog.Validate(), c.Backfill.Validate()}
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("IDSYNC_DATA_DIR: required"))
	}
	if c.NATSListen != "off" {
		if _, _, err := net.SplitHostPort(c.NATSListen); err != nil {
			errs = append(errs, fmt.Errorf("IDSYNC_NATS_LISTEN: %q is not host:port or off", c.NATSListen))
		}
	}
	if c.Gateway.NATS.URL != "" {
		errs = append(errs, c.Gateway.NATS.Validate(true))
	}
	return errors.Join(errs...)
}
