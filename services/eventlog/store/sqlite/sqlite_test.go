package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/idsync/idsync/services/eventlog/store"
	"github.com/idsync/idsync/services/eventlog/store/sqlite"
	"github.com/idsync/idsync/services/eventlog/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsRecordsAndMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert(context.Background(), []store.Record{storetest.Rec("x", "ann", 1)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Query(context.Background(), store.Query{UserID: "00uann", Limit: 10})
	if err != nil || p.Total != 1 {
		t.Fatalf("after reopen: %d %v", p.Total, err)
	}
}
