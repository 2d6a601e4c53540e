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

// Person returns every record about a person or in which the person acted,
// oldest first.
func (s *Store) Person(ctx context.Context, userID string) ([]store.Record, error) {
	if err := s.errClosed("Person"); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, s.fail("Person", errNoUser)
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, `+columns+` FROM records
		WHERE person_id = $1 OR (person_email = $2 AND person_email <> '') OR (person_login = $2 AND person_login <> '')
			OR actor = $1 OR (actor_id = $1 AND actor_id <> '')
		ORDER BY occurred, seq`, text(userID), text(strings.ToLower(userID)))
	if err != nil {
		return nil, s.fail("Person", err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, s.fail("Person", err)
	}
	return out, nil
}
