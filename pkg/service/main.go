package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/idsync/idsync/pkg/config"
)

// RunFunc is a service's whole program: its arguments, environment and
// output are injected so that tests run it in-process.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Main runs a service as a process: SIGINT and SIGTERM cancel run's context
// (run drains and returns), -h prints the usage and exits 0, and an error
// exits 1 with one line naming the program (or with the error's ExitCode(),
// when it has one above 1). Tracing is set up around run
// (Traced, service.name = name) and flushed before the process exits.
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Traced(name, run)(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, config.ErrHelp) {
		fmt.Fprintln(os.Stderr, name+":", err)
		// A command may say more than "failed" (idsync reconcile exits 3
		// when drift remains); anything else is 1.
		code := 1
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) && ec.ExitCode() > 1 {
			code = ec.ExitCode()
		}
		os.Exit(code)
	}
}
