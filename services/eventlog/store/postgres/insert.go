package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/idsync/idsync/services/eventlog/store"
)

// columnTypes are the records table's columns but seq, in the order of
// values, with the types their arrays are sent as.
var columnTypes = []struct{ name, typ string }{
	{"id", "text"}, {"kind", "text"}, {"occurred", "timestamptz"}, {"received", "timestamptz"},
	{"type", "text"}, {"event_type", "text"}, {"event_name", "text"},
	{"person_id", "text"}, {"person_email", "text"}, {"person_login", "text"},
	{"actor", "text"}, {"actor_id", "text"}, {"client_ip", "text"}, {"user_agent", "text"},
	{"partition_id", "text"}, {"reason", "text"}, {"outcome", "text"}, {"provider", "text"},
	{"rule_id", "text"}, {"source_event_id", "text"}, {"subject", "text"}, {"stream", "text"},
	{"stream_seq", "bigint"}, {"payload", "bytea"},
}

// values is a record as stored: times to the millisecond, email and login
// lower-cased (as the SQLite store does), text made storable.
func values(r store.Record) []any {
	return []any{text(r.ID), text(r.Kind), millis(r.Occurred), millis(r.Received), text(r.Type), text(r.EventType), text(r.EventName),
		text(r.PersonID), text(strings.ToLower(r.PersonEmail)), text(strings.ToLower(r.PersonLogin)), text(r.Actor), text(r.ActorID),
		text(r.ClientIP), text(r.UserAgent), text(r.Partition), text(r.Reason), text(r.Outcome), text(r.Provider), text(r.RuleID),
		text(r.SourceEventID), text(r.Subject), text(r.Stream), int64(r.StreamSeq), r.Payload}
}

// text makes a string storable in a text column, which takes neither NUL
// nor invalid UTF-8 (SQLite takes both): they become U+FFFD. Otherwise one
// odd header from a source would fail its whole batch, again at every
// redelivery. The same is done to the values searched for.
func text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

var columnNames, columns, insertSQL = func() ([]string, string, string) {
	var names, arrays []string
	for i, c := range columnTypes {
		names = append(names, c.name)
		arrays = append(arrays, fmt.Sprintf("$%d::%s[]", i+1, c.typ))
	}
	cols := strings.Join(names, ", ")
	// One statement, so all or nothing; rows keep the batch's order, so
	// seq grows along the batch as in the SQLite store.
	return names, cols, `INSERT INTO records (` + cols + `) SELECT ` + cols + ` FROM unnest(` + strings.Join(arrays, ", ") +
		`) WITH ORDINALITY AS u(` + cols + `, ord) ORDER BY ord ON CONFLICT DO NOTHING RETURNING id`
}()

// Insert stores records, skipping ids already stored, in one statement.
func (s *Store) Insert(ctx context.Context, recs []store.Record) ([]bool, error) {
	if err := s.errClosed("Insert"); err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if err := s.ensureMonths(ctx, recs); err != nil {
		return nil, s.fail("Insert", err)
	}
	rows, _ := s.pool.Query(ctx, insertSQL, arrays(recs)...)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.fail("Insert", err)
	}
	// The new ids, each for its first record (a batch may hold one twice).
	inserted := make(map[string]bool, len(ids))
	for _, id := range ids {
		inserted[id] = true
	}
	isNew := make([]bool, len(recs))
	for i, r := range recs {
		id := text(r.ID)
		isNew[i] = inserted[id]
		delete(inserted, id)
	}
	return isNew, nil
}

// arrays turns records into one array per column.
func arrays(recs []store.Record) []any {
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = values(r)
	}
	out := make([]any, len(columnTypes))
	for c := range out {
		switch rows[0][c].(type) {
		case string:
			out[c] = column[string](rows, c)
		case time.Time:
			out[c] = column[time.Time](rows, c)
		case int64:
			out[c] = column[int64](rows, c)
		case []byte:
			out[c] = column[[]byte](rows, c)
		}
	}
	return out
}

func column[T any](rows [][]any, c int) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = r[c].(T)
	}
	return out
}

// BulkLoad copies records in with COPY, many times faster than Insert but
// not idempotent: an id already stored fails the whole load. It is meant
// for loading a fresh store (benchmarks, imports), not for the ingest.
func (s *Store) BulkLoad(ctx context.Context, recs []store.Record) (int, error) {
	if err := s.errClosed("BulkLoad"); err != nil {
		return 0, err
	}
	if err := s.ensureMonths(ctx, recs); err != nil {
		return 0, s.fail("BulkLoad", err)
	}
	n, err := s.pool.CopyFrom(ctx, pgx.Identifier{"records"}, columnNames,
		pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) { return values(recs[i]), nil }))
	if err != nil {
		return 0, s.fail("BulkLoad", err)
	}
	return int(n), nil
}

// Vacuum runs VACUUM (ANALYZE) on the records table: what autovacuum does
// in time, at once. After a BulkLoad, it sets the hint bits and visibility
// map of the new pages and the planner's statistics, which queries would
// otherwise wait for.
func (s *Store) Vacuum(ctx context.Context) error {
	if err := s.errClosed("Vacuum"); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `VACUUM (ANALYZE) records`); err != nil {
		return s.fail("Vacuum", err)
	}
	return nil
}
