package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	"github.com/idsync/idsync/services/eventlog/store"
)

// reportRecord is a reconciliation report's record (store.IsReport) at
// minute m whose items name people, its payload as the event log stores
// it: the ReconcileReport in protojson.
func reportRecord(id string, m int, people ...*eventsv1.OutcomePerson) store.Record {
	p := &eventsv1.ReconcileReport{Id: id, Provider: "gitlab", Consumer: "gitlab-sync", Trigger: "schedule",
		ItemCount: int32(len(people)), Counts: &eventsv1.ReconcileCounts{Remove: int32(len(people)), Pending: int32(len(people))}}
	for _, pe := range people {
		p.Items = append(p.Items, &eventsv1.ReconcileItem{Provider: "gitlab", Op: "remove", Action: "group_member.remove",
			Target: &eventsv1.ReconcileTarget{Type: "group", Name: "acme/dev"}, Person: pe, Reason: "no rule wants it"})
	}
	payload, err := protojson.Marshal(p)
	if err != nil {
		panic(err)
	}
	r := Rec(id, "", m)
	r.Type, r.EventType, r.EventName = store.TypeReport, "idsync.ReconcileReportEvent", "Reconciliation Report"
	r.PersonID, r.PersonEmail, r.PersonLogin, r.ClientIP, r.UserAgent = "", "", "", "", ""
	r.Actor, r.ActorID, r.Provider, r.Partition = "gitlab-sync", "", "gitlab", "default"
	r.Reason = "gitlab reconciliation (schedule, report only): 2 items (0 add, 0 change, 2 remove); 2 remaining"
	r.Subject = "idsync.events.idsync.reconcile.report"
	r.Payload = payload
	return r
}

// person is an item's person, as the consumers fill it.
func person(name string) *eventsv1.OutcomePerson {
	return &eventsv1.OutcomePerson{SourceId: "00u" + name, Email: name + "@Example.com", Login: name, ProviderId: "gl-" + name}
}

// reportsOf are the ids of the report records among recs.
func reportsOf(recs []store.Record) []string {
	var out []string
	for _, r := range recs {
		if store.IsReport(r) {
			out = append(out, r.ID)
		}
	}
	return out
}

