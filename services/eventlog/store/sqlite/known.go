package sqlite

import (
	"context"
	"fmt"
	"strings"
)

// knownChunk bounds the ids of one statement, well below SQLite's limit on
// bound parameters.
const knownChunk = 500

// Known reports which of ids are stored, through the unique index on id.
func (s *Store) Known(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(ids); start += knownChunk {
		chunk := ids[start:min(start+knownChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		marks := strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")
		rows, err := s.r.QueryContext(ctx, `SELECT id FROM records WHERE id IN (`+marks+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: known: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: known: %w", err)
			}
			out[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlite: known: %w", err)
		}
	}
	return out, nil
}
