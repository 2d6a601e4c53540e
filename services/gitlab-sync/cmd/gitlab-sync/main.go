// Command gitlab-sync runs the gitlab-sync consumer as its own service.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/idsync/idsync/pkg/config"
	gitlabsync "github.com/idsync/idsync/services/gitlab-sync"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := gitlabsync.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, config.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitlab-sync:", err)
		os.Exit(1)
	}
}
