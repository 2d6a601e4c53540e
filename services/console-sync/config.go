// Package consolesync is the console-sync service: it adds users created in
// Okta to the Console companies the rules name, with the rule's role, and
// removes users deleted in Okta from them (groups included).
package consolesync

import (
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// Name is the service's and its durable consumer's name.
const Name = "console-sync"

// Config is console-sync's configuration: the shared sync settings, whose
// IDSYNC_CONSOLE_* credentials are also the ones console-sync writes with.
type Config struct {
	Sync syncsvc.Config
}

// Validate reports every problem, one error each.
func (c Config) Validate() error { return c.Sync.Validate() }

// Provider is the provider console-sync acts on.
const Provider = events.ProviderConsole
