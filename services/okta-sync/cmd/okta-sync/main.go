// Command okta-sync runs the okta-sync consumer as its own service.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/idsync/idsync/pkg/config"
	oktasync "github.com/idsync/idsync/services/okta-sync"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := oktasync.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, config.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "okta-sync:", err)
		os.Exit(1)
	}
}
