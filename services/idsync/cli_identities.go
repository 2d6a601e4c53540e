package idsync

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/identity"
)

const identitiesUsage = `usage: idsync identities <list|set|delete|load> [flags]

  list                              the email → GitHub login map
  set --email E --login L           map an email to a GitHub login
  delete --email E                  forget an email
  load --file F                     load a CSV (email,login) or YAML file
`

// runIdentities is "idsync identities …": github-sync resolves GitHub
// logins through this map (GitHub cannot find a login from an email).
func runIdentities(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, identitiesUsage)
		return fmt.Errorf("identities: a subcommand is required")
	}
	sub := args[0]
	fs := flag.NewFlagSet("idsync identities "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the person's email address")
	login := fs.String("login", "", "their GitHub login")
	file := fs.String("file", "", "mapping file (CSV email,login or YAML list of {email, login})")
	env, _, err := connectCLI(ctx, "idsync identities", args[1:], getenv, stdout, stderr, fs)
	if err != nil {
		return err
	}
	defer env.close()
	kv, err := identitiesBucket(ctx, env.conn.JS, env.ns)
	if err != nil {
		return err
	}
	m := identity.Open(kv)
	switch sub {
	case "list":
		entries, err := m.List(ctx)
		if err != nil {
			return err
		}
		rows := make([][]string, 0, len(entries))
		for _, e := range entries {
			rows = append(rows, []string{e.Email, e.Login, e.Source, e.Updated.Format(time.RFC3339)})
		}
		if entries == nil {
			entries = []identity.Entry{}
		}
		return env.print(entries, []string{"EMAIL", "LOGIN", "SOURCE", "UPDATED"}, rows)
	case "set":
		if *email == "" || *login == "" {
			return fmt.Errorf("identities set: --email and --login are required")
		}
		if err := m.Set(ctx, *email, *login, "cli"); err != nil {
			return err
		}
		return env.print(map[string]string{"email": *email, "login": *login}, []string{"EMAIL", "LOGIN"}, [][]string{{*email, *login}})
	case "delete":
		if *email == "" {
			return fmt.Errorf("identities delete: --email is required")
		}
		if err := m.Delete(ctx, *email); err != nil {
			return err
		}
		return env.print(map[string]string{"deleted": *email}, []string{"DELETED"}, [][]string{{*email}})
	case "load":
		if *file == "" {
			return fmt.Errorf("identities load: --file is required")
		}
		res, err := m.LoadFile(ctx, *file)
		if err != nil {
			return err
		}
		return env.print(res, []string{"ADDED", "UPDATED", "UNCHANGED"}, [][]string{{fmt.Sprint(res.Added), fmt.Sprint(res.Updated), fmt.Sprint(res.Unchanged)}})
	default:
		fmt.Fprint(stderr, identitiesUsage)
		return fmt.Errorf("identities: unknown subcommand %q", sub)
	}
}

// identitiesBucket opens the identity map as it is. Only when it does not
// exist yet (github-sync has never started) is it created, with the
// replicas of the events stream: creating-or-updating it from here would
// impose the CLI's idea of its configuration on a cluster's bucket.
func identitiesBucket(ctx context.Context, js jetstream.JetStream, ns events.Namespace) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, ns.Stream(bus.BucketIdentities))
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return kv, err
	}
	replicas := 1
	if s, err := js.Stream(ctx, ns.Stream(bus.StreamEvents)); err == nil {
		replicas = s.CachedInfo().Config.Replicas
	}
	return bus.KeyValue(ctx, js, ns, bus.BucketIdentities, replicas)
}
