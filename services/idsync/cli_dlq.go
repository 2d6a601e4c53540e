package idsync

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/idsync/idsync/pkg/dlq"
)

const dlqUsage = `usage: idsync dlq <list|show|replay|purge> [flags]

  list     the dead letters (filter with the flags)
  show     one dead letter with its payload: --seq N
  replay   publish dead letters back to their subject and remove them:
           --seq N for one, filters for several, --all for every one
  purge    delete dead letters: --seq N, filters, or --all

flags: --consumer NAME --type EVENT_TYPE --class CLASS --reason TEXT
       --since DURATION (e.g. 24h) --seq N --all --json
`

// runDLQ is `idsync dlq …`.
func runDLQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, dlqUsage)
		return fmt.Errorf("dlq: a subcommand is required")
	}
	sub := args[0]
	fs := flag.NewFlagSet("idsync dlq "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f dlq.Filter
	var since time.Duration
	var all bool
	fs.StringVar(&f.Consumer, "consumer", "", "only dead letters of this consumer (e.g. gitlab-sync)")
	fs.StringVar(&f.EventType, "type", "", "only this event type (e.g. okta.delete.user)")
	fs.StringVar(&f.Class, "class", "", "only this error class (permanent, retryable, rate_limited)")
	fs.StringVar(&f.Reason, "reason", "", "only reasons containing this text")
	fs.DurationVar(&since, "since", 0, "only dead letters younger than this")
	fs.Uint64Var(&f.Seq, "seq", 0, "only this dead letter (stream sequence)")
	fs.BoolVar(&all, "all", false, "replay or purge every dead letter")
	env, _, err := connectCLI(ctx, "idsync dlq", args[1:], getenv, stdout, stderr, fs)
	if err != nil {
		return err
	}
	defer env.close()
	if since > 0 {
		f.Since = time.Now().Add(-since)
	}
	store := dlq.New(env.conn.JS, env.ns)
	switch sub {
	case "list":
		letters, err := store.List(ctx, f)
		if err != nil {
			return err
		}
		rows := make([][]string, 0, len(letters))
		for _, l := range letters {
			rows = append(rows, []string{strconv.FormatUint(l.Seq, 10), l.At.Format(time.RFC3339), l.Consumer, l.EventType, l.EventID, l.Class, strconv.Itoa(l.Deliveries), l.Reason})
		}
		return env.print(nonNilLetters(letters), []string{"SEQ", "AT", "CONSUMER", "TYPE", "EVENT", "CLASS", "DELIVERIES", "REASON"}, rows)
	case "show":
		if f.Seq == 0 {
			return fmt.Errorf("dlq show: --seq is required")
		}
		letters, err := store.List(ctx, dlq.Filter{Seq: f.Seq})
		if err != nil {
			return err
		}
		if len(letters) == 0 {
			return fmt.Errorf("dlq show: no dead letter %d", f.Seq)
		}
		l := letters[0]
		if env.json {
			return env.print(struct {
				dlq.Letter
				Headers map[string][]string `json:"headers"`
				Data    string              `json:"data"`
			}{l, l.Header, string(l.Data)}, nil, nil)
		}
		fmt.Fprintf(stdout, "seq %d  consumer %s  class %s  deliveries %d  at %s\nsubject %s\nevent %s (%s)\nreason: %s\n\n%s\n",
			l.Seq, l.Consumer, l.Class, l.Deliveries, l.At.Format(time.RFC3339), l.Subject, l.EventID, l.EventType, l.Reason, l.Data)
		return nil
	case "replay", "purge":
		if f == (dlq.Filter{}) && !all {
			return fmt.Errorf("dlq %s: name what to %s (--seq, a filter) or pass --all", sub, sub)
		}
		var n int
		if sub == "replay" {
			n, err = store.Replay(ctx, f)
		} else {
			n, err = store.Purge(ctx, f)
		}
		if err != nil {
			return err
		}
		return env.print(map[string]int{sub + "ed": n}, []string{"DEAD LETTERS " + map[string]string{"replay": "REPLAYED", "purge": "PURGED"}[sub]}, [][]string{{strconv.Itoa(n)}})
	default:
		fmt.Fprint(stderr, dlqUsage)
		return fmt.Errorf("dlq: unknown subcommand %q", sub)
	}
}

func nonNilLetters(l []dlq.Letter) []dlq.Letter {
	if l == nil {
		return []dlq.Letter{}
	}
	return l
}
