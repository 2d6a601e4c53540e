// Package oktabackfill is the okta-backfill service: it reads the Okta
// System Log for the events the event hooks did not deliver and publishes
// them exactly as the gateway does (pkg/oktalog). It is its own service,
// not part of the gateway, because the gateway never calls a provider's
// API (design §1): it stays a thin, stateless edge.
package oktabackfill

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/oktalog"
	"github.com/idsync/idsync/pkg/service"
)

// Name is the service's name (NATS client, logs, metrics).
const Name = "okta-backfill"

// Config is okta-backfill's configuration; see the README's table.
type Config struct {
	service.Base
	Okta     okta.Config
	Backfill oktalog.Config
	Publish  PublishConfig
}

// PublishConfig is how events are published: the gateway's variables, with
// the gateway's defaults, so that both paths publish the same event.
type PublishConfig struct {
	DeactivateDeletes bool            `env:"IDSYNC_OKTA_DEACTIVATE_DELETES" default:"false" help:"treat Okta user.lifecycle.deactivate as okta.delete.user"`
	ForwardEventTypes []string        `env:"IDSYNC_OKTA_FORWARD_EVENT_TYPES" help:"other Okta event types to publish for internal systems (* = all in the catalog)"`
	RawMaxBytes       config.ByteSize `env:"IDSYNC_RAW_PAYLOAD_MAX_BYTES" default:"64KiB" help:"how much of each source payload is kept with the event for audit"`
	PublishTimeout    time.Duration   `env:"IDSYNC_PUBLISH_TIMEOUT" default:"2s" help:"how long to wait for JetStream's acknowledgement before answering 503 (Okta gives up after 3s)"`
}

// Routing is the gateway's routing of Okta event types.
func (p PublishConfig) Routing() oktahook.Routing {
	return oktahook.Routing{DeactivateDeletes: p.DeactivateDeletes, Forward: p.ForwardEventTypes}
}

// Validate reports every problem, one error each.
func (p PublishConfig) Validate() error {
	var errs []error
	if err := p.Routing().Validate(events.Default()); err != nil {
		errs = append(errs, err)
	}
	if p.RawMaxBytes < 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_RAW_PAYLOAD_MAX_BYTES: %s, want 0 or more", p.RawMaxBytes))
	}
	if p.PublishTimeout < 100*time.Millisecond || p.PublishTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("IDSYNC_PUBLISH_TIMEOUT: %s, want 100ms to 1m", p.PublishTimeout))
	}
	return errors.Join(errs...)
}

// Validate reports every problem, one error each. The Okta credentials are
// required: reading the System Log is all the service does.
func (c Config) Validate() error {
	errs := []error{c.Base.Validate(), c.Okta.Validate(), c.Backfill.Validate(), c.Publish.Validate()}
	if !c.Okta.Configured() {
		errs = append(errs, errors.New("IDSYNC_OKTA_ORG_URL and IDSYNC_OKTA_API_TOKEN (or IDSYNC_OKTA_CLIENT_ID with IDSYNC_OKTA_PRIVATE_KEY_FILE): required, the backfill reads the org's System Log"))
	}
	return errors.Join(errs...)
}

// LogAttrs describe the configuration for the start-up log line; no secret.
func (c Config) LogAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("namespace", c.Namespace),
		slog.String("okta_org_url", c.Okta.OrgURL),
		slog.Duration("interval", c.Backfill.Interval),
		slog.Duration("lookback", c.Backfill.Lookback),
		slog.Duration("settle", c.Backfill.Settle),
		slog.Duration("overlap", c.Backfill.Overlap),
		slog.Bool("okta_deactivate_deletes", c.Publish.DeactivateDeletes),
		slog.Int("okta_forwarded_types", len(c.Publish.ForwardEventTypes)),
	}
}