// reports: Person finds the reports whose payload names the person by any
// identifier, as a whole JSON string value regardless of case (and
// however the encoder escaped it), only among report records, and never
// for identifiers shorter than store.MinMention; Forget drops those
// payloads, counts them and keeps everything else of the reports.
func reports(t *testing.T, s store.Store) {
	defer s.Close()
	ctx := context.Background()
	both := reportRecord("rep-both", 1, person("alice"), person("bob"))
	bobOnly := reportRecord("rep-bob", 2, person("bob"),
		&eventsv1.OutcomePerson{Email: "malice@example.com", Login: "alice@example.com.au", SourceId: "00ualice2"})
	// A report dead-lettered: the same payload, kind and type from its headers.
	dead := reportRecord("rep-dead", 3, person("alice"))
	dead.Kind, dead.EventType, dead.Actor, dead.Outcome = store.KindDeadLetter, "idsync.DeadLetterEvent", "eventlog", "permanent"
	// encoding/json escapes <, > and &, protojson does not: both are found.
	odd := "D<&>n@example.com"
	oddProto := reportRecord("rep-odd-protojson", 4, &eventsv1.OutcomePerson{Email: odd})
	oddJSON := reportRecord("rep-odd-json", 5)
	oddJSON.Payload, _ = json.Marshal(map[string]any{"items": []any{map[string]any{"person": map[string]string{"email": odd}}}})
	// Bytes a payload may hold when it is not the event log's JSON (a dead
	// letter keeps what it was sent): no store fails on them.
	binary := reportRecord("rep-binary", 6)
	binary.Kind, binary.Payload = store.KindDeadLetter, []byte("\x00\xff\xfe\"al\\\"\x00\"ALICE@example.com\"\xc3")
	// Not reports: found only by their person fields, whatever the payload.
	other := Rec("carol-event", "carol", 7)
	other.Payload = []byte(`{"note":"alice@example.com"}`)
	short := reportRecord("rep-short", 8, &eventsv1.OutcomePerson{Login: "al", Email: "x@y"})
	accent := reportRecord("rep-accent", 9, &eventsv1.OutcomePerson{Email: "Ünal@Example.COM"})
	insert(t, s, both, bobOnly, dead, oddProto, oddJSON, binary, other, short, accent)

	// stored are the reports as stored now, oldest first.
	stored := func() []store.Record {
		t.Helper()
		recs := query(t, s, store.Query{Actor: "gitlab-sync"}).Records
		recs = append(recs, query(t, s, store.Query{Actor: "eventlog"}).Records...)
		slices.SortFunc(recs, func(a, b store.Record) int { return a.Occurred.Compare(b.Occurred) })
		return recs
	}
	found := func(id string) []string {
		t.Helper()
		recs, err := s.Person(ctx, id)
		if err != nil {
			t.Fatalf("Person(%q): %v", id, err)
		}
		// Every report found names the person as Mentions says, and the
		// store found every one that does.
		var want []string
		for _, r := range stored() {
			if store.IsReport(r) && store.Mentions(r.Payload, id) {
				want = append(want, r.ID)
			}
		}
		got := reportsOf(recs)
		if !slices.Equal(got, want) {
			t.Errorf("Person(%q) found the reports %v; store.Mentions says %v", id, got, want)
		}
		return got
	}
	cases := []struct {
		id   string
		want []string
	}{
		{"00ualice", []string{"rep-both", "rep-dead"}},
		{"alice@example.com", []string{"rep-both", "rep-dead", "rep-binary"}},
		{"ALICE@EXAMPLE.COM", []string{"rep-both", "rep-dead", "rep-binary"}},
		{"alice", []string{"rep-both", "rep-dead"}},
		{"gl-bob", []string{"rep-both", "rep-bob"}},
		{"d<&>N@example.com", []string{"rep-odd-protojson", "rep-odd-json"}},
		{"example.com", nil}, // part of values, never a whole one
		{"al", nil},          // too short to look for
		{"x@y", []string{"rep-short"}},
		{"carol@example.com", nil},
		// Only ASCII letters are compared regardless of case (SQLite's
		// lower() folds no others).
		{"Ünal@example.com", []string{"rep-accent"}},
		{"ünal@example.com", nil},
	}
	for _, tc := range cases {
		if got := found(tc.id); !slices.Equal(got, tc.want) {
			t.Errorf("Person(%q): reports %v, want %v", tc.id, got, tc.want)
		}
	}
	if recs, _ := s.Person(ctx, "alice@example.com"); slices.ContainsFunc(recs, func(r store.Record) bool { return r.ID == "carol-event" }) {
		t.Error("a record that is not a report was found by its payload")
	}

	// Forgetting alice by each identifier: the first drops the payloads of
	// the reports naming her, the others find nothing left.
	var n int
	for _, id := range []string{"alice@example.com", "00ualice", "alice", "gl-alice"} {
		k, err := s.Forget(ctx, id, "forgotten-alice")
		if err != nil {
			t.Fatalf("Forget(%q): %v", id, err)
		}
		n += k
	}
	if n != 3 {
		t.Errorf("forgot %d records, want 3 (the reports naming alice: rep-both, rep-dead, rep-binary)", n)
	}
	for _, id := range []string{"alice@example.com", "00ualice", "Alice"} {
		if got := found(id); len(got) != 0 {
			t.Errorf("after forgetting, %s still finds the reports %v", id, got)
		}
	}
	byID := map[string]store.Record{}
	for _, r := range stored() {
		byID[r.ID] = r
	}
	for _, want := range []store.Record{both, bobOnly, dead, oddProto, oddJSON, binary, short, accent} {
		got, ok := byID[want.ID]
		if !ok {
			t.Fatalf("report %s is gone", want.ID)
		}
		forgotten := want.ID == "rep-both" || want.ID == "rep-dead" || want.ID == "rep-binary"
		switch {
		case forgotten && got.Payload != nil:
			t.Errorf("%s names alice and keeps its payload: %s", want.ID, got.Payload)
		case !forgotten && string(got.Payload) != string(want.Payload):
			t.Errorf("%s does not name alice and its payload changed: %s", want.ID, got.Payload)
		}
		if got.Reason != want.Reason || got.Actor != want.Actor || got.Provider != want.Provider || got.Type != want.Type ||
			got.Kind != want.Kind || got.StreamSeq != want.StreamSeq || got.PersonID != "" {
			t.Errorf("%s changed beyond its payload: %+v", want.ID, got)
		}
	}
	// bob is still named where he was, but no longer in the report alice
	// shared with him.
	if got := found("bob@example.com"); !slices.Equal(got, []string{"rep-bob"}) {
		t.Errorf("bob's reports %v, want rep-bob", got)
	}
	if p := query(t, s, store.Query{UserID: "00ucarol"}); len(p.Records) != 1 || string(p.Records[0].Payload) != string(other.Payload) {
		t.Errorf("carol's record changed: %+v", p.Records)
	}
}
