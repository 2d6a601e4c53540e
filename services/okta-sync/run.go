package oktasync

import (
	"context"
	"fmt"
	"io"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// Spec describes okta-sync for the shared runtime (and the all-in-one).
// dir overrides the Okta adapter (nil: built from the configuration).
func Spec(cfg Config, dir Directory) syncsvc.Spec {
	return syncsvc.Spec{
		Name: Name, Provider: Provider, Configured: cfg.Sync.Okta.Configured() || dir != nil,
		Build: func(d *syncsvc.Deps) (map[string]bus.Handler, error) {
			s := &service{d: d, dir: dir}
			if s.dir == nil && d.Okta != nil {
				s.dir = d.Okta
			}
			var reader plan.AccessReader
			if d.Console != nil {
				reader = d.Console
			}
			s.planner = plan.New(d.Rules, reader, d.Ledger, provider)
			s.applier = &plan.Applier{D: d, Provider: provider, M: memberships{dir: s.dir}}
			d.Reconciler = reconciler{s: s}
			return map[string]bus.Handler{
				events.ConsoleUpdateUserPermission: s.consoleUpdateUserPermission,
				events.ConsoleCreateProject:        s.consoleCreateProject,
			}, nil
		},
	}
}

// Run is okta-sync as its own process.
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
