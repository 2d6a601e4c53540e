package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/idsync/idsync/services/eventlog/store/postgres/pgtest"
)

// TestErasureSearchesUseTheIndexes: Person, and the reports Forget drops
// the payloads of, are answered from the indexes in every partition,
// never by reading whole partitions (the report term through the partial
// index records_reports). Sequential scans are disabled so that the
// planner takes an index whenever one can answer, as it would on a large
// table; a scan left in the plan means none can.
func TestErasureSearchesUseTheIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	reports := func(id string) (string, []any) {
		cond, args := mentions(id, 0)
		return `SELECT seq FROM records WHERE kind <> 'erasure' AND ` + cond, args
	}
	cases := []struct {
		name string
		sql  func(string) (string, []any)
		id   string
	}{
		{"person for erasure", personSQL, "Ann@Example.com"},
		{"reports naming a person", reports, "a<b>@example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sql, args := tc.sql(tc.id)
			rows, err := conn.Query(ctx, `EXPLAIN `+sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if strings.Contains(text, "Seq Scan") {
				t.Errorf("%s reads whole partitions:\n%s", sql, text)
			}
			// The partitions' copies of records_reports are named after
			// its column: records_pYYYYMM_type_idx.
			if !strings.Contains(text, "_type_idx") && !strings.Contains(text, "records_reports") {
				t.Errorf("%s does not find the reports by the index on their type:\n%s", sql, text)
			}
		})
	}
}
