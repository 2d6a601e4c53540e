// Package oktasync is the okta-sync service: it keeps users in the Okta
// groups the rules name for their Console access (console.update.user.permission)
// and creates the Okta groups of new Console projects (console.create.project).
package oktasync

import (
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// Name is the service's and its durable consumer's name.
const Name = "okta-sync"

// Provider is the provider okta-sync acts on.
const Provider = events.ProviderOkta

// Config is okta-sync's configuration. The Okta credentials it writes with
// are the shared sync settings' (Sync.Okta, IDSYNC_OKTA_*): every sync
// consumer reads Okta users as a source of truth, and one process (the
// all-in-one) cannot register the same variables twice.
type Config struct {
	Sync syncsvc.Config
}

// Validate reports every problem, one error each.
func (c Config) Validate() error { return c.Sync.Validate() }

// OktaConfig is the Okta part of the configuration.
type OktaConfig = okta.Config
