package idsync

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/syncsvc"
	consolesync "github.com/idsync/idsync/services/console-sync"
	githubsync "github.com/idsync/idsync/services/github-sync"
	gitlabsync "github.com/idsync/idsync/services/gitlab-sync"
	oktasync "github.com/idsync/idsync/services/okta-sync"
)

// consumerMode describes a running sync consumer for the banner.
type consumerMode struct {
	name   string
	dryRun bool
	why    string
}

// specs lists the sync consumers the all-in-one runs.
func specs(cfg Config) []syncsvc.Spec {
	sc := syncsvc.Config{Base: cfg.Gateway.Base, Settings: cfg.Sync}
	return []syncsvc.Spec{
		consolesync.Spec(consolesync.Config{Sync: sc}, nil),
		oktasync.Spec(oktasync.Config{Sync: sc}, nil),
		githubsync.Spec(githubsync.Config{Sync: sc, GitHub: cfg.GitHub}, nil),
		gitlabsync.Spec(gitlabsync.Config{Sync: sc, GitLab: cfg.GitLab}, nil),
	}
}

// startConsumers wires every sync consumer, each on its own in-process
// connection, and returns the functions that run them.
func startConsumers(ctx context.Context, cfg Config, getenv func(string) string, log *slog.Logger, reg prometheus.Registerer, natsOpts []nats.Option) ([]func(context.Context) error, []*bus.Conn, []consumerMode, error) {
	sc := syncsvc.Config{Base: cfg.Gateway.Base, Settings: cfg.Sync}
	var runs []func(context.Context) error
	var conns []*bus.Conn
	var modes []consumerMode
	for _, spec := range specs(cfg) {
		conn, err := bus.Connect(sc.NATS, spec.Name, log, reg, natsOpts...)
		if err != nil {
			return nil, conns, nil, err
		}
		conns = append(conns, conn)
		run, _, err := syncsvc.Start(ctx, sc, conn, spec, getenv, log, reg)
		if err != nil {
			return nil, conns, nil, err
		}
		runs = append(runs, run)
		m := consumerMode{name: spec.Name, dryRun: sc.DryRun || !spec.Configured}
		switch {
		case sc.DryRun:
			m.why = "IDSYNC_DRY_RUN"
		case !spec.Configured:
			m.why = "no " + spec.Provider + " credentials"
		}
		modes = append(modes, m)
	}
	return runs, conns, modes, nil
}
