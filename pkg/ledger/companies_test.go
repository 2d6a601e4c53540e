package ledger_test

import (
	"context"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/logging"
)

// TestCompaniesListsTheProvidersLiveGrants: the companies of one
// provider's grants, each once — not another provider's, not a grant's
// revoked since; none for a provider without grants.
func TestCompaniesListsTheProvidersLiveGrants(t *testing.T) {
	ctx := context.Background()
	srv := bustest.Start(t)
	conn, err := bus.Connect(bus.ConnConfig{URL: srv.URL()}, "ledger-test", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.NC.Close)
	kv, err := bus.KeyValue(ctx, conn.JS, bustest.Namespace(t), bus.BucketGrants, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(conn.JS, kv)
	for _, g := range []ledger.Grant{
		{Provider: "okta", Target: "group:a", User: "00u1", RuleID: "r", CompanyID: "acme"},
		{Provider: "okta", Target: "group:b", User: "00u2", RuleID: "r", CompanyID: "acme"},
		{Provider: "okta", Target: "group:c", User: "00u1", RuleID: "r", CompanyID: "beta"},
		{Provider: "okta", Target: "group:d", User: "00u1", RuleID: "r", CompanyID: "gone"},
		{Provider: "okta", Target: "group:e", User: "00u3", RuleID: "r"},
		{Provider: "gitlab", Target: "acme/a", User: "ann", RuleID: "r", CompanyID: "other"},
	} {
		if err := l.Put(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Delete(ctx, "okta", "group:d", "00u1"); err != nil {
		t.Fatal(err)
	}
	got, err := l.Companies(ctx, "okta")
	if err != nil || !slices.Equal(got, []string{"acme", "beta"}) {
		t.Fatalf("Companies(okta) = %v, %v; want [acme beta]", got, err)
	}
	if none, err := l.Companies(ctx, "github"); err != nil || len(none) != 0 {
		t.Fatalf("Companies(github) = %v, %v; want none", none, err)
	}
}
