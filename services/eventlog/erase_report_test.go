package eventlog

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/events"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	"github.com/idsync/idsync/services/eventlog/store"
)

// reportEvent is a gitlab-sync reconciliation report whose items name
// people (each by source id, email, login and GitLab id).
func reportEvent(id string, at time.Time, people ...string) events.Event {
	typ, _ := events.Default().Lookup(events.ReconcileReport)
	p := &eventsv1.ReconcileReport{
		Id: id, Provider: "gitlab", Consumer: "gitlab-sync", Trigger: "schedule",
		Started: timestamppb.New(at.Add(-time.Second)), Finished: timestamppb.New(at), ItemCount: int32(len(people)),
		Counts: &eventsv1.ReconcileCounts{Remove: int32(len(people)), Pending: int32(len(people))}, Remaining: int32(len(people)),
	}
	for _, who := range people {
		p.Items = append(p.Items, &eventsv1.ReconcileItem{
			Provider: "gitlab", Op: "remove", Action: "group_member.remove", Reason: "no rule wants it",
			Target: &eventsv1.ReconcileTarget{Type: "group", Name: "acme/dev"},
			Person: &eventsv1.OutcomePerson{SourceId: "00u" + who, Email: who + "@example.com", Login: who, ProviderId: "gl-" + who},
		})
	}
	return events.Event{ID: id, Type: typ, Source: "urn:idsync:gitlab-sync", Time: at, Payload: p}
}

// TestForgetReports: forgetting alice erases the report that names her
// (and bob) from the stream and drops its payload in the event log, keeping
// its counts; bob's own records and message stay, and so does a report that
// does not name alice (only people whose identifiers contain hers).
func TestForgetReports(t *testing.T) {
	if store.TypeReport != events.ReconcileReport {
		t.Fatalf("store.TypeReport %q is not the catalog's report type %q", store.TypeReport, events.ReconcileReport)
	}
	h := embedded(t)
	h.ingest(h.conn, h.st, testBatch(50), prometheus.NewRegistry())
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	h.publish(deleteUser("alice-1", "alice", at), deleteUser("bob-1", "bob", at.Add(time.Second)),
		reportEvent("reconcile-gitlab-1", at.Add(2*time.Second), "alice", "bob"),
		reportEvent("reconcile-gitlab-2", at.Add(3*time.Second), "bob", "malice", "alice.smith"))
	reports := func() map[string]store.Record {
		t.Helper()
		p, err := h.st.Query(context.Background(), store.Query{Actor: "gitlab-sync", Type: events.ReconcileReport, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.Record{}
		for _, r := range p.Records {
			out[r.ID] = r
		}
		return out
	}
	waitUntil(t, "stored", func() bool {
		return count(t, h.st, store.Query{Actor: "admin@example.com"}) == 2 && len(reports()) == 2
	})
	waitUntil(t, "acknowledged", settled(t, h.conn, h.ns))
	before := reports()
	both, other := before["reconcile-gitlab-1"], before["reconcile-gitlab-2"]
	if !store.IsReport(both) || both.Stream == "" || both.StreamSeq == 0 {
		t.Fatalf("the report's record %+v: want a report about no one, located on the bus", both)
	}
	own := func(recs []store.Record) (own, reports []store.Record) {
		for _, r := range recs {
			if store.IsReport(r) {
				reports = append(reports, r)
			} else {
				own = append(own, r)
			}
		}
		return own, reports
	}
	bobRecs, bobReports := own(personRecords(t, h.st, "00ubob"))
	if len(bobRecs) != 1 || len(bobReports) != 2 {
		t.Fatalf("bob has %d records and is named in %d reports, want 1 and 2", len(bobRecs), len(bobReports))
	}

	plan, err := PlanErasure(context.Background(), h.st, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if plan.About != 1 || plan.Reports != 1 || plan.Acted != 0 || plan.Messages != 2 {
		t.Fatalf("plan: %d about, %d reports, %d acted, %d messages; want alice's event, the report naming her, and both their messages",
			plan.About, plan.Reports, plan.Acted, plan.Messages)
	}
	for _, id := range plan.Identifiers {
		if id == "00ubob" || id == "bob@example.com" {
			t.Fatalf("the shared report pulled bob into the erasure: %v", plan.Identifiers)
		}
	}
	e, err := Forget(context.Background(), h.st, h.conn.JS, ErasureRequest{UserID: "alice@example.com", By: "dpo@example.com"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if e.BusDeleted != 2 || e.BusGone != 0 || e.Records != 2 {
		t.Fatalf("erasure %+v: want alice's event and the report erased from the bus and the store", e)
	}

	after := reports()
	if got := after[both.ID]; got.Payload != nil || got.Reason != both.Reason || got.Provider != "gitlab" || got.StreamSeq != both.StreamSeq {
		t.Errorf("the report naming alice: payload %s, reason %q (want none, and %q kept)", got.Payload, got.Reason, both.Reason)
	}
	if streamHas(t, h.conn.JS, both.Stream, both.StreamSeq) {
		t.Error("the report naming alice is still on the bus")
	}
	if got := after[other.ID]; !bytes.Equal(got.Payload, other.Payload) || !bytes.Contains(got.Payload, []byte(`"malice@example.com"`)) {
		t.Errorf("the report not naming alice changed: %s", got.Payload)
	}
	if !streamHas(t, h.conn.JS, other.Stream, other.StreamSeq) {
		t.Error("the report not naming alice was erased from the bus")
	}
	for _, id := range []string{"00ualice", "alice@example.com", "alice", "gl-alice"} {
		if recs := personRecords(t, h.st, id); len(recs) != 0 {
			t.Errorf("%s still finds %d records", id, len(recs))
		}
	}
	// bob's own records and message stay; he is still found in the report
	// that names him and not alice.
	got, gotReports := own(personRecords(t, h.st, "00ubob"))
	if len(got) != 1 || !bytes.Equal(got[0].Payload, bobRecs[0].Payload) || got[0].PersonEmail != "bob@example.com" {
		t.Errorf("bob's records changed: %+v", got)
	}
	if !streamHas(t, h.conn.JS, bobRecs[0].Stream, bobRecs[0].StreamSeq) {
		t.Error("bob's message was erased")
	}
	if len(gotReports) != 1 || gotReports[0].ID != other.ID {
		t.Errorf("bob is named in the reports %+v, want %s only", gotReports, other.ID)
	}

	// Again: nothing is left to erase.
	again, err := Forget(context.Background(), h.st, h.conn.JS, ErasureRequest{UserID: "alice@example.com", By: "dpo@example.com"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if again.Records != 0 || again.BusDeleted != 0 {
		t.Errorf("second erasure %+v, want nothing left", again)
	}
}
