package idsync

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Run is the idsync command: `idsync [run]` starts the all-in-one; the other
// subcommands are the operator CLI.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "run", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "dlq":
		return runDLQ(ctx, rest, getenv, stdout, stderr)
	case "guard":
		return runGuard(ctx, rest, getenv, stdout, stderr)
	case "identities":
		return runIdentities(ctx, rest, getenv, stdout, stderr)
	case "events":
		return runEvents(ctx, rest, getenv, stdout, stderr)
	case "status":
		return runStatus(ctx, rest, getenv, stdout, stderr)
	case "streams":
		return runStreams(ctx, rest, getenv, stdout, stderr)
	case "consumers":
		return runConsumers(ctx, rest, getenv, stdout, stderr)
	case "send":
		return runSend(ctx, rest, getenv, stdout, stderr)
	case "reconcile":
		return runReconcile(ctx, rest, getenv, stdout, stderr)
	case "version":
		_, err := fmt.Fprintln(stdout, "idsync", version())
		return err
	case "help":
		return usage(stdout)
	default:
		_ = usage(stderr)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func usage(w io.Writer) error {
	_, err := fmt.Fprint(w, `idsync — identity event hub

usage:
  idsync [run] [flags]   start the whole system in one process (embedded NATS JetStream)
  idsync status          streams, consumers (pending, guard), dead letters per consumer,
                         and whether each provider runs live or in dry-run
  idsync streams [NAME]  idsync's streams: configuration and state (NAME: IDSYNC_EVENTS or EVENTS)
  idsync consumers [NAME]
                         the durable consumers: configuration, pending, redelivered, last active
  idsync send TYPE [--file payload.json] [--subject ID]
                         publish one event of any catalog type (a sample unless --file),
                         source urn:idsync:cli; "idsync send --list" lists the types
  idsync dlq list|show|replay|purge [flags]
                         inspect dead letters and replay them to their subject
  idsync guard status    the removal guards of the sync consumers
  idsync guard resume --consumer NAME
                         resume a consumer its removal guard paused
  idsync identities list|set|delete|load
                         the email → GitHub login map github-sync resolves through
  idsync reconcile [--provider okta,gitlab,github,console] [--apply] [--remove-unmanaged] [--timeout 30m]
                         compare each provider with the rules and the sources of truth, print the
                         differences and, with --apply, converge them; exit 0 no drift, 3 drift left, 1 error
  idsync events --user EMAIL [--actor A] [--type T] [--from T] [--to T] [--outcome O]
                         what happened to a person, who did it, what idsync did (the event log)
  idsync events forget --user EMAIL --by OPERATOR [--reason TICKET] [--yes]
                         erasure request: pseudonymise the person's records, erase their bus messages
  idsync version         print the version
  idsync help            this text

Every flag has an environment variable; run "idsync run -h" for the list.
The operator commands reach NATS at IDSYNC_NATS_URL (default nats://127.0.0.1:4222,
the all-in-one's listener) and take --json; "idsync events" reads the event log at
IDSYNC_EVENTLOG_DSN (default: the SQLite file in IDSYNC_DATA_DIR, ./data).
`)
	return err
}
