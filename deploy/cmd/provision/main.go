// Command idsync-provision creates or updates idsync's JetStream topology
// (streams and KV buckets) and exits; see package provision.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/idsync/idsync/deploy/provision"
	"github.com/idsync/idsync/pkg/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := provision.Run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, config.ErrHelp) {
		fmt.Fprintln(os.Stderr, "provision:", err)
		os.Exit(1)
	}
}
