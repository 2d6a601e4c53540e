// Package storetest is the contract every event-log store must meet: the
// same tests run against SQLite and PostgreSQL.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idsync/idsync/services/eventlog/store"
)

// Opener returns an empty store for one test; the store is closed by the
// suite.
type Opener func(t *testing.T) store.Store

// base is the time the suite's records happen around.
var base = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// Rec builds a record about person at minute m after the suite's base time.
func Rec(id, person string, m int) store.Record {
	return store.Record{
		ID: id, Kind: store.KindEvent, Occurred: base.Add(time.Duration(m) * time.Minute), Received: time.Now().UTC(),
		Type: "okta.delete.user", EventType: "okta.UserDeletedEvent", EventName: "Okta User Deleted",
		PersonID: "00u" + person, PersonEmail: person + "@Example.com", PersonLogin: person + "@example.com",
		Actor: "admin@example.com", ActorID: "00uadmin", ClientIP: "192.0.2.1", UserAgent: "Mozilla/5.0",
		Partition: "acme", Reason: "", Subject: "idsync.events.okta.delete.user", Stream: "IDSYNC_EVENTS", StreamSeq: uint64(m + 1),
		Payload: []byte(`{"user":{"login":"` + person + `@example.com"}}`),
	}
}

// Run runs the whole contract.
func Run(t *testing.T, open Opener) {
	t.Run("insert is idempotent", func(t *testing.T) { insertIdempotent(t, open(t)) })
	t.Run("round trip of every field", func(t *testing.T) { roundTrip(t, open(t)) })
	t.Run("filters", func(t *testing.T) { filters(t, open(t)) })
	t.Run("order and pages", func(t *testing.T) { orderAndPages(t, open(t)) })
	t.Run("keyset pages are stable under concurrent inserts", func(t *testing.T) { stableUnderInserts(t, open(t)) })
	t.Run("forget pseudonymises a person", func(t *testing.T) { forget(t, open(t)) })
	t.Run("person and forget find the reports naming a person", func(t *testing.T) { reports(t, open(t)) })
	t.Run("purge deletes old records only", func(t *testing.T) { purge(t, open(t)) })
	t.Run("records across months: order, keyset pages and purge", func(t *testing.T) { acrossMonths(t, open(t)) })
	t.Run("a record matching in several fields is found once", func(t *testing.T) { matchedTwice(t, open(t)) })
	t.Run("a record without payload has none", func(t *testing.T) { noPayload(t, open(t)) })
	t.Run("an empty user id finds and forgets nobody", func(t *testing.T) { emptyUser(t, open(t)) })
	t.Run("known reports the stored ids among those asked", func(t *testing.T) { known(t, open(t)) })
}

