package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/idsync/idsync/services/eventlog/store"
)

// month is a UTC calendar month, counted from year 0.
type month int

// horizon is how many months after the current one get a partition: made
// at Open and on demand. Rows of later months wait in the DEFAULT partition
// until their month comes within the horizon and a row of it arrives.
const horizon = 2

// firstMonth is the earliest month that gets a partition; older rows (a
// zero or bogus time) go to the DEFAULT partition.
var firstMonth = monthOf(time.Unix(0, 0))

// ddlLockTimeout bounds how long partition DDL waits for its locks (and so
// how long the inserts queued behind it can wait).
const ddlLockTimeout = "3s"

// lockDDL serialises the partition DDL of one schema between replicas.
const lockDDL = `SELECT pg_advisory_xact_lock(hashtextextended('idsync.eventlog.partitions:' || current_schema(), 0))`

func monthOf(t time.Time) month {
	t = t.UTC()
	return month(t.Year()*12 + int(t.Month()) - 1)
}

func (m month) start() time.Time {
	return time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, time.UTC)
}

// table is the name of the month's partition, records_pYYYYMM.
func (m month) table() string { return fmt.Sprintf("records_p%04d%02d", int(m)/12, int(m)%12+1) }

// literal is a timestamptz literal for DDL, which takes no parameters.
func literal(t time.Time) string { return "'" + t.Format("2006-01-02 15:04:05Z07:00") + "'" }

// ensureMonths makes the partitions of the records' months before they are
// inserted. A partition that cannot get its locks in time is not an error:
// the rows go to the DEFAULT partition and move when it is made.
func (s *Store) ensureMonths(ctx context.Context, recs []store.Record) error {
	last := monthOf(time.Now()) + horizon
	for _, r := range recs {
		m := monthOf(r.Occurred)
		if m < firstMonth || m > last {
			continue
		}
		if err := s.ensurePartition(ctx, m); err != nil && !isLockTimeout(err) {
			return err
		}
	}
	return nil
}

// ensureAhead makes the partitions of the current month and the next two.
func (s *Store) ensureAhead(ctx context.Context) error {
	now := monthOf(time.Now())
	for m := now; m <= now+horizon; m++ {
		if err := s.ensurePartition(ctx, m); err != nil && !isLockTimeout(err) {
			return err
		}
	}
	return nil
}

// ensurePartition makes the month's partition if it does not exist,
// moving the month's rows out of the DEFAULT partition first. The new table
// is attached rather than created as a partition: ATTACH does not take an
// exclusive lock on the parent, so inserts into other months go on.
func (s *Store) ensurePartition(ctx context.Context, m month) error {
	s.mu.Lock()
	known := s.parts[m]
	s.mu.Unlock()
	if known {
		return nil
	}
	name := pgx.Identifier{m.table()}.Sanitize()
	from, to := m.start(), (m + 1).start()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+ddlLockTimeout+`'`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, lockDDL); err != nil {
			return err
		}
		var attached bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = to_regclass('records'))`,
			m.table()).Scan(&attached); err != nil {
			return err
		}
		if attached {
			return nil
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE `+name+` (LIKE records INCLUDING DEFAULTS)`); err != nil {
			return err
		}
		// No row may reach the default partition from here on: one of this
		// month would fail the ATTACH. Rows of it that arrived while it had
		// no partition move to the new table.
		if _, err := tx.Exec(ctx, `LOCK TABLE records_default IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO `+name+` (seq, `+columns+`) SELECT seq, `+columns+`
			FROM records_default WHERE occurred >= $1 AND occurred < $2`, from, to)
		if err != nil {
			return err
		}
		if tag.RowsAffected() > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM records_default WHERE occurred >= $1 AND occurred < $2`, from, to); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `ALTER TABLE records ATTACH PARTITION `+name+` FOR VALUES FROM (`+literal(from)+`) TO (`+literal(to)+`)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("partition %s: %w", m.table(), err)
	}
	s.mu.Lock()
	s.parts[m] = true
	s.mu.Unlock()
	return nil
}

// forgetPartition drops the month from what this process knows exists.
func (s *Store) forgetPartition(m month) {
	s.mu.Lock()
	delete(s.parts, m)
	s.mu.Unlock()
}

// isLockTimeout reports a lock_timeout expiry (SQLSTATE 55P03).
func isLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}
