package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/idsync/idsync/services/eventlog/store"
	"github.com/idsync/idsync/services/eventlog/store/postgres"
	"github.com/idsync/idsync/services/eventlog/store/postgres/pgtest"
	"github.com/idsync/idsync/services/eventlog/store/storetest"
)

// open opens a store on a fresh schema and returns it with the schema's
// DSN; the store is closed when the test ends, before the schema is dropped.
func open(t testing.TB) (*postgres.Store, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dsn
}

// sql connects to the test's schema for checks the store does not offer.
func sql(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := open(t)
		return s
	})
}

func TestConcurrentOpensOnAnEmptySchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), dsn)
			if err == nil {
				_, err = s.Insert(context.Background(), []store.Record{storetest.Rec("r", "ann", 1)})
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent opens: %v", err)
	}
	var migrations, records int
	conn := sql(t, dsn)
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM schema_migrations), (SELECT count(*) FROM records)`).Scan(&migrations, &records); err != nil {
		t.Fatal(err)
	}
	if migrations != 2 || records != 1 {
		t.Fatalf("%d migrations and %d records recorded, want 2 (each applied once) and 1", migrations, records)
	}
}

func TestClosedStoreFailsWithErrClosed(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	s.Close()
	if _, err := s.Query(context.Background(), store.Query{UserID: "ann", Limit: 1}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("query after close: %v, want ErrClosed", err)
	}
	if _, err := s.Insert(context.Background(), []store.Record{storetest.Rec("x", "ann", 1)}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("insert after close: %v, want ErrClosed", err)
	}
}

func TestEmptyUserIDIsRefused(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	// A record without email, login or actor id: "" would match it.
	r := storetest.Rec("x", "ann", 1)
	r.PersonEmail, r.PersonLogin, r.ActorID = "", "", ""
	if _, err := s.Insert(context.Background(), []store.Record{r}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Forget(context.Background(), "", "p"); err == nil {
		t.Fatalf("forget of an empty id changed %d records", n)
	}
	if recs, err := s.Person(context.Background(), ""); err == nil {
		t.Fatalf("person of an empty id found %d records", len(recs))
	}
}

func TestTextPostgresCannotHoldIsStoredReplaced(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	r := storetest.Rec("odd", "ann", 1)
	r.UserAgent, r.Reason = "Mozilla\x00/5.0", "bad \xff byte"
	if _, err := s.Insert(context.Background(), []store.Record{r}); err != nil {
		t.Fatalf("insert of NUL and invalid UTF-8: %v", err)
	}
	p, err := s.Query(context.Background(), store.Query{UserID: "00uann", Limit: 1})
	if err != nil || len(p.Records) != 1 {
		t.Fatalf("query: %d records, %v", len(p.Records), err)
	}
	if got := p.Records[0]; got.UserAgent != "Mozilla\uFFFD/5.0" || got.Reason != "bad \uFFFD byte" {
		t.Fatalf("stored %q and %q", got.UserAgent, got.Reason)
	}
}