func insert(t *testing.T, s store.Store, recs ...store.Record) int {
	t.Helper()
	isNew, err := s.Insert(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(isNew) != len(recs) {
		t.Fatalf("Insert reported on %d records of %d", len(isNew), len(recs))
	}
	return store.Count(isNew)
}

func query(t *testing.T, s store.Store, q store.Query) store.Page {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	p, err := s.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ids(p store.Page) []string {
	out := make([]string, len(p.Records))
	for i, r := range p.Records {
		out[i] = r.ID
	}
	return out
}

func insertIdempotent(t *testing.T, s store.Store) {
	defer s.Close()
	if n := insert(t, s, Rec("a", "ann", 1), Rec("b", "ann", 2)); n != 2 {
		t.Fatalf("inserted %d, want 2", n)
	}
	// A redelivered batch, partly new.
	if n := insert(t, s, Rec("b", "ann", 2), Rec("c", "ann", 3), Rec("a", "ann", 1)); n != 1 {
		t.Fatalf("inserted %d, want 1 (a and b exist)", n)
	}
	// The same record twice in one batch: the first is the new one.
	isNew, err := s.Insert(context.Background(), []store.Record{Rec("c", "ann", 3), Rec("d", "ann", 4), Rec("d", "ann", 4)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(isNew, []bool{false, true, false}) {
		t.Fatalf("new: %v, want [false true false]", isNew)
	}
	if p := query(t, s, store.Query{UserID: "00uann"}); p.Total != 4 {
		t.Fatalf("total %d, want 4", p.Total)
	}
}

func roundTrip(t *testing.T, s store.Store) {
	defer s.Close()
	in := Rec("rt", "ann", 7)
	in.Kind, in.Outcome, in.Provider, in.RuleID, in.SourceEventID, in.Reason = store.KindOutcome, "revoked", "gitlab", "r1", "ev-9", "left the company"
	insert(t, s, in)
	p := query(t, s, store.Query{UserID: "ann@example.com"})
	if len(p.Records) != 1 {
		t.Fatalf("got %d records", len(p.Records))
	}
	got := p.Records[0]
	if got.Seq <= 0 {
		t.Errorf("seq %d not assigned", got.Seq)
	}
	want := in
	want.Seq, want.PersonEmail = got.Seq, "ann@example.com"
	want.Received = got.Received
	if !got.Occurred.Equal(in.Occurred) || got.Received.Sub(in.Received).Abs() > time.Millisecond {
		t.Errorf("times %v %v, want %v %v", got.Occurred, got.Received, in.Occurred, in.Received)
	}
	got.Occurred, want.Occurred = time.Time{}, time.Time{}
	got.Received, want.Received = time.Time{}, time.Time{}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, want)
	}
}

func filters(t *testing.T, s store.Store) {
	defer s.Close()
	o := Rec("o1", "bob", 5)
	o.Kind, o.Type, o.EventType, o.Outcome, o.Actor, o.ActorID = store.KindOutcome, "outcome.gitlab.okta.delete.user", "gitlab.UserBlockedEvent", "revoked", "gitlab-sync", ""
	insert(t, s, Rec("e1", "ann", 1), Rec("e2", "bob", 2), Rec("e3", "ann", 3), o)
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"person id", store.Query{UserID: "00uann"}, []string{"e3", "e1"}},
		{"email in any case", store.Query{UserID: "ANN@EXAMPLE.COM"}, []string{"e3", "e1"}},
		{"login", store.Query{UserID: "bob@example.com"}, []string{"o1", "e2"}},
		{"actor", store.Query{Actor: "gitlab-sync"}, []string{"o1"}},
		{"actor id", store.Query{Actor: "00uadmin"}, []string{"e3", "e2", "e1"}},
		{"person and actor", store.Query{UserID: "00ubob", Actor: "admin@example.com"}, []string{"e2"}},
		{"type by catalog name", store.Query{UserID: "00ubob", Type: "okta.delete.user"}, []string{"e2"}},
		{"type by event type", store.Query{Type: "gitlab.UserBlockedEvent"}, []string{"o1"}},
		{"outcome", store.Query{Outcome: "revoked"}, []string{"o1"}},
		{"from", store.Query{UserID: "00uann", From: base.Add(2 * time.Minute)}, []string{"e3"}},
		{"to (exclusive)", store.Query{UserID: "00uann", To: base.Add(3 * time.Minute)}, []string{"e1"}},
		{"nobody", store.Query{UserID: "carol@example.com"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := query(t, s, tc.q)
			if got := ids(p); !slices.Equal(got, tc.want) || p.Total != len(tc.want) {
				t.Fatalf("got %v (total %d), want %v", got, p.Total, tc.want)
			}
		})
	}
}

func orderAndPages(t *testing.T, s store.Store) {
	defer s.Close()
	// Two records at the same minute: the later insert is newer.
	insert(t, s, Rec("m1", "ann", 1), Rec("m3", "ann", 3), Rec("m2a", "ann", 2))
	insert(t, s, Rec("m2b", "ann", 2))
	all := ids(query(t, s, store.Query{UserID: "00uann"}))
	if want := []string{"m3", "m2b", "m2a", "m1"}; !slices.Equal(all, want) {
		t.Fatalf("order %v, want %v", all, want)
	}
	p := query(t, s, store.Query{UserID: "00uann", Limit: 2, Offset: 1})
	if got := ids(p); !slices.Equal(got, []string{"m2b", "m2a"}) || p.Total != 4 {
		t.Fatalf("offset page %v total %d", got, p.Total)
	}
	p = query(t, s, store.Query{UserID: "00uann", Limit: 2, Offset: 10})
	if len(p.Records) != 0 || p.Total != 4 {
		t.Fatalf("past the end: %v total %d", ids(p), p.Total)
	}
	first := query(t, s, store.Query{UserID: "00uann", Limit: 2})
	last := first.Records[len(first.Records)-1]
	next := query(t, s, store.Query{UserID: "00uann", Limit: 2, After: &store.Position{Occurred: last.Occurred, Seq: last.Seq}})
	if got := ids(next); !slices.Equal(got, []string{"m2a", "m1"}) {
		t.Fatalf("keyset page %v", got)
	}
}

