package postgres_test

import (
	"testing"

	"github.com/idsync/idsync/services/eventlog/store"
	"github.com/idsync/idsync/services/eventlog/store/storetest"
)

func opener(b *testing.B) store.Store {
	s, _ := open(b)
	return s
}

// go test -run '^$' -bench Ingest ./store/postgres/
func BenchmarkIngest(b *testing.B) { storetest.BenchIngest(b, opener) }

// IDSYNC_BENCH_ROWS=10000000 go test -run '^$' -bench QueryByUser -timeout 60m ./store/postgres/
func BenchmarkQueryByUser(b *testing.B) { storetest.BenchQueryByUser(b, opener, storetest.BenchRows()) }
