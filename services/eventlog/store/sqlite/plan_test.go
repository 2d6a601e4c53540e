package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idsync/idsync/services/eventlog/store"
)

// TestSearchesUseTheIndexes: every search by person or actor is answered
// from the indexes, never by scanning the table (which is what the
// planner does as soon as one alternative of an OR has no usable index).
func TestSearchesUseTheIndexes(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	search := func(q store.Query) (string, []any) {
		cond, args := where(q)
		return `SELECT seq FROM records` + cond + ` ORDER BY occurred DESC, seq DESC LIMIT 50`, args
	}
	count := func(q store.Query) (string, []any) {
		cond, args := where(q)
		return `SELECT count(*) FROM records` + cond, args
	}
	// Erasure's: Person, and the reports Forget drops the payloads of.
	person := func(q store.Query) (string, []any) { return personSQL(q.UserID) }
	reports := func(q store.Query) (string, []any) {
		cond, args := mentions(q.UserID)
		return `SELECT seq FROM records WHERE kind <> 'erasure' AND ` + cond, args
	}
	cases := []struct {
		name string
		sql  func(store.Query) (string, []any)
		q    store.Query
	}{
		{"person for erasure", person, store.Query{UserID: "Ann@Example.com"}},
		{"person for erasure, too short for reports", person, store.Query{UserID: "an"}},
		{"reports naming a person", reports, store.Query{UserID: "a<b>@example.com"}},
		{"page by user", search, store.Query{UserID: "Ann@Example.com"}},
		{"count by user", count, store.Query{UserID: "00uann"}},
		{"page by actor", search, store.Query{Actor: "admin@example.com"}},
		{"count by actor", count, store.Query{Actor: "admin@example.com"}},
		{"page by user, actor and type", search, store.Query{UserID: "ann", Actor: "gitlab-sync", Type: "okta.delete.user"}},
		{"page by user and outcome", search, store.Query{UserID: "ann", Outcome: "revoked"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sql, args := tc.sql(tc.q)
			rows, err := s.r.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			for _, step := range plan {
				if strings.HasPrefix(step, "SCAN records") {
					t.Errorf("%s scans the table:\n%s", sql, strings.Join(plan, "\n"))
				}
			}
		})
	}
}
