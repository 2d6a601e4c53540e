package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Known reports which of ids are stored. The primary key (id, occurred)
// of every partition answers a lookup by id. Ids are compared as stored:
// made storable (see text), and reported under the id the caller gave.
func (s *Store) Known(ctx context.Context, ids []string) (map[string]bool, error) {
	if err := s.errClosed("Known"); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	asked := map[string][]string{}
	stored := make([]string, 0, len(ids))
	for _, id := range ids {
		st := text(id)
		if _, dup := asked[st]; !dup {
			stored = append(stored, st)
		}
		asked[st] = append(asked[st], id)
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT id FROM records WHERE id = ANY($1::text[])`, stored)
	if err != nil {
		return nil, s.fail("Known", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.fail("Known", err)
	}
	for _, st := range found {
		for _, id := range asked[st] {
			out[id] = true
		}
	}
	return out, nil
}
