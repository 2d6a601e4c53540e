// Package syncsvc is what every sync consumer service (okta-sync,
// gitlab-sync, github-sync, console-sync) has in common: configuration,
// wiring onto NATS (durable consumer, KV buckets, outcomes, guard, ledger),
// the rules, effective-access reads from the Console, dry-run, and running
// as its own process with /healthz, /readyz and /metrics. A service brings
// its provider adapter and one handler per event.
package syncsvc

import (
	"errors"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/service"
)

// Config is a sync service's configuration: the settings every service
// shares and those every sync consumer shares.
type Config struct {
	service.Base
	Settings
}

// Settings are what the sync consumers share beyond service.Base.
type Settings struct {
	Consumer bus.Settings
	Guard    guard.Config
	Console  console.Config
	// Okta is okta-sync's provider and, for every other sync consumer, a
	// source of truth (who is still an active Okta user, for
	// reconciliation); one set of IDSYNC_OKTA_* variables serves both.
	Okta   okta.Config
	DryRun bool `env:"IDSYNC_DRY_RUN" default:"false" help:"plan and record actions without calling providers (automatic for a provider without credentials)"`
	// Reconcile is the periodic and on-demand reconciliation
	// (IDSYNC_RECONCILE_*); a reconciler reads it as Deps.Reconcile.
	Reconcile reconcile.Config
}

// Validate reports every problem, one error each.
func (c Config) Validate() error {
	return errors.Join(c.Base.Validate(), c.Settings.Validate())
}

// Validate reports every problem, one error each.
func (s Settings) Validate() error {
	return errors.Join(s.Consumer.Validate(), s.Guard.Validate(), s.Console.Validate(), s.Okta.Validate(), s.Reconcile.Validate())
}
