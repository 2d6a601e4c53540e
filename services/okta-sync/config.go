// Package oktasync is the okta-sync service: it keeps users in the Okta
// groups the rules name for their Console access (console.update.user.permission)
// and creates the Okta groups of new Console projects (console.create.project).
package oktasync

import (
	"errors"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc"
	"github.com/idsync/idsync/services/okta-sync/internal/okta"
)

// Name is the service's and its durable consumer's name.
const Name = "okta-sync"

// Provider is the provider okta-sync acts on.
const Provider = events.ProviderOkta

// Config is okta-sync's configuration.
type Config struct {
	Sync syncsvc.Config
	Okta okta.Config
}

// Validate reports every problem, one error each.
func (c Config) Validate() error { return errors.Join(c.Sync.Validate(), c.Okta.Validate()) }

// OktaConfig is the Okta part of the configuration, for processes that run
// okta-sync next to other services (the all-in-one).
type OktaConfig = okta.Config
