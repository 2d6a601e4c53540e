package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the event log's embedded store
)

// EventLog is what the event log stored compared with the bus.
type EventLog struct {
	Rows int
	// Missing: on the bus, not in the event log.
	Missing []string
	// Duplicates: ids with more than one row.
	Duplicates []string
}

// OK reports whether every id has exactly one row.
func (r EventLog) OK() bool { return len(r.Missing) == 0 && len(r.Duplicates) == 0 }

// CheckEventLog compares rows (id → number of rows) with the ids that must
// be recorded.
func CheckEventLog(rows map[string]int, ids []string) EventLog {
	r := EventLog{}
	for id, n := range rows {
		r.Rows += n
		if n > 1 {
			r.Duplicates = append(r.Duplicates, fmt.Sprintf("%s ×%d", id, n))
		}
	}
	for _, id := range ids {
		if rows[id] == 0 {
			r.Missing = append(r.Missing, id)
		}
	}
	slices.Sort(r.Missing)
	slices.Sort(r.Duplicates)
	return r
}

const countRows = `SELECT id, count(*) FROM records GROUP BY id`

// SQLiteRows counts the rows per id of the event log's SQLite file.
func SQLiteRows(ctx context.Context, path string) (map[string]int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, countRows)
	if err != nil {
		return nil, fmt.Errorf("ledger: %s: %w", path, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// PostgresRows counts the rows per id of the event log in PostgreSQL (the
// table's key is (id, occurred): a duplicate row is possible there).
func PostgresRows(ctx context.Context, dsn string) (map[string]int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, countRows)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = int(n)
	}
	return out, rows.Err()
}
