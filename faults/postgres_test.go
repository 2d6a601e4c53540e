package faults

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/idsync/idsync/faults/internal/pg"
)

// TestEventLogPostgresDownAndBack runs the event log on a private
// PostgreSQL server and crashes the server under load (pg_ctl stop -m
// immediate), waits until the event log notices (its /readyz fails), then
// starts it again: no event or outcome may be missing from the event log,
// and none may have two rows.
func TestEventLogPostgresDownAndBack(t *testing.T) {
	t.Parallel()
	db := pg.Start(t)
	s := newSystem(t, options{items: suite.items, batch: 2, latency: 10 * time.Millisecond, eventlogDSN: db.DSN})
	s.startAll(1)
	wait := s.runLoad(8)
	s.waitDelivered(0.3)
	db.Stop(t, "immediate")
	down := time.Now()
	s.fault("PostgreSQL crashed under load (pg_ctl stop -m immediate)")
	waitFor(t, time.Minute, "the event log's /readyz to fail", func() bool { return status("http://"+s.elAddr+"/readyz") == http.StatusServiceUnavailable })
	s.waitDelivered(0.6)
	db.Start(t)
	s.fault("PostgreSQL started again after %s", time.Since(down).Round(10*time.Millisecond))
	s.faultOver()
	wait()
	converged := s.converge(suite.converge)
	s.finish("event log PostgreSQL down and back", fmt.Sprintf("%d people, %d deliveries at %d/s, providers 10ms", suite.items, len(s.deliveries), suite.rate),
		converged, expect{})
}

func status(url string) int {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