func stableUnderInserts(t *testing.T, s store.Store) {
	defer s.Close()
	var seed []store.Record
	for i := range 300 {
		seed = append(seed, Rec(fmt.Sprintf("s%03d", i), "ann", i))
	}
	insert(t, s, seed...)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		// New records arrive, some newer and some older than the pages read.
		for i := 0; ctx.Err() == nil; i++ {
			m := 1000 + i
			if i%2 == 0 {
				m = -1 - i
			}
			if _, err := s.Insert(ctx, []store.Record{Rec(fmt.Sprintf("n%05d", i), "ann", m)}); err != nil && ctx.Err() == nil {
				t.Errorf("insert: %v", err)
				return
			}
		}
	})
	seen := map[string]int{}
	var after *store.Position
	prevTotal := 0
	for {
		p, err := s.Query(context.Background(), store.Query{UserID: "00uann", Limit: 25, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total < prevTotal {
			t.Fatalf("total went down from %d to %d while only inserting", prevTotal, p.Total)
		}
		prevTotal = p.Total
		for _, r := range p.Records {
			seen[r.ID]++
		}
		if len(p.Records) < 25 {
			break
		}
		last := p.Records[len(p.Records)-1]
		after = &store.Position{Occurred: last.Occurred, Seq: last.Seq}
	}
	cancel()
	wg.Wait()
	for _, r := range seed {
		if seen[r.ID] != 1 {
			t.Fatalf("%s seen %d times while paging during inserts", r.ID, seen[r.ID])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", id, n)
		}
	}
}

func forget(t *testing.T, s store.Store) {
	defer s.Close()
	insert(t, s, Rec("f1", "ann", 1), Rec("f2", "ann", 2), Rec("f3", "bob", 3))
	admin := Rec("f4", "bob", 4)
	admin.Actor, admin.ActorID = "ann@example.com", "00uann"
	insert(t, s, admin)
	// Her records: the two about her and the one she acted in.
	recs, err := s.Person(context.Background(), "ann@example.com")
	if err != nil || len(recs) != 3 {
		t.Fatalf("person records %d %v", len(recs), err)
	}
	n, err := s.Forget(context.Background(), "00uann", "forgotten-1")
	if err != nil || n != 3 {
		t.Fatalf("forgot %d records (%v), want 3 (two about ann, one she acted in)", n, err)
	}
	if p := query(t, s, store.Query{UserID: "00uann"}); p.Total != 0 {
		t.Fatalf("ann still found: %v", ids(p))
	}
	if p := query(t, s, store.Query{UserID: "ann@example.com"}); p.Total != 0 {
		t.Fatalf("ann still found by email")
	}
	p := query(t, s, store.Query{UserID: "forgotten-1"})
	if p.Total != 2 {
		t.Fatalf("pseudonym finds %d", p.Total)
	}
	for _, r := range p.Records {
		if r.PersonEmail != "" || r.PersonLogin != "" || r.ClientIP != "" || r.UserAgent != "" || r.Payload != nil {
			t.Fatalf("personal data left: %+v", r)
		}
	}
	b := query(t, s, store.Query{UserID: "00ubob"})
	for _, r := range b.Records {
		if r.ID == "f4" && (r.Actor != "forgotten-1" || r.ActorID != "" || r.Payload != nil) {
			t.Fatalf("ann as actor not pseudonymised: %+v", r)
		}
		if r.ID == "f3" && r.Payload == nil {
			t.Fatal("bob's own record lost its payload")
		}
	}
}

func purge(t *testing.T, s store.Store) {
	defer s.Close()
	var recs []store.Record
	for i := range 5000 {
		recs = append(recs, Rec(fmt.Sprintf("p%05d", i), "ann", i))
	}
	er := Rec("erasure", "ann", 0)
	er.Kind = store.KindErasure
	recs = append(recs, er)
	insert(t, s, recs...)
	n, err := s.Purge(context.Background(), base.Add(4000*time.Minute))
	if err != nil || n != 4000 {
		t.Fatalf("purged %d (%v), want 4000", n, err)
	}
	if p := query(t, s, store.Query{UserID: "00uann", Limit: 1}); p.Total != 1001 {
		t.Fatalf("left %d, want 1000 and the erasure record", p.Total)
	}
}

// acrossMonths spreads records over four months (a store may partition by
// month): listing and keyset pages cross the months in order, and a purge
// of whole months keeps their erasure records.
func acrossMonths(t *testing.T, s store.Store) {
	defer s.Close()
	day := 24 * 60
	er := Rec("e1", "ann", -69*day)
	er.Kind = store.KindErasure
	insert(t, s, Rec("a1", "ann", -70*day), er, Rec("a2", "ann", -35*day), Rec("a3", "ann", -day), Rec("a4", "ann", 0), Rec("a5", "ann", 20*day))
	var got []string
	var after *store.Position
	for range 4 {
		p := query(t, s, store.Query{UserID: "00uann", Limit: 2, After: after})
		if p.Total != 6 {
			t.Fatalf("total %d, want 6", p.Total)
		}
		if len(p.Records) == 0 {
			break
		}
		got = append(got, ids(p)...)
		last := p.Records[len(p.Records)-1]
		after = &store.Position{Occurred: last.Occurred, Seq: last.Seq}
	}
	if want := []string{"a5", "a4", "a3", "a2", "e1", "a1"}; !slices.Equal(got, want) {
		t.Fatalf("keyset pages %v, want %v", got, want)
	}
	n, err := s.Purge(context.Background(), base.Add(time.Duration(-day+1)*time.Minute))
	if err != nil || n != 3 {
		t.Fatalf("purged %d (%v), want 3", n, err)
	}
	if got := ids(query(t, s, store.Query{UserID: "00uann"})); !slices.Equal(got, []string{"a5", "a4", "e1"}) {
		t.Fatalf("left %v, want a5 a4 e1", got)
	}
}

// matchedTwice stores records whose person id is also their email and login
// (or whose actor id is the actor): each is found once, and counted once.
func matchedTwice(t *testing.T, s store.Store) {
	defer s.Close()
	r := Rec("d1", "dup", 1)
	r.PersonID, r.Actor, r.ActorID = "dup@example.com", "boss", "boss"
	other := Rec("d2", "dup", 2)
	other.PersonID, other.PersonLogin = "00udup", "dup-login"
	insert(t, s, r, other)
	for _, q := range []store.Query{{UserID: "dup@example.com"}, {UserID: "DUP@example.com"}, {Actor: "boss"}, {UserID: "dup@example.com", Actor: "boss"}} {
		want := []string{"d1"}
		if q.Actor == "" {
			want = []string{"d2", "d1"}
		}
		if p := query(t, s, q); !slices.Equal(ids(p), want) || p.Total != len(want) {
			t.Errorf("%+v: got %v (total %d), want %v", q, ids(p), p.Total, want)
		}
	}
}

func noPayload(t *testing.T, s store.Store) {
	defer s.Close()
	r := Rec("np", "ann", 1)
	r.Payload = nil
	insert(t, s, r, Rec("wp", "ann", 2))
	p := query(t, s, store.Query{UserID: "00uann"})
	if len(p.Records) != 2 || p.Records[1].Payload != nil || p.Records[0].Payload == nil {
		t.Fatalf("payloads: %+v", p.Records)
	}
}

// emptyUser: Person and Forget refuse an empty user id, which would
// otherwise match every record lacking an email, login or actor id.
func emptyUser(t *testing.T, s store.Store) {
	defer s.Close()
	r := Rec("e1", "ann", 1)
	r.PersonEmail, r.PersonLogin, r.ActorID = "", "", ""
	insert(t, s, r)
	if recs, err := s.Person(context.Background(), ""); err == nil {
		t.Errorf("Person(\"\"): %d records and no error", len(recs))
	}
	if n, err := s.Forget(context.Background(), "", "forgotten-0"); err == nil {
		t.Errorf("Forget(\"\"): %d records and no error", n)
	}
	if p := query(t, s, store.Query{UserID: "00uann"}); len(p.Records) != 1 || p.Records[0].PersonID != "00uann" || p.Records[0].Payload == nil {
		t.Errorf("the record changed: %+v", p.Records)
	}
}
