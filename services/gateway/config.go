// Package gateway is idsync's thin HTTP edge: it authenticates Okta event
// hooks, Okta's registration inline hook and Mia-Platform Console webhooks,
// validates them against their schemas, maps them to canonical events and
// publishes them to NATS JetStream, answering 2xx only after JetStream has
// acknowledged. It never calls a provider API.
package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/service"
)

// Config is the gateway's configuration; see the README's table.
type Config struct {
	service.Base
	Hook HookConfig
}

// HookConfig is what the webhook endpoints need.
type HookConfig struct {
	OktaSecrets    config.Secrets `env:"IDSYNC_OKTA_HOOK_SECRET" help:"secret(s) Okta sends in the hook's authorization header; comma-separated during rotation"`
	OktaAuthHeader string         `env:"IDSYNC_OKTA_AUTH_HEADER" default:"Authorization" help:"header the Okta hooks carry the secret in"`
	ConsoleSecrets config.Secrets `env:"IDSYNC_CONSOLE_WEBHOOK_SECRET" help:"Console webhook secret(s); comma-separated during rotation"`
	// AllowedDomains answer the registration inline hook (the rules file's
	// okta.verify.email allowedDomains, when rules are configured).
	AllowedDomains    []string `env:"IDSYNC_ALLOWED_EMAIL_DOMAINS" help:"email domains allowed to register through Okta (example.com, *.example.com)"`
	DeactivateDeletes bool     `env:"IDSYNC_OKTA_DEACTIVATE_DELETES" default:"false" help:"treat Okta user.lifecycle.deactivate as okta.delete.user"`
	ForwardEventTypes []string `env:"IDSYNC_OKTA_FORWARD_EVENT_TYPES" help:"other Okta event types to publish for internal systems (* = all in the catalog)"`

	MaxBodyBytes   config.ByteSize `env:"IDSYNC_MAX_BODY_BYTES" default:"1MiB" help:"largest webhook body accepted (413 above)"`
	RawMaxBytes    config.ByteSize `env:"IDSYNC_RAW_PAYLOAD_MAX_BYTES" default:"64KiB" help:"how much of each source payload is kept with the event for audit"`
	PublishTimeout time.Duration   `env:"IDSYNC_PUBLISH_TIMEOUT" default:"2s" help:"how long to wait for JetStream's acknowledgement before answering 503 (Okta gives up after 3s)"`
	RetryAfter     time.Duration   `env:"IDSYNC_RETRY_AFTER" default:"5s" help:"Retry-After sent with 503"`
	VerifyQueue    int             `env:"IDSYNC_VERIFY_QUEUE_SIZE" default:"10000" help:"okta.verify.email events waiting to be published (the inline hook never waits for the bus)"`
}

// Validate reports every problem, one error each, naming the variable.
func (c Config) Validate(requireSecrets bool) error {
	return errors.Join(c.Base.Validate(), c.Hook.Validate(requireSecrets))
}

// Validate checks the hook settings. Secrets are required unless the caller
// (the all-in-one) generates them.
func (c HookConfig) Validate(requireSecrets bool) error {
	var errs []error
	if requireSecrets && len(c.OktaSecrets) == 0 {
		errs = append(errs, errors.New("IDSYNC_OKTA_HOOK_SECRET: required (the secret configured on the Okta hooks); authentication fails closed"))
	}
	if requireSecrets && len(c.ConsoleSecrets) == 0 {
		errs = append(errs, errors.New("IDSYNC_CONSOLE_WEBHOOK_SECRET: required (the secret configured on the Console webhook); authentication fails closed"))
	}
	for env, ss := range map[string]config.Secrets{"IDSYNC_OKTA_HOOK_SECRET": c.OktaSecrets, "IDSYNC_CONSOLE_WEBHOOK_SECRET": c.ConsoleSecrets} {
		if len(ss) > 2 {
			errs = append(errs, fmt.Errorf("%s: %d secrets given, at most 2 (the current and the next) during rotation", env, len(ss)))
		}
		for _, s := range ss {
			if len(s.Reveal()) < 16 {
				errs = append(errs, fmt.Errorf("%s: a secret shorter than 16 characters is too easy to guess", env))
				break
			}
		}
	}
	if strings.TrimSpace(c.OktaAuthHeader) == "" {
		errs = append(errs, errors.New("IDSYNC_OKTA_AUTH_HEADER: must name a header"))
	}
	if err := oktahook.Domains(c.AllowedDomains).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("IDSYNC_ALLOWED_EMAIL_DOMAINS: %w", err))
	}
	if err := (oktahook.Routing{Forward: c.ForwardEventTypes}).Validate(events.Default()); err != nil {
		errs = append(errs, err)
	}
	if c.MaxBodyBytes < 1<<10 || c.MaxBodyBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("IDSYNC_MAX_BODY_BYTES: %s, want 1KiB to 64MiB", c.MaxBodyBytes))
	}
	if c.RawMaxBytes < 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_RAW_PAYLOAD_MAX_BYTES: %s, want 0 or more", c.RawMaxBytes))
	}
	if c.PublishTimeout < 100*time.Millisecond || c.PublishTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("IDSYNC_PUBLISH_TIMEOUT: %s, want 100ms to 1m", c.PublishTimeout))
	}
	if c.RetryAfter < time.Second {
		errs = append(errs, fmt.Errorf("IDSYNC_RETRY_AFTER: %s, want at least 1s", c.RetryAfter))
	}
	if c.VerifyQueue < 1 {
		errs = append(errs, fmt.Errorf("IDSYNC_VERIFY_QUEUE_SIZE: %d, want at least 1", c.VerifyQueue))
	}
	return errors.Join(errs...)
}

// LogAttrs describes the configuration for the start-up log line, secrets
// redacted by their types.
func (c Config) LogAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("http_addr", c.HTTP.Addr),
		slog.String("namespace", c.Namespace),
		slog.Int("okta_secrets", len(c.Hook.OktaSecrets)),
		slog.Int("console_secrets", len(c.Hook.ConsoleSecrets)),
		slog.Int("allowed_domains", len(c.Hook.AllowedDomains)),
		slog.Bool("okta_deactivate_deletes", c.Hook.DeactivateDeletes),
		slog.Int("okta_forwarded_types", len(c.Hook.ForwardEventTypes)),
	}
}
