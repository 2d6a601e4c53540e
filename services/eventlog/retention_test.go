package eventlog

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/services/eventlog/store"
)

// TestRetainPurgesInTheBackground: records older than the retention go,
// younger ones and erasure records stay, and the loop ends with its context.
func TestRetainPurgesInTheBackground(t *testing.T) {
	st := openSQLite(t)
	now := time.Now().UTC()
	old, young := deleteRecord("old", "ann", 0), deleteRecord("young", "bob", 0)
	old.Occurred, young.Occurred = now.Add(-48*time.Hour), now.Add(-time.Hour)
	erasure := deleteRecord("erasure-1", "forgotten-x", 0)
	erasure.Kind, erasure.Occurred = store.KindErasure, now.Add(-72*time.Hour)
	if _, err := st.Insert(context.Background(), []store.Record{old, young, erasure}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Retain(ctx, st, 24*time.Hour, 10*time.Millisecond, logging.Discard(), reg)
	}()
	waitUntil(t, "the purge", func() bool { return counterValue(t, reg, "idsync_eventlog_purged_total") == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Retain did not stop")
	}
	for id, want := range map[string]int{"00uann": 0, "00ubob": 1, "00uforgotten-x": 1} {
		if got := len(personRecords(t, st, id)); got != want {
			t.Errorf("%s: %d records, want %d", id, got, want)
		}
	}
}
