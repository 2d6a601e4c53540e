package idsync

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktahook"
	oktabackfill "github.com/idsync/idsync/services/okta-backfill"
)

// startBackfill wires the Okta System Log backfill when Okta's API is
// configured (the demo configures its fake), on its own in-process
// connection, with the gateway's routing so that both paths publish the
// same events. It returns nil, nil when there is no Okta to read.
func startBackfill(ctx context.Context, cfg Config, log *slog.Logger, reg prometheus.Registerer, natsOpts []nats.Option) (func(context.Context) error, *bus.Conn, error) {
	if !cfg.Sync.Okta.Configured() {
		log.Info("no Okta API credentials: the System Log backfill is off (events the hooks miss are not recovered)")
		return nil, nil, nil
	}
	conn, err := bus.Connect(cfg.Gateway.NATS, oktabackfill.Name, log, reg, natsOpts...)
	if err != nil {
		return nil, nil, err
	}
	hook := cfg.Gateway.Hook
	bf, err := oktabackfill.Start(ctx, oktabackfill.Params{
		Okta: cfg.Sync.Okta, Backfill: cfg.Backfill,
		Routing: oktahook.Routing{DeactivateDeletes: hook.DeactivateDeletes, Forward: hook.ForwardEventTypes},
		RawMax:  int(hook.RawMaxBytes), PublishTimeout: hook.PublishTimeout,
		NS: events.Namespace(cfg.Gateway.Namespace), Replicas: cfg.Gateway.Streams.Replicas,
		Conn: conn, Log: log, Reg: reg,
	})
	if err != nil {
		return nil, conn, err
	}
	return bf.Run, conn, nil
}
