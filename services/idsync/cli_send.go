package idsync

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
)

// cliSource is the CloudEvents source of every event `idsync send`
// publishes, so that samples are recognisable wherever they end up.
const cliSource = "urn:idsync:cli"

const sendUsage = `usage: idsync send <event-type> [--file payload.json] [--subject ID] [--json]
       idsync send --list [--json]

Publishes one event of a catalog type with a fresh id and source urn:idsync:cli:
the payload of --file (proto3 JSON of the type's payload), or a sample.
Sync types are acted on by their consumers (in dry-run they only plan).
`

// sent is `idsync send --json`.
type sent struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Subject  string `json:"subject"`
	Stream   string `json:"stream"`
	Sequence uint64 `json:"sequence"`
	Source   string `json:"source"`
	Sample   bool   `json:"sample"`
}

// runSend is `idsync send`: publish one event of any catalog type through
// the same publisher the gateway uses.
func runSend(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if slices.Contains(args, "--list") || slices.Contains(args, "-list") {
		return listTypes(stdout, slices.Contains(args, "--json") || slices.Contains(args, "-json"))
	}
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("idsync send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "the payload: proto3 JSON of the type's payload message (default: a sample)")
	subject := fs.String("subject", "", "the CloudEvents subject (ce-subject), the affected user or project id (default: the sample's)")
	fs.Bool("list", false, "list the catalog's event types")
	fs.Usage = func() { fmt.Fprint(stderr, sendUsage); fs.PrintDefaults() }
	env, rest, err := connectCLI(ctx, "idsync send", args, getenv, stdout, stderr, fs)
	if err != nil {
		return err
	}
	defer env.close()
	if name == "" && len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	if name == "" || len(rest) > 0 {
		fmt.Fprint(stderr, sendUsage)
		return fmt.Errorf("send: one event type is required")
	}
	t, ok := events.Default().Lookup(name)
	if !ok {
		return fmt.Errorf("send: unknown event type %q (list them with: idsync send --list)", name)
	}
	id := "cli-" + strings.ToLower(rand.Text())
	now := time.Now().UTC()
	ev := events.Event{ID: id, Type: t, Source: cliSource, Subject: "sample-subject", Time: now}
	if *file == "" {
		ev.Payload = samplePayload(t, id, now)
	} else {
		b, err := os.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		p := t.Payload.New().Interface()
		if err := protojson.Unmarshal(b, p); err != nil {
			return fmt.Errorf("send: %s is not a %s payload (proto3 JSON of %s): %v", *file, t.Name, t.Payload.Descriptor().FullName(), err)
		}
		ev.Payload, ev.Subject = p, ""
	}
	if *subject != "" {
		ev.Subject = *subject
	}
	m, err := events.Encode(env.ns, ev)
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	stream := env.ns.Stream(streamOf(t))
	ack, err := bus.NewPublisher(env.conn, stream, 5*time.Second, prometheus.NewRegistry()).Publish(ctx, m)
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	out := sent{ID: id, Type: t.Name, Subject: m.Subject, Stream: stream, Sequence: ack.Sequence, Source: cliSource, Sample: *file == ""}
	if err := env.print(out, []string{"SUBJECT", "STREAM", "SEQUENCE", "ID"}, [][]string{{out.Subject, out.Stream, strconv.FormatUint(out.Sequence, 10), out.ID}}); err != nil || env.json {
		return err
	}
	if t.Kind == events.KindSync {
		_, err = fmt.Fprintf(stdout, "acted on by: %s\n", strings.Join(consumersOf(t), ", "))
	}
	return err
}

// streamOf is the base name of the stream that stores t: outcomes and
// alerts on OUTCOMES, everything else on EVENTS.
func streamOf(t *events.Type) string {
	if strings.HasPrefix(t.Subject, "outcomes.") {
		return bus.StreamOutcomes
	}
	return bus.StreamEvents
}

func consumersOf(t *events.Type) []string {
	var out []string
	for _, p := range t.Providers {
		out = append(out, p+"-sync")
	}
	return out
}

func listTypes(w io.Writer, asJSON bool) error {
	type row struct {
		Name    string `json:"name"`
		Kind    string `json:"kind"`
		Subject string `json:"subject"`
		Payload string `json:"payload"`
	}
	var out []row
	var rows [][]string
	for _, t := range events.Default().Types() {
		r := row{t.Name, string(t.Kind), t.Subject, string(t.Payload.Descriptor().Name())}
		out = append(out, r)
		rows = append(rows, []string{r.Name, r.Kind, r.Subject, r.Payload})
	}
	return (&cliEnv{stdout: w, json: asJSON}).print(out, []string{"TYPE", "KIND", "SUBJECT", "PAYLOAD"}, rows)
}
