package gitlabsync

import (
	"context"
	"fmt"
	"io"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

// Spec describes gitlab-sync for the shared runtime (and the all-in-one).
// dir overrides the GitLab client (nil: internal/gitlab from the
// configuration, or none without credentials: dry-run).
func Spec(cfg Config, dir Directory) syncsvc.Spec {
	return syncsvc.Spec{
		Name: Name, Provider: Provider, Configured: cfg.GitLab.Configured(),
		Build: func(d *syncsvc.Deps) (map[string]bus.Handler, error) {
			s := &service{d: d, dir: dir}
			if s.dir == nil && cfg.GitLab.Configured() {
				c, err := gitlab.New(gitlab.Options{
					URL: cfg.GitLab.URL, Token: cfg.GitLab.Token.Reveal(), Timeout: cfg.GitLab.Timeout, MaxConcurrency: cfg.GitLab.MaxConcurrency, Registerer: d.Reg,
				})
				if err != nil {
					return nil, err
				}
				s.dir = c
			}
			// Reconciliation (scheduled and idsync reconcile) compares and
			// converges through the same code as the handlers below.
			d.Reconciler = reconciler{s: s}
			return map[string]bus.Handler{
				events.ConsoleUpdateUserPermission: s.consoleUpdateUserPermission,
				events.OktaCreateUser:              s.oktaCreateUser,
				events.OktaDeleteUser:              s.oktaDeleteUser,
			}, nil
		},
	}
}

// Run is gitlab-sync as its own process.
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
