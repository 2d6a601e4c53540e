package ledger_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/logging"
)

// TestForUserListsOnlyTheUsersLiveGrants: ForUser finds a user's grants at
// one provider — not another user's, not another provider's, not a grant
// deleted after it was revoked.
func TestForUserListsOnlyTheUsersLiveGrants(t *testing.T) {
	ctx := context.Background()
	srv := bustest.Start(t)
	conn, err := bus.Connect(bus.ConnConfig{URL: srv.URL()}, "ledger-test", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.NC.Close)
	ns := bustest.Namespace(t)
	kv, err := bus.KeyValue(ctx, conn.JS, ns, bus.BucketGrants, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(conn.JS, kv)
	for _, g := range []ledger.Grant{
		{Provider: "gitlab", Target: "acme/a", User: "ann@example.com", Role: "developer", RuleID: "r"},
		{Provider: "gitlab", Target: "acme/b", User: "Ann@Example.com", Role: "maintainer", RuleID: "r"},
		{Provider: "gitlab", Target: "acme/c", User: "ann@example.com", Role: "guest", RuleID: "r"},
		{Provider: "gitlab", Target: "acme/a", User: "bob@example.com", Role: "developer", RuleID: "r"},
		{Provider: "github", Target: "acme/t", User: "ann@example.com", Role: "member", RuleID: "r"},
	} {
		if err := l.Put(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Delete(ctx, "gitlab", "acme/c", "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	got, err := l.ForUser(ctx, "gitlab", "ANN@example.com")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, g := range got {
		targets[g.Target] = g.Role
	}
	want := map[string]string{"acme/a": "developer", "acme/b": "maintainer"}
	if len(targets) != len(want) || targets["acme/a"] != want["acme/a"] || targets["acme/b"] != want["acme/b"] {
		t.Fatalf("ForUser = %v, want %v", targets, want)
	}
	if none, err := l.ForUser(ctx, "okta", "ann@example.com"); err != nil || len(none) != 0 {
		t.Fatalf("ForUser at a provider without grants = %v, %v", none, err)
	}
}
