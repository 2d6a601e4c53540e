// Package deploytest derives, from the code, what the deployment files of
// the repository must agree with: each service's environment variables (the
// env tags of its Config, read through pkg/config) and the variables the
// rules refer to. The compose and Kubernetes tests share it.
package deploytest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/idsync/idsync/deploy/provision"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/rules"
	consolesync "github.com/idsync/idsync/services/console-sync"
	"github.com/idsync/idsync/services/eventlog"
	"github.com/idsync/idsync/services/gateway"
	githubsync "github.com/idsync/idsync/services/github-sync"
	gitlabsync "github.com/idsync/idsync/services/gitlab-sync"
	oktabackfill "github.com/idsync/idsync/services/okta-backfill"
	oktasync "github.com/idsync/idsync/services/okta-sync"
)

// Service is one program an image runs.
type Service struct {
	// Name is the service's directory and binary name (services/<Name>),
	// or Provision.
	Name string
	// Config is a pointer to the service's configuration struct.
	Config any
	// LoadsRules says the service reads the rules file (rules.Load with its
	// getenv), so the ${NAME} variables of the rules are its variables too.
	LoadsRules bool
}

// Provision names the topology step (deploy/cmd/provision).
const Provision = "provision"

// Services are the separately deployed services and the provisioning step.
var Services = []Service{
	{Name: "gateway", Config: &gateway.Config{}, LoadsRules: true},
	{Name: "okta-sync", Config: &oktasync.Config{}, LoadsRules: true},
	{Name: "gitlab-sync", Config: &gitlabsync.Config{}, LoadsRules: true},
	{Name: "github-sync", Config: &githubsync.Config{}, LoadsRules: true},
	{Name: "console-sync", Config: &consolesync.Config{}, LoadsRules: true},
	{Name: "eventlog", Config: &eventlog.Config{}, LoadsRules: false},
	{Name: "okta-backfill", Config: &oktabackfill.Config{}, LoadsRules: false},
	{Name: Provision, Config: &provision.Config{}, LoadsRules: false},
}

// Lookup returns the service of that name.
func Lookup(name string) (Service, bool) {
	for _, s := range Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// Env returns every variable the service reads: its Config's env tags,
// plus the rules' ${NAME} variables when it loads rules. rulesDoc, if not
// nil, is a rules file whose variables count as well (the built-in rules'
// always do).
func (s Service) Env(rulesDoc []byte) (map[string]bool, error) {
	fields, err := config.Fields(s.Config)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(fields))
	for _, f := range fields {
		out[f.Env] = true
	}
	if s.LoadsRules {
		names, err := RulesEnv(rulesDoc)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			out[n] = true
		}
	}
	return out, nil
}

// Secrets returns the variables of the service that pkg/config treats as
// secrets (their values must never be written in a deployment file).
func (s Service) Secrets() (map[string]bool, error) {
	fields, err := config.Fields(s.Config)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, f := range fields {
		if f.Secret {
			out[f.Env] = true
		}
	}
	return out, nil
}

// RulesEnv lists the ${NAME} variables the built-in rules, and doc when not
// nil, ask the environment for, by recording the rules loader's lookups.
func RulesEnv(doc []byte) ([]string, error) {
	seen := map[string]bool{}
	rec := func(name string) string { seen[name] = true; return "x" }
	if _, err := rules.Load("", rec); err != nil {
		return nil, fmt.Errorf("built-in rules: %w", err)
	}
	if doc != nil {
		if _, err := rules.Parse("rules file", doc, rec, false); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// RepoRoot is the directory holding go.work, found from the working
// directory upwards.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the working directory")
		}
		dir = parent
	}
}

// HasCmd reports whether services/<name>/cmd/<name> holds a main package.
func HasCmd(root, name string) bool {
	_, err := os.Stat(filepath.Join(root, "services", name, "cmd", name, "main.go"))
	return err == nil
}

// NATSUsers parses the users of deploy/nats/accounts.conf: user name →
// the environment variable its password comes from.
func NATSUsers(conf string) map[string]string {
	out := map[string]string{}
	var user string
	for line := range strings.SplitSeq(conf, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, part := range strings.Split(strings.Trim(line, "{} "), ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), ":")
			if !ok {
				continue
			}
			v = strings.Trim(strings.TrimSpace(v), `"'{} `)
			switch strings.TrimSpace(k) {
			case "user":
				user = v
			case "password":
				if user != "" {
					out[user] = strings.TrimPrefix(v, "$")
				}
			}
		}
	}
	return out
}
