// Package sqlite is the event log's embedded store: SQLite through
// modernc.org/sqlite (pure Go, no cgo), in WAL mode so that the API reads
// while the ingest writes. Writes go through one connection; reads use a
// small pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite"

	"github.com/idsync/idsync/services/eventlog/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite store.
type Store struct {
	w *sql.DB // one writer
	r *sql.DB // readers
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database file at path and applies
// the migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + url.PathEscape(path) + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", strings.Replace(dsn, "&_txlock=immediate", "", 1)+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r.SetMaxOpenConns(4)
	s := &Store{w: w, r: r}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// migrate applies the embedded migrations not applied yet, in order.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(f, "migrations/"), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: bad name", f)
		}
		var n int
		if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, _ := migrations.ReadFile(f)
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, v, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// Close closes the database.
func (s *Store) Close() error { return errors.Join(s.w.Close(), s.r.Close()) }

const columns = `id, kind, occurred, received, type, event_type, event_name, person_id, person_email, person_login,
	actor, actor_id, client_ip, user_agent, partition_id, reason, outcome, provider, rule_id, source_event_id,
	subject, stream, stream_seq, payload`

// Insert stores records, skipping ids already stored, in one transaction.
func (s *Store) Insert(ctx context.Context, recs []store.Record) ([]bool, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO records (`+columns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer stmt.Close()
	isNew := make([]bool, len(recs))
	for i, r := range recs {
		res, err := stmt.ExecContext(ctx, r.ID, r.Kind, r.Occurred.UnixMilli(), r.Received.UnixMilli(), r.Type, r.EventType, r.EventName,
			r.PersonID, strings.ToLower(r.PersonEmail), strings.ToLower(r.PersonLogin), r.Actor, r.ActorID, r.ClientIP, r.UserAgent,
			r.Partition, r.Reason, r.Outcome, r.Provider, r.RuleID, r.SourceEventID, r.Subject, r.Stream, int64(r.StreamSeq), r.Payload)
		if err != nil {
			return nil, fmt.Errorf("sqlite: insert %s: %w", r.ID, err)
		}
		k, _ := res.RowsAffected()
		isNew[i] = k > 0
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	return isNew, nil
}

// matchPerson and matchActor find a person's or an actor's records. The
// terms asking for a non-empty email, login or actor id change nothing (the
// values compared are never empty) but repeat the partial indexes' WHERE:
// SQLite uses a partial index only for terms that imply its WHERE, which a
// bound parameter alone never does, and an OR of terms is answered from
// indexes only if every term has one. Without them a search by person
// scans the whole table (1.7 s at a million records instead of ~1 ms).
const (
	matchPerson = `(person_id = ? OR (person_email = ? AND person_email <> '') OR (person_login = ? AND person_login <> ''))`
	matchActor  = `(actor = ? OR (actor_id = ? AND actor_id <> ''))`
)

// mentions finds the report records (store.IsReport) whose payload names
// the person (store.Needles): ASCII letters lower-cased, as the needles
// are, and compared as bytes. The type is a literal so that the partial
// index records_reports answers it: the payloads read are the reports',
// never the whole table's. Empty when the identifier is too short to look
// for.
func mentions(userID string) (string, []any) {
	needles := store.Needles(userID)
	if len(needles) == 0 {
		return "", nil
	}
	alts := make([]string, len(needles))
	args := make([]any, len(needles))
	for i, n := range needles {
		alts[i] = `instr(CAST(lower(CAST(payload AS TEXT)) AS BLOB), ?) > 0`
		args[i] = n
	}
	return `(type = '` + store.TypeReport + `' AND person_id = '' AND person_email = '' AND person_login = ''
		AND (` + strings.Join(alts, ` OR `) + `))`, args
}

// personSQL selects every record Person returns, oldest first.
func personSQL(userID string) (string, []any) {
	low := strings.ToLower(userID)
	cond, args := matchPerson+` OR `+matchActor, []any{userID, low, low, userID, userID}
	if m, margs := mentions(userID); m != "" {
		cond += ` OR ` + m
		args = append(args, margs...)
	}
	return `SELECT seq, ` + columns + ` FROM records WHERE ` + cond + ` ORDER BY occurred, seq`, args
}

// errNoUser refuses an empty user id: it would match every record that
// lacks an email, login or actor id.
var errNoUser = errors.New("sqlite: empty user id")

// where builds the filter of a query.
func where(q store.Query) (string, []any) {
	var conds []string
	var args []any
	if q.UserID != "" {
		conds = append(conds, matchPerson)
		low := strings.ToLower(q.UserID)
		args = append(args, q.UserID, low, low)
	}
	if q.Actor != "" {
		conds = append(conds, matchActor)
		args = append(args, q.Actor, q.Actor)
	}
	if q.Type != "" {
		conds = append(conds, `(type = ? OR event_type = ?)`)
		args = append(args, q.Type, q.Type)
	}
	if !q.From.IsZero() {
		conds = append(conds, `occurred >= ?`)
		args = append(args, q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		conds = append(conds, `occurred < ?`)
		args = append(args, q.To.UnixMilli())
	}
	if q.Outcome != "" {
		conds = append(conds, `outcome = ?`)
		args = append(args, q.Outcome)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Query returns a page, with the total taken in the same snapshot.
func (s *Store) Query(ctx context.Context, q store.Query) (store.Page, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	cond, args := where(q)
	var page store.Page
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM records`+cond, args...).Scan(&page.Total); err != nil {
		return store.Page{}, fmt.Errorf("sqlite: count: %w", err)
	}
	sel := `SELECT seq, ` + columns + ` FROM records` + cond
	if q.After != nil {
		if cond == "" {
			sel += " WHERE "
		} else {
			sel += " AND "
		}
		sel += `(occurred < ? OR (occurred = ? AND seq < ?))`
		ms := q.After.Occurred.UnixMilli()
		args = append(args, ms, ms, q.After.Seq)
	}
	sel += ` ORDER BY occurred DESC, seq DESC LIMIT ? OFFSET ?`
	args = append(args, q.Limit, q.Offset)
	rows, err := tx.QueryContext(ctx, sel, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return store.Page{}, err
		}
		page.Records = append(page.Records, r)
	}
	return page, rows.Err()
}

