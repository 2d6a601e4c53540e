// Package service holds the configuration every idsync service shares —
// HTTP server, NATS connection, stream limits, namespace, topology
// management and log level — so that a process running several services
// (the all-in-one) reads each variable once.
package service

import (
	"errors"
	"fmt"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/logging"
)

// Base is the shared part of every service's configuration.
type Base struct {
	HTTP      httpserver.Config
	NATS      bus.ConnConfig
	Streams   bus.StreamConfig
	Namespace string `env:"IDSYNC_NAMESPACE" default:"idsync" help:"first token of every subject and prefix of stream names"`
	// ManageTopology lets the service create or update streams, consumers
	// and KV buckets at start; turn it off where an admin identity owns them.
	ManageTopology bool   `env:"IDSYNC_NATS_MANAGE_TOPOLOGY" default:"true" help:"create or update streams and consumers at start"`
	LogLevel       string `env:"IDSYNC_LOG_LEVEL" default:"info" help:"debug, info, warn or error"`
	// RulesFile feeds the sync consumers and the gateway's registration
	// inline hook (the okta.verify.email rules' allowedDomains).
	RulesFile string `env:"IDSYNC_RULES_FILE" help:"rules YAML file (default: the built-in rules reproducing the rule matrix)"`
}

// Validate reports every problem, one error each.
func (b Base) Validate() error {
	errs := []error{b.HTTP.Validate(), b.Streams.Validate()}
	if err := events.Namespace(b.Namespace).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("IDSYNC_NAMESPACE: %w", err))
	}
	if _, err := logging.ParseLevel(b.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("IDSYNC_LOG_LEVEL: %w", err))
	}
	return errors.Join(errs...)
}
