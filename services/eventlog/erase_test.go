package eventlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/services/eventlog/store"
)

// streamHas reports whether the stream still holds the message at seq.
func streamHas(t *testing.T, js jetstream.JetStream, stream string, seq uint64) bool {
	t.Helper()
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.GetMsg(context.Background(), seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestForget(t *testing.T) {
	h := embedded(t)
	h.ingest(h.conn, h.st, testBatch(50), prometheus.NewRegistry())
	at := time.Now().Add(-time.Hour)
	annEvent := deleteUser("ann-1", "ann", at)
	bobEvent := deleteUser("bob-1", "bob", at.Add(time.Second))
	h.publish(annEvent, bobEvent)
	out := outcome.New(h.conn, h.ns, "gitlab-sync", events.ProviderGitLab, false, prometheus.NewRegistry())
	// The outcome names ann by email only; the Okta event links it to her id.
	if err := out.Publish(context.Background(), annEvent, outcome.Record{
		Action: "user.block", Result: outcome.Revoked, Person: outcome.Person{Email: "ANN@example.com"},
	}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "stored", func() bool {
		return count(t, h.st, store.Query{Actor: "admin@example.com"}) == 2 && count(t, h.st, store.Query{Actor: "gitlab-sync"}) == 1
	})
	waitUntil(t, "acknowledged", settled(t, h.conn, h.ns))
	annRecs := personRecords(t, h.st, "00uann")
	bobRecs := personRecords(t, h.st, "00ubob")

	// Nothing is erased while a consumer still needs the message.
	lagging := bus.SyncConsumer(h.ns, events.Default(), events.ProviderGitLab)
	lagging.Durable = "lagging-sync"
	if _, err := bus.EnsureConsumer(context.Background(), h.conn.JS, h.ns, lagging, bus.Settings{
		Workers: 1, MaxAckPending: 8, AckWait: time.Minute, MaxDeliver: 3, BackoffBase: time.Second, BackoffMax: time.Second, DrainTimeout: time.Second, LagInterval: time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	req := ErasureRequest{UserID: "ann@example.com", By: "dpo@example.com", Reason: "GDPR-42"}
	if _, err := Forget(context.Background(), h.st, h.conn.JS, req, time.Now()); err == nil || !strings.Contains(err.Error(), "lagging-sync") {
		t.Fatalf("erasure with a consumer behind: %v, want a refusal naming lagging-sync", err)
	}
	if len(personRecords(t, h.st, "00uann")) != len(annRecs) {
		t.Fatal("a refused erasure changed the records")
	}
	for _, r := range annRecs {
		if !streamHas(t, h.conn.JS, r.Stream, r.StreamSeq) {
			t.Fatalf("a refused erasure erased %s/%d from the bus", r.Stream, r.StreamSeq)
		}
	}
	if err := h.conn.JS.DeleteConsumer(context.Background(), h.ns.Stream(bus.StreamEvents), "lagging-sync"); err != nil {
		t.Fatal(err)
	}

	plan, err := PlanErasure(context.Background(), h.st, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if plan.About != 2 || plan.Messages != 2 || !containsFold(plan.Identifiers, "00uann") {
		t.Fatalf("plan %+v: want ann's event and outcome, her Okta id among the identifiers", plan)
	}
	e, err := Forget(context.Background(), h.st, h.conn.JS, req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if e.Records < 2 || e.BusDeleted != 2 || e.BusGone != 0 || !strings.HasPrefix(e.Pseudonym, "forgotten-") {
		t.Fatalf("erasure %+v", e)
	}
	for _, id := range []string{"00uann", "ann@example.com", "ANN@example.com"} {
		if recs := personRecords(t, h.st, id); len(recs) != 0 {
			t.Errorf("%s still finds %d records", id, len(recs))
		}
	}
	for _, r := range annRecs {
		if streamHas(t, h.conn.JS, r.Stream, r.StreamSeq) {
			t.Errorf("ann's message %s/%d is still on the bus", r.Stream, r.StreamSeq)
		}
	}
	for _, r := range personRecords(t, h.st, e.Pseudonym) {
		if bytes.Contains(bytes.ToLower(r.Payload), []byte("ann")) || r.PersonEmail != "" || r.ClientIP != "" {
			t.Errorf("record %s keeps personal data: %+v", r.ID, r)
		}
	}
	// bob is untouched.
	if got := personRecords(t, h.st, "00ubob"); len(got) != len(bobRecs) || got[0].PersonEmail != "bob@example.com" {
		t.Errorf("bob's records changed: %+v", got)
	}
	if !streamHas(t, h.conn.JS, bobRecs[0].Stream, bobRecs[0].StreamSeq) {
		t.Error("bob's message was erased")
	}
	// The erasure is recorded, under the pseudonym, by the operator, with
	// the reference — and without the erased identifiers.
	page, err := h.st.Query(context.Background(), store.Query{Actor: "dpo@example.com", Type: TypeErasure, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 {
		t.Fatalf("%d erasure records, want 1", page.Total)
	}
	rec := page.Records[0]
	if rec.ID != e.RecordID || rec.PersonID != e.Pseudonym || !strings.Contains(rec.Reason, "GDPR-42") || rec.Kind != store.KindErasure {
		t.Errorf("erasure record %+v", rec)
	}
	if bytes.Contains(bytes.ToLower(rec.Payload), []byte("ann")) || strings.Contains(strings.ToLower(rec.Reason), "ann") {
		t.Errorf("the erasure record names the person: %s / %s", rec.Payload, rec.Reason)
	}

	// Again: nothing left to erase, and the request is recorded again.
	again, err := Forget(context.Background(), h.st, h.conn.JS, req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if again.Records != 0 || again.BusDeleted != 0 || again.Identifiers != 1 {
		t.Errorf("second erasure %+v, want nothing left", again)
	}
}

func TestForgetRefusals(t *testing.T) {
	h := embedded(t)
	cases := []struct {
		name string
		js   jetstream.JetStream
		req  ErasureRequest
	}{
		{"no person", h.conn.JS, ErasureRequest{By: "dpo"}},
		{"blank person", h.conn.JS, ErasureRequest{UserID: "  ", By: "dpo"}},
		{"no operator", h.conn.JS, ErasureRequest{UserID: "ann@example.com"}},
		{"no bus", nil, ErasureRequest{UserID: "ann@example.com", By: "dpo"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Forget(context.Background(), h.st, tc.js, tc.req, time.Now()); err == nil {
				t.Fatal("accepted")
			}
			if n := count(t, h.st, store.Query{Type: TypeErasure, Actor: "dpo"}); n != 0 {
				t.Fatalf("a refused erasure was recorded")
			}
		})
	}
}

// TestForgetLinksNoStrangers: an admin's actions on others are
// pseudonymised with the admin, but do not pull the people they acted on
// into the erasure.
func TestForgetLinksNoStrangers(t *testing.T) {
	st := openSQLite(t)
	ctx := context.Background()
	recs := []store.Record{}
	for i, p := range []string{"carl", "dora", "emil"} {
		r := deleteRecord("act-"+p, p, i)
		r.Actor, r.ActorID = "boss@example.com", "00uboss"
		recs = append(recs, r)
	}
	own := deleteRecord("own", "boss", 9)
	recs = append(recs, own)
	if _, err := st.Insert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanErasure(ctx, st, "boss@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if plan.About != 1 || plan.Acted != 3 {
		t.Fatalf("plan %+v: want 1 record about boss and 3 of their actions", plan)
	}
	for _, id := range plan.Identifiers {
		for _, stranger := range []string{"carl", "dora", "emil"} {
			if strings.Contains(id, stranger) {
				t.Errorf("identifier %s of a stranger in the plan", id)
			}
		}
	}
}

func TestSubjectMatches(t *testing.T) {
	cases := []struct {
		filter, subject string
		want            bool
	}{
		{"idsync.events.>", "idsync.events.okta.delete.user", true},
		{"idsync.events.>", "idsync.events", false},
		{"idsync.events.okta.delete.user", "idsync.events.okta.delete.user", true},
		{"idsync.events.okta.delete.user", "idsync.events.okta.create.user", false},
		{"idsync.events.*.delete.user", "idsync.events.okta.delete.user", true},
		{"idsync.events.*", "idsync.events.okta.delete", false},
		{"idsync.outcomes.>", "idsync.events.okta", false},
		{">", "a", true},
	}
	for _, tc := range cases {
		if got := subjectMatches(tc.filter, tc.subject); got != tc.want {
			t.Errorf("subjectMatches(%q, %q) = %v", tc.filter, tc.subject, got)
		}
	}
}

func containsFold(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// deleteRecord is an okta.delete.user record about person at minute m.
func deleteRecord(id, person string, m int) store.Record {
	at := time.Date(2026, 11, 1, 12, m, 0, 0, time.UTC)
	return store.Record{
		ID: id, Kind: store.KindEvent, Occurred: at, Received: at, Type: events.OktaDeleteUser,
		EventType: "okta.UserDeletedEvent", EventName: "Okta User Deleted", PersonID: "00u" + person,
		PersonEmail: person + "@example.com", PersonLogin: person + "@example.com", Actor: "admin@example.com",
		Partition: "default", Payload: []byte(`{"user":"` + person + `"}`),
	}
}

// TestIsMsgGone: every way the server says a message is no longer there
// (an erasure run twice meets them) counts as gone; other failures do not.
func TestIsMsgGone(t *testing.T) {
	folded := func(code int, errCode jetstream.ErrorCode, desc string) error {
		// As the client reports a failed deletion: the API error as text.
		return fmt.Errorf("%w: %s", jetstream.ErrMsgDeleteUnsuccessful, (&jetstream.APIError{Code: code, ErrorCode: errCode, Description: desc}).Error())
	}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"no message found", folded(404, 10037, "no message found"), true},
		{"sequence not found", folded(400, 10043, "sequence 7 not found"), true},
		{"deletion failed: no message found", folded(500, 10057, "no message found"), true},
		{"as an API error", &jetstream.APIError{Code: 404, ErrorCode: jetstream.JSErrCodeMessageNotFound, Description: "no message found"}, true},
		{"deletion not permitted", folded(500, 10057, "message delete not permitted"), false},
		{"stream not found", folded(404, 10059, "stream not found"), false},
		{"timeout", context.DeadlineExceeded, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := isMsgGone(tc.err); got != tc.want {
				t.Errorf("isMsgGone(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
