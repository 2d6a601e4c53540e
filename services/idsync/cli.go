package idsync

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// CLIConfig is what the operator commands need: where NATS is.
type CLIConfig struct {
	NATS      bus.ConnConfig
	Namespace string `env:"IDSYNC_NAMESPACE" default:"idsync" help:"first token of every subject and prefix of stream names"`
}

// cliEnv is a connected operator command.
type cliEnv struct {
	conn   *bus.Conn
	ns     events.Namespace
	stdout io.Writer
	json   bool
}

// defaultCLIURL is the all-in-one's listener, the natural target of the CLI.
const defaultCLIURL = "nats://127.0.0.1:4222"

// connectCLI loads the CLI configuration and flags and connects to NATS.
// fs carries the command's own flags; --json is added to it.
func connectCLI(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer, fs *flag.FlagSet) (*cliEnv, []string, error) {
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	var cfg CLIConfig
	rest, err := config.Load(&cfg, name, fs.Args(), getenv, stderr)
	if err != nil {
		return nil, nil, err
	}
	conn, err := dialCLI(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return &cliEnv{conn: conn, ns: events.Namespace(cfg.Namespace), stdout: stdout, json: *asJSON}, rest, nil
}

// dialCLI validates the NATS configuration and connects, waiting a few
// seconds for the connection.
func dialCLI(ctx context.Context, cfg CLIConfig) (*bus.Conn, error) {
	if cfg.NATS.URL == "" {
		cfg.NATS.URL = defaultCLIURL
	}
	if err := errors.Join(cfg.NATS.Validate(true), events.Namespace(cfg.Namespace).Validate()); err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	conn, err := bus.Connect(cfg.NATS, "cli", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(5 * time.Second)
	for !conn.Connected() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			conn.NC.Close()
			return nil, fmt.Errorf("cannot reach NATS at %s (set IDSYNC_NATS_URL)", redact(cfg.NATS.URL))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return conn, nil
}

func (e *cliEnv) close() { e.conn.NC.Close() }

// print writes v as JSON, or the rows as an aligned table.
func (e *cliEnv) print(v any, header []string, rows [][]string) error {
	if e.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
