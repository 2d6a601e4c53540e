package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/services/eventlog/store"
	"github.com/idsync/idsync/services/eventlog/store/storetest"
)

// at is a record about ann that occurred at t.
func at(id string, t time.Time) store.Record {
	r := storetest.Rec(id, "ann", 0)
	r.Occurred = t
	return r
}

// monthStart is the start of the UTC month d months from now.
func monthStart(d int) time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month()+time.Month(d), 1, 0, 0, 0, 0, time.UTC)
}

func partitionName(t time.Time) string { return fmt.Sprintf("records_p%04d%02d", t.Year(), t.Month()) }

// partitionOf is the partition a record is stored in.
func partitionOf(t *testing.T, dsn, id string) string {
	t.Helper()
	var name string
	if err := sql(t, dsn).QueryRow(context.Background(), `SELECT tableoid::regclass::text FROM records WHERE id = $1`, id).Scan(&name); err != nil {
		t.Fatalf("partition of %s: %v", id, err)
	}
	return name
}

func TestRowsLandInTheirMonthsPartition(t *testing.T) {
	t.Parallel()
	s, dsn := open(t)
	recs := map[string]time.Time{
		"this-month":  monthStart(0).Add(14 * 24 * time.Hour),
		"in-2-months": monthStart(2).Add(time.Hour),            // made at Open
		"last-year":   monthStart(-12).Add(3 * 24 * time.Hour), // made on demand
		"far-future":  monthStart(12).Add(time.Hour),           // beyond the horizon
	}
	for id, when := range recs {
		if _, err := s.Insert(context.Background(), []store.Record{at(id, when)}); err != nil {
			t.Fatal(err)
		}
	}
	for id, when := range recs {
		want := partitionName(when)
		if id == "far-future" {
			want = "records_default"
		}
		if got := partitionOf(t, dsn, id); got != want {
			t.Errorf("%s (%s) is in %s, want %s", id, when.Format(time.DateOnly), got, want)
		}
	}
}

func TestRowsWaitingInTheDefaultPartitionMoveToTheirs(t *testing.T) {
	t.Parallel()
	s, dsn := open(t)
	when := time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC)
	// A row of a month without a partition, as one written while the
	// partition could not be made (or before its month came into the horizon).
	if _, err := sql(t, dsn).Exec(context.Background(), `INSERT INTO records (id, kind, occurred, received, type, event_type, event_name, person_id)
		VALUES ('stray', 'event', $1, now(), 't', 'T', 'n', '00uann')`, when); err != nil {
		t.Fatal(err)
	}
	if got := partitionOf(t, dsn, "stray"); got != "records_default" {
		t.Fatalf("stray row in %s", got)
	}
	if _, err := s.Insert(context.Background(), []store.Record{at("new", when.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"stray", "new"} {
		if got := partitionOf(t, dsn, id); got != "records_p202001" {
			t.Errorf("%s in %s, want records_p202001", id, got)
		}
	}
	p, err := s.Query(context.Background(), store.Query{UserID: "00uann", Limit: 10})
	if err != nil || p.Total != 2 {
		t.Fatalf("found %d (%v), want 2", p.Total, err)
	}
}

func TestInsertDoesNotWaitForAPartitionItCannotMake(t *testing.T) {
	t.Parallel()
	s, dsn := open(t)
	// Another replica holds the partition DDL lock (its DDL waits on a long
	// query, say): the insert goes on into the DEFAULT partition.
	holder := sql(t, dsn)
	const key = `hashtextextended('idsync.eventlog.partitions:' || current_schema(), 0)`
	if _, err := holder.Exec(context.Background(), `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2019, 5, 10, 0, 0, 0, 0, time.UTC)
	if _, err := s.Insert(context.Background(), []store.Record{at("waited", when)}); err != nil {
		t.Fatalf("insert while the partition could not be made: %v", err)
	}
	if got := partitionOf(t, dsn, "waited"); got != "records_default" {
		t.Fatalf("row in %s, want records_default", got)
	}
	if _, err := holder.Exec(context.Background(), `SELECT pg_advisory_unlock(`+key+`)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert(context.Background(), []store.Record{at("next", when.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"waited", "next"} {
		if got := partitionOf(t, dsn, id); got != "records_p201905" {
			t.Errorf("%s in %s, want records_p201905", id, got)
		}
	}
}

func TestPurgeDropsWholeMonths(t *testing.T) {
	t.Parallel()
	s, dsn := open(t)
	var recs []store.Record
	add := func(prefix string, month, n int) {
		for i := range n {
			recs = append(recs, at(fmt.Sprintf("%s-%d", prefix, i), monthStart(month).Add(time.Duration(i)*time.Hour)))
		}
	}
	add("m5", -5, 30)
	add("m4", -4, 20)
	add("m3", -3, 48) // two days
	add("now", 0, 5)
	erasure := at("erasure", monthStart(-5).Add(time.Minute))
	erasure.Kind = store.KindErasure
	recs = append(recs, erasure)
	if _, err := s.Insert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	// Two whole months and the first day of the third.
	n, err := s.Purge(context.Background(), monthStart(-3).Add(24*time.Hour))
	if err != nil || n != 30+20+24 {
		t.Fatalf("purged %d (%v), want %d", n, err, 30+20+24)
	}
	conn := sql(t, dsn)
	var gone []string
	if err := conn.QueryRow(context.Background(), `SELECT array_agg(relname ORDER BY relname) FROM pg_class
		WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' AND relname LIKE 'records%'`).Scan(&gone); err != nil {
		t.Fatal(err)
	}
	for _, name := range gone {
		if name == partitionName(monthStart(-5)) || name == partitionName(monthStart(-4)) || name[:len("records_purge")] == "records_purge" {
			t.Errorf("%s left after purge (tables: %v)", name, gone)
		}
	}
	p, err := s.Query(context.Background(), store.Query{UserID: "00uann", Limit: 100})
	if err != nil || p.Total != 24+5+1 {
		t.Fatalf("left %d (%v), want the second day of month -3, this month's and the erasure record", p.Total, err)
	}
	if last := p.Records[len(p.Records)-1]; last.ID != "erasure" {
		t.Fatalf("oldest left is %s, want the erasure record", last.ID)
	}
	if got := partitionOf(t, dsn, "erasure"); got != "records_default" {
		t.Errorf("erasure record in %s, want records_default", got)
	}
	// A late record of a dropped month still goes in.
	if _, err := s.Insert(context.Background(), []store.Record{at("late", monthStart(-5).Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
}

func TestPurgeFinishesWhatAStoppedPurgeLeft(t *testing.T) {
	t.Parallel()
	s, dsn := open(t)
	when := monthStart(-6)
	if _, err := s.Insert(context.Background(), []store.Record{at("a", when), at("b", when.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	// A purge stopped between detaching the month and dropping it.
	name := partitionName(when)
	if _, err := sql(t, dsn).Exec(context.Background(), `ALTER TABLE records DETACH PARTITION `+name+`;
		ALTER TABLE `+name+` RENAME TO records_purge_`+name[len("records_"):]); err != nil {
		t.Fatal(err)
	}
	// Nothing is old enough now, but the detached month is finished.
	n, err := s.Purge(context.Background(), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n != 2 {
		t.Fatalf("purged %d (%v), want the 2 records of the detached month", n, err)
	}
	var left int
	if err := sql(t, dsn).QueryRow(context.Background(), `SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relname LIKE 'records_purge%'`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d detached tables left (%v)", left, err)
	}
}
