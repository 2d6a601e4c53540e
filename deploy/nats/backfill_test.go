package natsconf_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/known"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/oktalog"
	oktabackfill "github.com/idsync/idsync/services/okta-backfill"
)

// backfillCase is the okta-backfill user's row of TestAccounts.
func backfillCase() struct {
	user        string
	does        func(t *testing.T, h *harness, c *client)
	denyCall    func(ctx context.Context, c *client) error
	denySubject string
	denyPublish []string
	denySub     []string
} {
	return struct {
		user        string
		does        func(t *testing.T, h *harness, c *client)
		denyCall    func(ctx context.Context, c *client) error
		denySubject string
		denyPublish []string
		denySub     []string
	}{
		user: "okta-backfill",
		does: backfillDoes,
		denyCall: func(ctx context.Context, c *client) error {
			_, err := c.conn.JS.Stream(ctx, ns.Stream("OUTCOMES"))
			return err
		},
		denySubject: "$JS.API.STREAM.INFO.IDSYNC_OUTCOMES",
		denyPublish: []string{
			"idsync.events.console.tag_created", "idsync.events.idsync.reconcile.report", "idsync.outcomes.okta.okta.delete.user",
			"idsync.dlq.okta-sync", "idsync.reconcile.okta",
			"$KV.IDSYNC_GRANTS.okta.x", "$KV.IDSYNC_LOCKS.reconcile.okta", "$KV.IDSYNC_OKTA_BACKFILL.other",
			"$JS.API.DIRECT.GET.KV_IDSYNC_LOCKS.$KV.IDSYNC_LOCKS.reconcile.okta",
			"$JS.API.STREAM.DELETE.IDSYNC_EVENTS", "$JS.API.STREAM.CREATE.OTHER", "$JS.API.STREAM.UPDATE.IDSYNC_EVENTS",
			"$JS.API.STREAM.MSG.GET.IDSYNC_EVENTS", "$JS.API.CONSUMER.CREATE.IDSYNC_EVENTS.okta-backfill",
			"$JS.API.STREAM.PURGE.KV_IDSYNC_OKTA_BACKFILL",
		},
		denySub: []string{"idsync.>", "$KV.>", "idsync.eventlog.known"},
	}
}

// backfillDoes runs the backfill as okta-backfill runs it (oktabackfill.Start
// with IDSYNC_NATS_MANAGE_TOPOLOGY=false: buckets, lease, publisher, the
// event log's index) against an Okta fake, with the event log answering
// idsync.eventlog.known as the user eventlog. An event older than the
// duplicate window makes the backfill ask the event log.
func backfillDoes(t *testing.T, h *harness, c *client) {
	el := h.connect(t, "eventlog")
	sub, err := known.Serve(el.conn.NC, ns, func(_ context.Context, ids []string) (map[string]bool, error) {
		return map[string]bool{"bf-old-held": true}, nil
	}, time.Second, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	fake := oktafake.New("bf-token")
	web := httptest.NewServer(fake.Handler())
	defer web.Close()
	fake.SetBaseURL(web.URL)
	user := []oktafake.LogEntity{{ID: "00ubf", Type: "User", AlternateID: "bf@example.com"}}
	fake.AppendLog(
		oktafake.LogEvent{UUID: "bf-recent", EventType: events.OktaUserDeleteInitiated, Published: time.Now().Add(-time.Minute), Target: user},
		oktafake.LogEvent{UUID: "bf-old-held", EventType: events.OktaUserDeleteInitiated, Published: time.Now().Add(-30 * time.Hour), Target: user},
		oktafake.LogEvent{UUID: "bf-old-new", EventType: events.OktaUserCreate, Published: time.Now().Add(-29 * time.Hour), Target: user},
	)
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bf, err := oktabackfill.Start(ctx, oktabackfill.Params{
		Okta:     okta.Config{OrgURL: web.URL, APIToken: config.Secret("bf-token"), Timeout: 5 * time.Second},
		Backfill: oktalog.Config{Interval: 200 * time.Millisecond, Lookback: 48 * time.Hour, Overlap: time.Minute, PageSize: 2},
		Routing:  oktahook.Routing{}, RawMax: 1 << 16, PublishTimeout: 5 * time.Second,
		NS: ns, Replicas: 1, Conn: c.conn, Log: logging.Discard(), Reg: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- bf.Run(ctx) }()
	result := func(r string) float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "idsync_okta_backfill_events_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == r {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	for deadline := time.Now().Add(15 * time.Second); result("published") != 2 || result("known") != 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("okta-backfill: published %v, known %v; want 2 and 1", result("published"), result("known"))
		}
	}
	// Stopping releases the lease.
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	el.noViolations(t)
}
