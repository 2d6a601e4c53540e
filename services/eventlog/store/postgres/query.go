package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idsync/idsync/services/eventlog/store"
)

// Query returns a page, with the total counted in the same snapshot: one
// read-only REPEATABLE READ transaction.
func (s *Store) Query(ctx context.Context, q store.Query) (store.Page, error) {
	if err := s.errClosed("Query"); err != nil {
		return store.Page{}, err
	}
	var page store.Page
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		count := newFilter(q, false) // the total ignores After
		if err := tx.QueryRow(ctx, count.countSQL(), count.args...).Scan(&page.Total); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		f := newFilter(q, true)
		rows, err := tx.Query(ctx, f.pageSQL(q.Limit, q.Offset), f.args...)
		if err != nil {
			return err
		}
		page.Records, err = pgx.CollectRows(rows, scan)
		return err
	})
	if err != nil {
		return store.Page{}, s.fail("Query", err)
	}
	return page, nil
}

// scan reads a row of `seq, columns`; times come back in UTC.
func scan(row pgx.CollectableRow) (store.Record, error) {
	var r store.Record
	var streamSeq int64
	err := row.Scan(&r.Seq, &r.ID, &r.Kind, &r.Occurred, &r.Received, &r.Type, &r.EventType, &r.EventName, &r.PersonID, &r.PersonEmail,
		&r.PersonLogin, &r.Actor, &r.ActorID, &r.ClientIP, &r.UserAgent, &r.Partition, &r.Reason, &r.Outcome, &r.Provider,
		&r.RuleID, &r.SourceEventID, &r.Subject, &r.Stream, &streamSeq, &r.Payload)
	if err != nil {
		return store.Record{}, fmt.Errorf("scan: %w", err)
	}
	r.Occurred, r.Received, r.StreamSeq = r.Occurred.UTC(), r.Received.UTC(), uint64(streamSeq)
	return r, nil
}

// Person returns every record about a person, in which the person acted,
// or (a report) whose payload names them, oldest first.
func (s *Store) Person(ctx context.Context, userID string) ([]store.Record, error) {
	if err := s.errClosed("Person"); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, s.fail("Person", errNoUser)
	}
	sel, args := personSQL(userID)
	rows, err := s.pool.Query(ctx, sel, args...)
	if err != nil {
		return nil, s.fail("Person", err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, s.fail("Person", err)
	}
	return out, nil
}

// personSQL selects every record Person returns, oldest first.
func personSQL(userID string) (string, []any) {
	args := []any{text(userID), text(strings.ToLower(userID))}
	cond := `person_id = $1 OR (person_email = $2 AND person_email <> '') OR (person_login = $2 AND person_login <> '')
		OR actor = $1 OR (actor_id = $1 AND actor_id <> '')`
	if m, margs := mentions(userID, len(args)); m != "" {
		cond += ` OR ` + m
		args = append(args, margs...)
	}
	return `SELECT seq, ` + columns + ` FROM records WHERE ` + cond + ` ORDER BY occurred, seq`, args
}

// mentions finds the report records (store.IsReport) whose payload names
// the person (store.Needles), with the SQLite store's semantics: the
// payload's ASCII letters lower-cased (the C collation's lower() touches
// nothing else) and compared as bytes. The payload is bytea, and may not
// be valid UTF-8 (a dead letter keeps the bytes it was sent), so it is
// compared in the escape format, which never fails: it spells NUL and
// every byte above 0x7F as \nnn, a backslash as \\, and keeps the rest.
// The needle is spelled the same way. A match starts at a quote, which no
// escape contains, so the two spellings match exactly where the bytes do.
// The type is a literal so that the partial index records_reports answers
// it: the payloads read are the reports', never the whole table's. Its
// parameters are numbered after the first n. Empty when the identifier is
// too short to look for.
func mentions(userID string, n int) (string, []any) {
	needles := store.Needles(userID)
	if len(needles) == 0 {
		return "", nil
	}
	alts := make([]string, len(needles))
	args := make([]any, len(needles))
	for i, needle := range needles {
		alts[i] = fmt.Sprintf(`strpos(lower(encode(payload, 'escape') COLLATE "C"), encode($%d::bytea, 'escape')) > 0`, n+i+1)
		args[i] = needle
	}
	return `(type = '` + store.TypeReport + `' AND person_id = '' AND person_email = '' AND person_login = ''
		AND (` + strings.Join(alts, ` OR `) + `))`, args
}
