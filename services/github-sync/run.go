package githubsync

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/identity"
	"github.com/idsync/idsync/pkg/syncsvc"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

// Spec describes github-sync for the shared runtime (and the all-in-one).
// gh overrides the GitHub client (nil: internal/github from the
// configuration, none without credentials).
func Spec(cfg Config, gh GitHub) syncsvc.Spec {
	return syncsvc.Spec{
		Name: Name, Provider: Provider, Configured: cfg.GitHub.Configured(),
		Build: func(d *syncsvc.Deps) (map[string]bus.Handler, error) {
			// syncsvc.Spec.Build gets no context: bound the start-up calls.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ids, err := openIdentities(ctx, d, cfg)
			if err != nil {
				return nil, err
			}
			s := &service{d: d, gh: gh, ids: ids, prov: provider()}
			if s.gh == nil && cfg.GitHub.Configured() {
				c, err := newClient(cfg.GitHub, d)
				if err != nil {
					return nil, err
				}
				s.gh = c
			}
			d.Reconciler = newReconciler(s)
			return map[string]bus.Handler{
				events.ConsoleUpdateUserPermission: s.consoleUpdateUserPermission,
				events.OktaDeleteUser:              s.oktaDeleteUser,
			}, nil
		},
	}
}

// openIdentities opens the identity map and loads the mapping file into it.
func openIdentities(ctx context.Context, d *syncsvc.Deps, cfg Config) (*identity.Map, error) {
	kv, err := bus.KeyValue(ctx, d.Conn.JS, d.NS, bus.BucketIdentities, cfg.Sync.Streams.Replicas)
	if err != nil {
		return nil, err
	}
	ids := identity.Open(kv)
	if f := cfg.GitHub.IdentityFile; f != "" {
		res, err := ids.LoadFile(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("IDSYNC_GITHUB_IDENTITY_FILE: %w", err)
		}
		d.Log.Info("identity map loaded", "file", f, "added", res.Added, "updated", res.Updated, "unchanged", res.Unchanged)
	}
	return ids, nil
}

// newClient builds the GitHub client from the configuration.
func newClient(c GitHubConfig, d *syncsvc.Deps) (*ghapi.Client, error) {
	o := ghapi.Options{APIURL: c.APIURL, Token: c.Token.Reveal(), AppID: c.AppID, InstallationID: c.InstallationID, Timeout: c.Timeout, MaxConcurrency: c.MaxConcurrency, Registerer: d.Reg}
	if c.Token == "" {
		key, err := os.ReadFile(c.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("IDSYNC_GITHUB_PRIVATE_KEY_FILE: %w", err)
		}
		o.PrivateKey = key
	}
	return ghapi.New(o)
}

// Run is github-sync as its own process.
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
