package idsync

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/outcome"
)

var syncConsumers = map[string]string{
	"okta-sync": events.ProviderOkta, "gitlab-sync": events.ProviderGitLab,
	"github-sync": events.ProviderGitHub, "console-sync": events.ProviderConsole,
}

// runGuard is `idsync guard status|resume`.
func runGuard(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "resume") {
		fmt.Fprint(stderr, "usage: idsync guard status [--json]\n       idsync guard resume --consumer NAME [--by WHO]\n")
		return fmt.Errorf("guard: status or resume")
	}
	sub := args[0]
	fs := flag.NewFlagSet("idsync guard "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	consumer := fs.String("consumer", "", "the paused consumer (okta-sync, gitlab-sync, github-sync, console-sync)")
	by := fs.String("by", "", "who resumes it (default: the current OS user)")
	env, _, err := connectCLI(ctx, "idsync guard", args[1:], getenv, stdout, stderr, fs)
	if err != nil {
		return err
	}
	defer env.close()
	kv, err := env.conn.JS.KeyValue(ctx, env.ns.Stream(bus.BucketGuard))
	if err != nil {
		return fmt.Errorf("guard: no guard bucket %s (has a sync consumer run yet?): %w", env.ns.Stream(bus.BucketGuard), err)
	}
	open := func(name string) *guard.Guard {
		out := outcome.New(env.conn, env.ns, name, syncConsumers[name], false, prometheus.NewRegistry())
		return guard.New(kv, name, syncConsumers[name], guard.Config{Window: time.Hour}, out.Alerter(), logging.Discard(), prometheus.NewRegistry())
	}
	if sub == "resume" {
		if _, ok := syncConsumers[*consumer]; !ok {
			return fmt.Errorf("guard resume: --consumer must be one of okta-sync, gitlab-sync, github-sync, console-sync")
		}
		who := *by
		if who == "" {
			if u, err := user.Current(); err == nil {
				who = u.Username
			}
		}
		if err := open(*consumer).Resume(ctx, "cli:"+who); err != nil {
			return err
		}
		return env.print(map[string]string{"resumed": *consumer, "by": who}, []string{"RESUMED", "BY"}, [][]string{{*consumer, who}})
	}
	type row struct {
		Consumer string      `json:"consumer"`
		State    guard.State `json:"state"`
	}
	var out []row
	var rows [][]string
	for _, name := range []string{"console-sync", "github-sync", "gitlab-sync", "okta-sync"} {
		st, err := open(name).State(ctx)
		if err != nil {
			return err
		}
		out = append(out, row{name, st})
		state := "running"
		if st.Paused {
			state = "PAUSED since " + st.TrippedAt.Format(time.RFC3339) + ": " + st.Reason
		}
		rows = append(rows, []string{name, state, strconv.Itoa(len(st.Removals))})
	}
	return env.print(out, []string{"CONSUMER", "STATE", "REMOVALS IN WINDOW"}, rows)
}
