package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/idsync/idsync/services/eventlog/store"
	"github.com/idsync/idsync/services/eventlog/store/sqlite"
	"github.com/idsync/idsync/services/eventlog/store/storetest"
)

func opener(b *testing.B) store.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// go test -run '^$' -bench Ingest ./store/sqlite/
func BenchmarkIngest(b *testing.B) { storetest.BenchIngest(b, opener) }

// IDSYNC_BENCH_ROWS=1000000 go test -run '^$' -bench QueryByUser -timeout 60m ./store/sqlite/
func BenchmarkQueryByUser(b *testing.B) { storetest.BenchQueryByUser(b, opener, storetest.BenchRows()) }
