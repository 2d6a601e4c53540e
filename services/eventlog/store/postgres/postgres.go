// Package postgres is the event log's PostgreSQL store, through pgx.
//
// The records table has the SQLite store's columns and behaves the same
// (storetest runs over both). It is partitioned by month on occurred
// (UTC months): the store makes the partitions of the current month and the
// next two at Open, and the partition of any month from 1970 up to that
// horizon before inserting a row of it (CREATE then ATTACH, under an
// advisory lock, so replicas race safely). Rows of other months, and of a
// month whose partition could not get its locks within a few seconds, land
// in the DEFAULT partition, so an insert never fails for want of a
// partition; they move to their month's partition when it is made. Purge
// detaches and drops whole months, keeping their erasure records, and
// deletes the rest in batches.
//
// Idempotency assumption: a record's ID always comes with the same
// Occurred time (both are set once at the source: the CloudEvents id and
// time). The primary key of a partitioned table must hold the partition
// key, so it is (id, occurred); a redelivery with the same id but another
// occurred time would be stored twice.
//
// Times are kept to the millisecond, as in the SQLite store, so that a
// Position read from one store means the same in the other. Text columns
// take neither NUL nor invalid UTF-8: such bytes are stored as U+FFFD.
//
// Open applies the embedded migrations in one transaction under an
// advisory lock, so replicas may start together. The DSN is a pgx
// connection string; `search_path=<schema>` in it selects the schema.
package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsync/idsync/services/eventlog/store"
)

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	closed atomic.Bool

	mu    sync.Mutex
	parts map[month]bool // months whose partition this process knows to exist
}

var _ store.Store = (*Store)(nil)

// Open connects, applies the migrations not applied yet and makes the
// partitions of the current month and the next two.
func Open(ctx context.Context, dsn string) (*Store, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres.Open: %w", err)
	}
	s := &Store{pool: pool, parts: map[month]bool{}}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.ensureAhead(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres.Open: %w", err)
	}
	return s, nil
}

// Close closes the connections; later calls fail with store.ErrClosed.
func (s *Store) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.pool.Close()
	}
	return nil
}

// fail wraps an error of op, as store.ErrClosed once the store is closed.
func (s *Store) fail(op string, err error) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres.%s: %w", op, store.ErrClosed)
	}
	return fmt.Errorf("postgres.%s: %w", op, err)
}

// errClosed is returned before any work by a closed store.
func (s *Store) errClosed(op string) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres.%s: %w", op, store.ErrClosed)
	}
	return nil
}

// millis keeps a time to the millisecond, like the SQLite store.
func millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
