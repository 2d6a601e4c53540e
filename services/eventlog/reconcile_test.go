package eventlog

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	"github.com/idsync/idsync/services/eventlog/store"
)

// A reconciliation report is recorded as an event of its consumer about no
// one; the outcomes of applying it as each person's records, linked to it.
func TestIngestRecordsReconciliation(t *testing.T) {
	h := embedded(t)
	h.ingest(h.conn, h.st, testBatch(50), prometheus.NewRegistry())
	typ, ok := events.Default().Lookup(events.ReconcileReport)
	if !ok {
		t.Fatal("no report type")
	}
	finished := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	report := events.Event{ID: "reconcile-gitlab-1", Type: typ, Source: "urn:idsync:gitlab-sync", Time: finished, Payload: &eventsv1.ReconcileReport{
		Id: "reconcile-gitlab-1", Provider: "gitlab", Consumer: "gitlab-sync", Trigger: "request", Apply: true,
		Started: timestamppb.New(finished.Add(-time.Second)), Finished: timestamppb.New(finished), ItemCount: 1,
		Counts: &eventsv1.ReconcileCounts{Add: 1, Applied: 1},
		Items: []*eventsv1.ReconcileItem{{Provider: "gitlab", Op: "add", Action: "group_member.add", Result: "applied",
			Target: &eventsv1.ReconcileTarget{Type: "group", Name: "acme/dev"}, Person: &eventsv1.OutcomePerson{SourceId: "00ubea", Email: "bea@example.com"}}},
	}}
	h.publish(report)
	out := outcome.New(h.conn, h.ns, "gitlab-sync", events.ProviderGitLab, false, prometheus.NewRegistry())
	if err := out.Publish(context.Background(), report, outcome.Record{
		RuleID: "devs", Action: "group_member.add", Result: outcome.Granted, Role: "developer",
		Target: outcome.Target{Type: "group", Name: "acme/dev"}, Reason: "reconciliation: not a member",
		Person: outcome.Person{SourceID: "00ubea", Email: "bea@example.com"},
	}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the report and its outcome", func() bool {
		return count(t, h.st, store.Query{Actor: "gitlab-sync", Type: "idsync.ReconcileReportEvent"}) == 1 && count(t, h.st, store.Query{UserID: "bea@example.com"}) == 1
	})
	p, err := h.st.Query(context.Background(), store.Query{Actor: "gitlab-sync", Type: events.ReconcileReport, Limit: 10})
	if err != nil || len(p.Records) != 1 {
		t.Fatalf("report records %v, %v", p.Records, err)
	}
	r := p.Records[0]
	if r.Kind != store.KindEvent || r.PersonID != "" || r.Provider != "gitlab" || !r.Occurred.Equal(finished) ||
		!strings.Contains(r.Reason, "1 items (1 add, 0 change, 0 remove); 1 applied") || r.EventName != "Reconciliation Report" {
		t.Errorf("report record: kind %s person %q provider %q occurred %v reason %q name %q", r.Kind, r.PersonID, r.Provider, r.Occurred, r.Reason, r.EventName)
	}
	// A search by person lists the outcome, not the report (erasure's
	// Person finds both: the report names bea in its items).
	bea, err := h.st.Query(context.Background(), store.Query{UserID: "bea@example.com", Limit: 10})
	if err != nil || len(bea.Records) != 1 {
		t.Fatalf("bea's records %v, %v", bea.Records, err)
	}
	o := bea.Records[0]
	if o.Kind != store.KindOutcome || o.SourceEventID != "reconcile-gitlab-1" || o.Type != "outcome.gitlab.idsync.reconcile.report" || o.EventType != "gitlab.GroupMemberAddedEvent" {
		t.Errorf("outcome record: kind %s source %q type %q event type %q", o.Kind, o.SourceEventID, o.Type, o.EventType)
	}
}
