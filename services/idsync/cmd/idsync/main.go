// Command idsync runs the whole idsync system in one process (`idsync run`,
// the default) and is the operator CLI.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/services/idsync"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := idsync.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, config.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idsync:", err)
		os.Exit(1)
	}
}
