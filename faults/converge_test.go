package faults

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/idsync/idsync/faults/internal/ledger"
	"github.com/idsync/idsync/pkg/events"
)

// wantedOutcomes maps each event id to the providers it must reach.
func (s *system) wantedOutcomes() map[string][]string {
	kinds := map[string][]string{}
	for _, it := range s.world.Items {
		kinds[it.Name] = it.Kind.Providers()
	}
	want := map[string][]string{}
	for _, d := range append(s.probes, s.deliveries...) {
		for i, id := range d.EventIDs {
			want[id] = kinds[d.Items[i]]
		}
	}
	return want
}

// sentIDs lists the event ids of every delivery, probes included.
func (s *system) sentIDs() []string {
	var out []string
	for _, d := range append(s.probes, s.deliveries...) {
		out = append(out, d.EventIDs...)
	}
	return out
}

// eventLogRows counts the event log's rows per record id.
func (s *system) eventLogRows(ctx context.Context) (map[string]int, error) {
	if s.opts.eventlogDSN != "" {
		return ledger.PostgresRows(ctx, s.opts.eventlogDSN)
	}
	return ledger.SQLiteRows(ctx, filepath.Join(s.dir, "eventlog", "eventlog.db"))
}

// recordIDs are the ids the event log must hold: every event and every
// outcome on the bus.
func recordIDs(msgs ...[]ledger.Msg) []string {
	seen := map[string]bool{}
	var out []string
	for _, ms := range msgs {
		for _, m := range ms {
			id := m.Header.Get(events.HeaderID)
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// converge waits until every effect is in place, every event→provider pair
// has its outcome, and the event log holds every event and outcome.
func (s *system) converge(timeout time.Duration) time.Duration {
	s.t.Helper()
	if s.quiet.IsZero() {
		s.quiet = time.Now()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	want := s.wantedOutcomes()
	var why string
	lastLog := time.Now()
	for {
		why = s.notConverged(ctx, want)
		if why == "" {
			return time.Since(s.quiet)
		}
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			s.t.Logf("%s  converging: %s", time.Since(s.started).Round(time.Millisecond), why)
		}
		select {
		case <-ctx.Done():
			s.t.Errorf("not converged within %s: %s", timeout, why)
			return time.Since(s.quiet)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (s *system) notConverged(ctx context.Context, want map[string][]string) string {
	if p := s.world.Pending(); len(p) > 0 {
		return fmt.Sprintf("%d effects missing (first: %s)", len(p), p[0])
	}
	outs, err := ledger.ReadStream(ctx, s.js, ns.Stream("OUTCOMES"))
	if err != nil {
		return err.Error()
	}
	if o := ledger.CheckOutcomes(ns, outs, want); len(o.Missing) > 0 {
		return fmt.Sprintf("%d event→provider outcomes missing (first: %s)", len(o.Missing), o.Missing[0])
	}
	evs, err := ledger.ReadStream(ctx, s.js, ns.Stream("EVENTS"))
	if err != nil {
		return err.Error()
	}
	rows, err := s.eventLogRows(ctx)
	if err != nil {
		return "event log: " + err.Error()
	}
	if el := ledger.CheckEventLog(rows, recordIDs(evs, outs)); len(el.Missing) > 0 {
		return fmt.Sprintf("%d records missing from the event log (first: %s)", len(el.Missing), el.Missing[0])
	}
	return ""
}
