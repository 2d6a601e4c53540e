package idsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/services/idsync"
)

// driftReconciler finds the same two differences every time; applied, it
// converges them.
type driftReconciler struct{}

func (driftReconciler) Diff(context.Context) ([]reconcile.Item, reconcile.Stats, error) {
	return []reconcile.Item{
		{Provider: "gitlab", Op: reconcile.OpAdd, Action: "group_member.add", Target: reconcile.Target{Type: "group", Name: "acme/dev"},
			Person: reconcile.Person{Email: "ann@example.com"}, Role: "developer", RuleID: "devs", Reason: "not a member"},
		{Provider: "gitlab", Op: reconcile.OpRemove, Action: "group_member.remove", Target: reconcile.Target{Type: "group", Name: "acme/dev"},
			Person: reconcile.Person{Email: "eve@example.com"}, Current: "maintainer", RuleID: "devs", Reason: "no rule wants it"},
	}, reconcile.Stats{People: 2, Targets: 1, Calls: map[string]int64{"gitlab": 3}, Notes: []string{"group acme/ops does not exist"}}, nil
}

func (driftReconciler) Apply(_ context.Context, _ events.Event, it reconcile.Item, opts reconcile.Options) (reconcile.Item, error) {
	if it.Op == reconcile.OpRemove && !it.Managed && !opts.RemoveUnmanaged {
		it.Result, it.Detail = reconcile.Skipped, "added outside idsync (IDSYNC_RECONCILE_REMOVE_UNMANAGED, --remove-unmanaged)"
		return it, nil
	}
	it.Result = reconcile.Applied
	return it, nil
}

// serveGitLab runs a gitlab-sync reconciliation endpoint in namespace ns.
func serveGitLab(t *testing.T, srv *bustest.Server, ns events.Namespace) {
	t.Helper()
	conn, err := bus.Connect(bus.ConnConfig{URL: srv.URL()}, "gitlab-sync", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.NC.Close)
	ctx := context.Background()
	if err := bus.EnsureStreams(ctx, conn.JS, ns, bus.StreamConfig{Replicas: 1, MaxAge: time.Hour, MaxBytes: 8 << 20, Duplicates: time.Hour, DLQMaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	locks, err := bus.KeyValue(ctx, conn.JS, ns, bus.BucketLocks, 1)
	if err != nil {
		t.Fatal(err)
	}
	state, err := bus.KeyValue(ctx, conn.JS, ns, bus.BucketReconcile, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := reconcile.NewRunner(ctx, reconcile.RunnerConfig{
		Reconciler: driftReconciler{}, Provider: "gitlab", Consumer: "gitlab-sync", NS: ns, Conn: conn, Locks: locks, State: state,
	})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Serve(sctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for deadline := time.Now().Add(10 * time.Second); !srv.NATS().GlobalAccount().SubscriptionInterest(reconcile.Subject(ns, "gitlab")); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the endpoint never subscribed")
		}
	}
}

func TestReconcileCommand(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	ns := bustest.Namespace(t)
	serveGitLab(t, srv, ns)
	env := map[string]string{"IDSYNC_NATS_URL": srv.URL(), "IDSYNC_NAMESPACE": string(ns)}
	exitCode := func(err error) int {
		var ec interface{ ExitCode() int }
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ec):
			return ec.ExitCode()
		}
		return 1
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"report", []string{"reconcile", "--provider", "gitlab"}, idsync.ExitDrift, []string{
			"gitlab-sync (gitlab): reconcile-gitlab-", "report only", "2 differences: 1 add, 0 change, 1 remove; 2 remaining",
			"scanned 2 people, 1 targets, 3 gitlab calls",
			"\nadd                 group_member.add     group acme/dev  ann@example.com  - → developer        devs  pending  not a member\n", "ann@example.com", "- → developer", "pending",
			"remove (unmanaged)", "eve@example.com", "maintainer → -", "note: group acme/ops does not exist", "drift remains: 2 differences not applied (gitlab 2)",
		}},
		{"apply leaves what was added by hand", []string{"reconcile", "--provider", "gitlab", "--apply"}, idsync.ExitDrift, []string{
			"applied", "1 applied, 0 unchanged, 0 planned, 1 skipped", "1 remaining", "skipped", "--remove-unmanaged",
		}},
		{"apply with removal of unmanaged members converges", []string{"reconcile", "--provider", "gitlab", "--apply", "--remove-unmanaged"}, 0, []string{
			"2 applied", "0 remaining",
		}},
		{"a provider whose consumer does not run", []string{"reconcile", "--provider", "gitlab,okta"}, 1, []string{
			"no okta-sync answers on " + string(ns) + ".reconcile.okta: start okta-sync", "ann@example.com",
		}},
		{"unknown provider", []string{"reconcile", "--provider", "jira"}, 1, []string{`unknown provider "jira"`}},
		{"provider twice", []string{"reconcile", "--provider", "gitlab,gitlab"}, 1, []string{`"gitlab" given twice`}},
		{"remove unmanaged needs apply", []string{"reconcile", "--provider", "gitlab", "--remove-unmanaged"}, 1, []string{"add --apply"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLI(t, env, tc.args...)
			if err != nil {
				out += err.Error()
			}
			if got := exitCode(err); got != tc.code {
				t.Errorf("exit %d, want %d: %v\n%s", got, tc.code, err, out)
			}
			for _, want := range tc.contains {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}

	// --json: every provider's whole report and the errors, in one object.
	out, err := runCLI(t, env, "reconcile", "--provider", "gitlab,okta", "--json")
	if exitCode(err) != 1 {
		t.Fatalf("exit %d, want 1 (okta-sync is not running): %v", exitCode(err), err)
	}
	var got struct {
		Reports []reconcile.Report `json:"reports"`
		Errors  []struct {
			Provider, Message string
		} `json:"errors"`
		Remaining int `json:"remaining"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(got.Reports) != 1 || len(got.Reports[0].Items) != 2 || got.Reports[0].Provider != "gitlab" || got.Remaining != 2 ||
		len(got.Errors) != 1 || got.Errors[0].Provider != "okta" || !strings.Contains(got.Errors[0].Message, "okta-sync") {
		t.Errorf("--json: %+v", got)
	}
}
