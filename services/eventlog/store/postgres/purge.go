package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsync/idsync/services/eventlog/store"
)

// purgeBatch is how many rows one delete step removes, as in the SQLite
// store: small enough that no insert waits long on the rows it locks.
const purgeBatch = 2000

// detachLockTimeout bounds how long DETACH waits for its exclusive lock on
// the records table, so that inserts never queue behind it for longer; it
// is retried detachTries times.
const (
	detachLockTimeout = "1s"
	detachTries       = 10
)

// Purge deletes the records that occurred before cutoff, erasure records
// excepted. Months entirely before the cutoff go whole: their partition is
// detached (a brief exclusive lock, bounded by a lock timeout), then counted,
// its erasure records copied back into the table (the DEFAULT partition),
// and dropped. The rest below the cutoff is deleted a batch at a time. One
// purge runs at a time per schema, across replicas. On error it returns
// how many records were deleted before.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	if err := s.errClosed("Purge"); err != nil {
		return 0, err
	}
	cutoff = millis(cutoff)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, s.fail("Purge", err)
	}
	defer conn.Release()
	const key = `hashtextextended('idsync.eventlog.purge:' || current_schema(), 0)`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return 0, s.fail("Purge", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`); err != nil {
			// Ending the session releases the lock; the pool then drops it.
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	total, err := s.dropMonths(ctx, conn, cutoff)
	if err != nil {
		return total, s.fail("Purge", err)
	}
	n, err := deleteBelow(ctx, conn, cutoff)
	total += n
	if err != nil {
		return total, s.fail("Purge", err)
	}
	return total, nil
}

// dropMonths drops the partitions of the months entirely before cutoff,
// one after the other, after those a purge stopped half-way left detached.
func (s *Store) dropMonths(ctx context.Context, conn *pgxpool.Conn, cutoff time.Time) (int, error) {
	rows, _ := conn.Query(ctx, `SELECT relname FROM pg_class
		WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' AND relname ~ '^records_purge_p[0-9]{6}$' ORDER BY 1`)
	leftovers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	total := 0
	for _, name := range leftovers {
		n, err := drop(ctx, conn, name)
		if err != nil {
			return total, fmt.Errorf("drop %s: %w", name, err)
		}
		total += n
	}
	rows, _ = conn.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass('records') AND c.relname ~ '^records_p[0-9]{6}$' ORDER BY 1`)
	attached, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return total, err
	}
	for _, name := range attached {
		var y, mo int
		if _, err := fmt.Sscanf(name, "records_p%04d%02d", &y, &mo); err != nil {
			continue
		}
		m := month(y*12 + mo - 1)
		if (m + 1).start().After(cutoff) {
			continue
		}
		if err := detach(ctx, conn, m); err != nil {
			return total, fmt.Errorf("detach %s: %w", name, err)
		}
		s.forgetPartition(m)
		n, err := drop(ctx, conn, purgeName(m))
		if err != nil {
			return total, fmt.Errorf("drop %s: %w", name, err)
		}
		total += n
	}
	return total, nil
}

// purgeName is what a month's partition is called once detached.
func purgeName(m month) string { return "records_purge_" + m.table()[len("records_"):] }

// detach takes the month's partition out of the records table and renames
// it records_purge_pYYYYMM, retrying while its lock is not to be had.
// DETACH CONCURRENTLY would not need the exclusive lock, but PostgreSQL
// refuses it on a table with a DEFAULT partition.
func detach(ctx context.Context, conn *pgxpool.Conn, m month) error {
	name := pgx.Identifier{m.table()}.Sanitize()
	for try := 1; ; try++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+detachLockTimeout+`'`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, lockDDL); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `ALTER TABLE records DETACH PARTITION `+name); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `ALTER TABLE `+name+` RENAME TO `+pgx.Identifier{purgeName(m)}.Sanitize())
			return err
		})
		if err == nil || !isLockTimeout(err) || try == detachTries {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(try) * 200 * time.Millisecond):
		}
	}
}

// drop counts a detached partition's records, copies its erasure records
// back into the records table and drops it, in one transaction.
func drop(ctx context.Context, conn *pgxpool.Conn, name string) (int, error) {
	table := pgx.Identifier{name}.Sanitize()
	var n int
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE kind <> $1`, store.KindErasure).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO records (seq, `+columns+`) OVERRIDING SYSTEM VALUE
			SELECT seq, `+columns+` FROM `+table+` WHERE kind = $1 ON CONFLICT DO NOTHING`, store.KindErasure); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DROP TABLE `+table)
		return err
	})
	return n, err
}

// deleteBelow deletes the records before cutoff left in partitions that
// also hold later ones, a batch at a time, pausing between batches.
func deleteBelow(ctx context.Context, conn *pgxpool.Conn, cutoff time.Time) (int, error) {
	total := 0
	for {
		tag, err := conn.Exec(ctx, `DELETE FROM records WHERE occurred < $1 AND (id, occurred) IN
			(SELECT id, occurred FROM records WHERE occurred < $1 AND kind <> $2 LIMIT $3)`, cutoff, store.KindErasure, purgeBatch)
		if err != nil {
			return total, err
		}
		n := int(tag.RowsAffected())
		total += n
		if n < purgeBatch {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
