// Package provision creates or updates idsync's JetStream topology — the
// three streams and the three KV buckets — and exits. It is the deploy-time
// step of an installation whose services run with
// IDSYNC_NATS_MANAGE_TOPOLOGY=false under users that may not create streams
// (deploy/nats/accounts.conf): run it as the "provisioner" NATS user with the
// same IDSYNC_NAMESPACE and IDSYNC_STREAM_* settings as the services, before
// them and after every upgrade. It is idempotent. The services create or
// update their own durable consumers at start.
//
// The command is deploy/cmd/provision (in every image as idsync-provision);
// docker-compose.yml runs it as the one-shot "nats-provision" service, on
// Kubernetes deploy/k8s/provision-job.yaml.
package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// Config is what provisioning needs: where NATS is, the namespace and the
// stream limits (the services' variables and defaults).
type Config struct {
	NATS      bus.ConnConfig
	Streams   bus.StreamConfig
	Namespace string        `env:"IDSYNC_NAMESPACE" default:"idsync" help:"first token of every subject and prefix of stream names"`
	LogLevel  string        `env:"IDSYNC_LOG_LEVEL" default:"info" help:"debug, info, warn or error"`
	Timeout   time.Duration `env:"IDSYNC_PROVISION_TIMEOUT" default:"5m" help:"how long to wait for NATS before giving up"`
}

// Run provisions the topology configured by args and getenv and returns;
// its log goes to stderr.
func Run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var cfg Config
	if _, err := config.Load(&cfg, "provision", args, getenv, stderr); err != nil {
		return err
	}
	ns := events.Namespace(cfg.Namespace)
	level, lerr := logging.ParseLevel(cfg.LogLevel)
	if err := errors.Join(cfg.NATS.Validate(true), cfg.Streams.Validate(), ns.Validate(), lerr); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := logging.New(stderr, level, "provision")
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	conn, err := bus.Connect(cfg.NATS, "provision", log, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	defer conn.NC.Close()
	if err := bus.WaitStreams(ctx, conn, ns, cfg.Streams, log); err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	for _, b := range bus.Buckets {
		if _, err := bus.KeyValue(ctx, conn.JS, ns, b.Base, cfg.Streams.Replicas); err != nil {
			return err
		}
		log.Info("bucket ready", "bucket", ns.Stream(b.Base))
	}
	return nil
}