func scan(rows *sql.Rows) (store.Record, error) {
	var r store.Record
	var occurred, received, streamSeq int64
	err := rows.Scan(&r.Seq, &r.ID, &r.Kind, &occurred, &received, &r.Type, &r.EventType, &r.EventName, &r.PersonID, &r.PersonEmail,
		&r.PersonLogin, &r.Actor, &r.ActorID, &r.ClientIP, &r.UserAgent, &r.Partition, &r.Reason, &r.Outcome, &r.Provider,
		&r.RuleID, &r.SourceEventID, &r.Subject, &r.Stream, &streamSeq, &r.Payload)
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlite: scan: %w", err)
	}
	r.Occurred, r.Received, r.StreamSeq = time.UnixMilli(occurred).UTC(), time.UnixMilli(received).UTC(), uint64(streamSeq)
	return r, nil
}

// Person returns every record about a person, in which they acted, or
// (a report) whose payload names them, oldest first.
func (s *Store) Person(ctx context.Context, userID string) ([]store.Record, error) {
	if userID == "" {
		return nil, errNoUser
	}
	sel, args := personSQL(userID)
	rows, err := s.r.QueryContext(ctx, sel, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Forget pseudonymises a person's records and drops the payloads of the
// reports that name them.
func (s *Store) Forget(ctx context.Context, userID, pseudonym string) (int, error) {
	if userID == "" {
		return 0, errNoUser
	}
	low := strings.ToLower(userID)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE records SET person_id = ?, person_email = '', person_login = '', client_ip = '', user_agent = '', payload = NULL
		WHERE kind <> 'erasure' AND `+matchPerson, pseudonym, userID, low, low)
	if err != nil {
		return 0, fmt.Errorf("sqlite: forget: %w", err)
	}
	n, _ := res.RowsAffected()
	res, err = tx.ExecContext(ctx, `UPDATE records SET actor = ?, actor_id = '', payload = NULL
		WHERE kind <> 'erasure' AND `+matchActor, pseudonym, userID, userID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: forget: %w", err)
	}
	m, _ := res.RowsAffected()
	n += m
	// The reports naming them: only the payload goes (the counts and the
	// rest are no one's). Those already changed above have none left.
	if cond, args := mentions(userID); cond != "" {
		res, err = tx.ExecContext(ctx, `UPDATE records SET payload = NULL WHERE kind <> 'erasure' AND `+cond, args...)
		if err != nil {
			return 0, fmt.Errorf("sqlite: forget: %w", err)
		}
		m, _ = res.RowsAffected()
		n += m
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return int(n), nil
}

// purgeBatch is how many rows one purge step deletes: small enough that the
// ingest never waits long for the write lock.
const purgeBatch = 2000

// Purge deletes records that occurred before cutoff, a batch at a time.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		res, err := s.w.ExecContext(ctx, `DELETE FROM records WHERE seq IN (SELECT seq FROM records WHERE occurred < ? AND kind <> 'erasure' LIMIT ?)`, cutoff.UnixMilli(), purgeBatch)
		if err != nil {
			return total, fmt.Errorf("sqlite: purge: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
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
