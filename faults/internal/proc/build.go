// Package proc builds idsync's service binaries and runs them as child
// processes of a test: each incarnation logs to its own file, can be
// signalled or killed, reports its exit code, and is killed at the end of
// the test if it still runs. On a failed test the logs are attached to the
// test output.
package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Services are the binaries the fault suite runs, by name: the package
// path under the repository root.
var Services = map[string]string{
	"gateway":      "services/gateway/cmd/gateway",
	"okta-sync":    "services/okta-sync/cmd/okta-sync",
	"gitlab-sync":  "services/gitlab-sync/cmd/gitlab-sync",
	"github-sync":  "services/github-sync/cmd/github-sync",
	"console-sync": "services/console-sync/cmd/console-sync",
	"eventlog":     "services/eventlog/cmd/eventlog",
	"idsync":       "services/idsync/cmd/idsync",
	"provision":    "deploy/cmd/provision",
}

// NATSServer is the module whose main package is nats-server: the same
// version the all-in-one embeds (a dependency of pkg and a tool of this
// module), not whatever nats-server the machine has.
const NATSServer = "github.com/nats-io/nats-server/v2"

// Build compiles every service (with the race detector when race is set)
// and nats-server (never with it: the server is not under test, and the
// detector would slow it down several times) into dir, from the workspace
// at repo. It returns the binaries' paths by name ("nats-server" included).
func Build(ctx context.Context, repo, dir string, race bool) (map[string]string, error) {
	out := map[string]string{}
	var pkgs []string
	for name, pkg := range Services {
		pkgs = append(pkgs, "./"+pkg)
		out[name] = filepath.Join(dir, name)
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if race {
		args = append(args, "-race")
	}
	out["nats-server"] = filepath.Join(dir, "nats-server")
	// Both builds at once: linking dominates, and each links on its own.
	natsErr := make(chan error, 1)
	go func() {
		natsErr <- goCmd(ctx, filepath.Join(repo, "faults"), "build", "-o", out["nats-server"], NATSServer)
	}()
	err := goCmd(ctx, repo, append(args, pkgs...)...)
	if err := errors.Join(err, <-natsErr); err != nil {
		return nil, err
	}
	for name, path := range out {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("proc.Build: %s not built: %w", name, err)
		}
	}
	return out, nil
}

func goCmd(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("proc.Build: go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, b)
	}
	return nil
}
