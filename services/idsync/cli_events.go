package idsync

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/services/eventlog"
	"github.com/idsync/idsync/services/eventlog/store"
)

// EventsCLIConfig is where `idsync events` finds the event log (and, to
// forget a person, NATS): the same variables as the all-in-one and the
// eventlog service.
type EventsCLIConfig struct {
	CLIConfig
	DSN     config.Secret `env:"IDSYNC_EVENTLOG_DSN" help:"postgres://… or sqlite:///path (default: SQLite eventlog.db in IDSYNC_DATA_DIR)"`
	DataDir string        `env:"IDSYNC_DATA_DIR" default:"./data" help:"the all-in-one's data directory (its SQLite event log)"`
}

// runEvents is `idsync events`: a person's (or an actor's) history as a
// table, read from the event log's store with the API's filters; and
// `idsync events forget`, the erasure of a person.
func runEvents(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "forget" {
		return runForget(ctx, args[1:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("idsync events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	v := url.Values{}
	for _, f := range []struct{ name, param, help string }{
		{"user", "userId", "the person: source id, email or login"},
		{"actor", "actor", "who acted: Okta admin, Console author, idsync consumer"},
		{"type", "type", "only this event type (idsync event-types, or GET /api/event-types)"},
		{"from", "from", "only from this time (RFC 3339 or Unix ms)"},
		{"to", "to", "only before this time (RFC 3339 or Unix ms)"},
		{"outcome", "outcome", "only this outcome (granted, revoked, failed, …)"},
		{"cursor", "cursor", "continue after a previous page's cursor"},
	} {
		fs.Func(f.name, f.help, func(s string) error { v.Set(f.param, s); return nil })
	}
	limit := fs.Int("limit", 50, "records per page (1–1000)")
	offset := fs.Int("offset", 0, "records to skip")
	asJSON := fs.Bool("json", false, "print the API's JSON instead of a table")
	st, _, rest, err := openEventLog(ctx, "idsync events", fs, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q (usage: idsync events --user EMAIL [filters], idsync events forget --user EMAIL --by OPERATOR)", rest)
	}
	v.Set("limit", strconv.Itoa(*limit))
	if v.Get("cursor") == "" || *offset != 0 {
		v.Set("offset", strconv.Itoa(*offset))
	}
	q, code := eventlog.ParseQuery(v)
	if code != 0 {
		return fmt.Errorf("%s (error %d)", flagWords(eventlog.ErrorMessage(code)), code)
	}
	page, err := st.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("reading the event log: %w", err)
	}
	out := eventlog.NewResultSet(q, page)
	e := &cliEnv{stdout: stdout, json: *asJSON}
	rows := make([][]string, 0, len(out.ResultSet))
	for _, r := range out.ResultSet {
		rows = append(rows, []string{
			time.UnixMilli(r.Occurred).UTC().Format(time.RFC3339), r.EventType, cell(r.EventName, 48), cell(r.EventAgentUser, 32),
			r.Outcome, cell(r.Reason, 72),
		})
	}
	if err := e.print(out, []string{"OCCURRED (UTC)", "EVENT TYPE", "EVENT", "BY", "OUTCOME", "REASON"}, rows); err != nil || *asJSON {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d of %d records", len(rows), out.Pagination.TotalResults)
	if out.NextCursor != "" {
		_, err = fmt.Fprintf(stdout, "; next page: --cursor %s", out.NextCursor)
	}
	fmt.Fprintln(stdout)
	return err
}

// runForget erases a person: it shows what it would erase, and erases only
// with --yes.
func runForget(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("idsync events forget", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "the person to forget: source id, email or login")
	by := fs.String("by", "", "who carries out the erasure (recorded)")
	reason := fs.String("reason", "", "reference of the request, e.g. a ticket (recorded)")
	yes := fs.Bool("yes", false, "erase; without it, only show what would be erased")
	asJSON := fs.Bool("json", false, "print JSON")
	st, cfg, rest, err := openEventLog(ctx, "idsync events forget", fs, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q", rest)
	}
	if strings.TrimSpace(*user) == "" || strings.TrimSpace(*by) == "" {
		return errors.New("--user (the person) and --by (the operator) are required")
	}
	plan, err := eventlog.PlanErasure(ctx, st, *user)
	if err != nil {
		return err
	}
	if !*yes {
		fmt.Fprintf(stdout, "would forget %d identifiers: %s\n", len(plan.Identifiers), strings.Join(plan.Identifiers, ", "))
		fmt.Fprintf(stdout, "  %d records about them and %d of their actions pseudonymised, %d reconciliation reports naming them emptied, %d bus messages erased\n", plan.About, plan.Acted, plan.Reports, plan.Messages)
		fmt.Fprintln(stdout, "check every identifier is this person's, then run again with --yes")
		return nil
	}
	conn, err := dialCLI(ctx, cfg.CLIConfig)
	if err != nil {
		return err
	}
	defer conn.NC.Close()
	e, err := eventlog.Forget(ctx, st, conn.JS, eventlog.ErasureRequest{UserID: *user, By: *by, Reason: *reason}, time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		return (&cliEnv{stdout: stdout, json: true}).print(e, nil, nil)
	}
	_, err = fmt.Fprintf(stdout, "forgot %d identifiers as %s: %d records pseudonymised, %d bus messages erased (%d already gone); recorded as %s\n",
		e.Identifiers, e.Pseudonym, e.Records, e.BusDeleted, e.BusGone, e.RecordID)
	return err
}

// openEventLog parses the command's flags, then the store's configuration
// (environment, flags override), and opens the store.
func openEventLog(ctx context.Context, name string, fs *flag.FlagSet, args []string, getenv func(string) string, stderr io.Writer) (store.Store, EventsCLIConfig, []string, error) {
	var cfg EventsCLIConfig
	if err := fs.Parse(args); err != nil {
		return nil, cfg, nil, err
	}
	rest, err := config.Load(&cfg, name, fs.Args(), getenv, stderr)
	if err != nil {
		return nil, cfg, nil, err
	}
	driver, source, err := eventlog.ParseDSN(cfg.DSN.Reveal(), cfg.DataDir)
	if err != nil {
		return nil, cfg, nil, err
	}
	// Reading must not create an empty event log where none is.
	if _, err := os.Stat(source); driver == eventlog.DriverSQLite && err != nil {
		return nil, cfg, nil, fmt.Errorf("no event log at %s (set IDSYNC_DATA_DIR to the all-in-one's data directory, or IDSYNC_EVENTLOG_DSN)", source)
	}
	st, _, err := eventlog.OpenStore(ctx, cfg.DSN.Reveal(), cfg.DataDir)
	if err != nil {
		return nil, cfg, nil, err
	}
	return st, cfg, rest, nil
}

// flagWords turns the API's parameter names into the CLI's flags.
func flagWords(msg string) string {
	return strings.NewReplacer("user ID and actor ID are missing", "--user and --actor are missing (give one)").Replace(msg)
}

// cell shortens a table cell.
func cell(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
