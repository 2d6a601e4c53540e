package consolesync

import (
	"context"
	"fmt"
	"io"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// Spec describes console-sync for the shared runtime (and the all-in-one).
// dir overrides the Console client (nil: pkg/console from the configuration).
func Spec(cfg Config, dir Directory) syncsvc.Spec {
	return syncsvc.Spec{
		Name: Name, Provider: Provider, Configured: cfg.Sync.Console.Configured(),
		Build: func(d *syncsvc.Deps) (map[string]bus.Handler, error) {
			s := &service{d: d, dir: dir}
			if s.dir == nil && d.Console != nil {
				s.dir = d.Console
			}
			rec := reconciler{s: s, snap: &snapshot{}}
			if d.Okta != nil {
				rec.okta = d.Okta
			}
			d.Reconciler = rec
			return map[string]bus.Handler{
				events.OktaCreateUser: s.oktaCreateUser,
				events.OktaDeleteUser: s.oktaDeleteUser,
			}, nil
		},
	}
}

// Run is console-sync as its own process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg Config
	if _, err := config.Load(&cfg, Name, args, getenv, stderr); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	return syncsvc.Run(ctx, cfg.Sync, Spec(cfg, nil), getenv, stderr)
}
