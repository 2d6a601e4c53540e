package bus_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
)

func TestEnsureStreamsIsIdempotentAndApplies(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		ctx := context.Background()
		// Again with the same settings: no error, no change.
		if err := bus.EnsureStreams(ctx, conn.JS, tg.NS, testStreams); err != nil {
			t.Fatal(err)
		}
		changed := testStreams
		changed.MaxAge = 2 * time.Hour
		if err := bus.EnsureStreams(ctx, conn.JS, tg.NS, changed); err != nil {
			t.Fatal(err)
		}
		if err := bus.StreamsPresent(ctx, conn.JS, tg.NS); err != nil {
			t.Fatal(err)
		}
		for _, base := range []string{bus.StreamEvents, bus.StreamOutcomes} {
			s, err := conn.JS.Stream(ctx, tg.NS.Stream(base))
			if err != nil {
				t.Fatal(err)
			}
			cfg := s.CachedInfo().Config
			if cfg.MaxAge != 2*time.Hour {
				t.Errorf("%s MaxAge = %s, want 2h", base, cfg.MaxAge)
			}
			if cfg.Duplicates != testStreams.Duplicates || cfg.Discard.String() != "DiscardNew" {
				t.Errorf("%s duplicates %s discard %s", base, cfg.Duplicates, cfg.Discard)
			}
		}
	})
}

func TestSyncConsumersFilterExactlyTheirMatrixRows(t *testing.T) {
	ns := events.DefaultNamespace
	want := map[string][]string{
		events.ProviderOkta:    {"idsync.events.console.create.project", "idsync.events.console.update.user.permission"},
		events.ProviderGitLab:  {"idsync.events.console.update.user.permission", "idsync.events.okta.create.user", "idsync.events.okta.delete.user"},
		events.ProviderGitHub:  {"idsync.events.console.update.user.permission", "idsync.events.okta.delete.user"},
		events.ProviderConsole: {"idsync.events.okta.create.user", "idsync.events.okta.delete.user"},
	}
	for provider, subjects := range want {
		spec := bus.SyncConsumer(ns, events.Default(), provider)
		got := slices.Sorted(slices.Values(spec.FilterSubjects))
		if !slices.Equal(got, subjects) || spec.Durable != provider+"-sync" || spec.Stream != bus.StreamEvents {
			t.Errorf("%s: %+v, want filters %v", provider, spec, subjects)
		}
	}
}

func TestEnsureConsumerWithSeveralFilters(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		if !tg.SupportsMultiFilter() {
			t.Skipf("NATS %s takes one filter subject per consumer; multi-filter consumers need 2.10+ (the embedded run covers this)", tg.Version)
		}
		conn := connect(t, tg)
		spec := bus.SyncConsumer(tg.NS, events.Default(), events.ProviderGitLab)
		c, err := bus.EnsureConsumer(context.Background(), conn.JS, tg.NS, spec, testSettings())
		if err != nil {
			t.Fatal(err)
		}
		info := c.CachedInfo()
		if len(info.Config.FilterSubjects) != 3 || info.Config.MaxDeliver != 5 || info.Config.AckPolicy.String() != "AckExplicit" {
			t.Fatalf("consumer config = %+v", info.Config)
		}
		// Publish one event per matrix row and one the consumer must not see.
		publish(t, conn, tg.NS, deleteUserEvent("x1", "00u1"))
		waitFor(t, "pending", func() bool { return consumerInfo(t, conn, tg.NS, spec.Durable).NumPending == 1 })
	})
}
