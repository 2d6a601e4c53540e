package faults

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idsync/idsync/faults/internal/ledger"
	"github.com/idsync/idsync/faults/internal/load"
	"github.com/idsync/idsync/pkg/events"
)

const ns = events.Namespace("idsync")

// expect says what a scenario allows beyond the invariants.
type expect struct {
	// broken: requests whose connection died under them are allowed (the
	// gateway was stopped while they arrived; the sender retried them).
	broken bool
}

// finish checks every invariant, logs the summary and appends it to the
// report; any violation fails the test.
func (s *system) finish(name, loadDesc string, converged time.Duration, ex expect) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sum := ledger.Summary{Scenario: name, Load: loadDesc, Faults: s.faults, Notes: s.notes, Converged: converged}
	results := s.sender.Results()
	s.checkAnswers(&sum, results, ex)
	evs := s.checkEvents(ctx, &sum, results)
	outs := s.checkEffects(ctx, &sum)
	s.checkDeadLetters(ctx, &sum)
	s.checkEventLog(ctx, &sum, evs, outs)
	sum.Wall = time.Since(s.started)
	sum.Passed = !s.t.Failed()
	s.t.Logf("summary\n%s", sum.Lines())
	if err := sum.Append(reportPath); err != nil {
		s.t.Errorf("report: %v", err)
	}
}

// checkAnswers: every delivery was eventually answered 2xx, and every other
// answer was one a sender can act on (503 with Retry-After and a
// documented code).
func (s *system) checkAnswers(sum *ledger.Summary, results []*load.Result, ex expect) {
	s.t.Helper()
	st := load.Summarize(results)
	sum.Deliveries, sum.Events, sum.Attempts = st.Deliveries, st.Events, st.Attempts
	sum.Answers, sum.NoAnswer = map[string]int{}, st.Transport
	for code, n := range st.Status {
		if code != 503 {
			sum.Answers[fmt.Sprint(code)] = n
		}
	}
	for code, n := range st.Rejected {
		sum.Answers["503 "+code] = n
	}
	if st.Delivered != len(s.deliveries) {
		s.t.Errorf("%d of %d deliveries answered 2xx", st.Delivered, len(s.deliveries))
	}
	if len(st.Unexpected) > 0 {
		s.t.Errorf("%d answers a sender cannot act on, e.g. %s", len(st.Unexpected), strings.Join(first(st.Unexpected, 5), "; "))
	}
	switch {
	case len(st.Broken) > 0 && !ex.broken:
		s.t.Errorf("%d requests lost their connection: %s", len(st.Broken), strings.Join(first(st.Broken, 5), "; "))
	case len(st.Broken) > 0:
		sum.Notes = append(sum.Notes, fmt.Sprintf("%d requests arrived as the gateway stopped, got no answer and were retried, e.g. %s", len(st.Broken), st.Broken[0]))
	}
}

// checkEvents (invariant a): every event answered 2xx is stored exactly
// once, and nothing else is.
func (s *system) checkEvents(ctx context.Context, sum *ledger.Summary, results []*load.Result) []ledger.Msg {
	s.t.Helper()
	evs, err := ledger.ReadStream(ctx, s.js, ns.Stream("EVENTS"))
	if err != nil {
		s.t.Fatal(err)
	}
	r := ledger.CheckEvents(evs, append(load.OKEventIDs(results), s.extraAcked...), s.sentIDs())
	sum.Stored, sum.Replays, sum.StoredMissing, sum.StoredDuplicates = r.Unique(), r.Replays, len(r.Missing), len(r.Duplicates)
	if !r.OK() {
		s.t.Errorf("events stream: %d answered 2xx but missing %v, %d stored twice %v, %d never sent %v",
			len(r.Missing), first(r.Missing, 5), len(r.Duplicates), first(r.Duplicates, 5), len(r.Unsent), first(r.Unsent, 5))
	}
	return evs
}

// checkEffects (invariant b): every effect in place, each provider write
// made exactly once, every event→provider pair recorded as an outcome once.
func (s *system) checkEffects(ctx context.Context, sum *ledger.Summary) []ledger.Msg {
	s.t.Helper()
	sum.Effects = s.world.Effects()
	pending := s.world.Pending()
	sum.EffectsMissing = len(pending)
	if len(pending) > 0 {
		s.t.Errorf("%d effects missing: %v", len(pending), first(pending, 10))
	}
	for _, n := range s.world.Writes() {
		sum.Writes += n
	}
	if v := s.world.WriteViolations(); len(v) > 0 {
		sum.WriteViolations = len(v)
		s.t.Errorf("provider writes not exactly once (%d): %v", len(v), first(v, 10))
	}
	outs, err := ledger.ReadStream(ctx, s.js, ns.Stream("OUTCOMES"))
	if err != nil {
		s.t.Fatal(err)
	}
	r := ledger.CheckOutcomes(ns, outs, s.wantedOutcomes())
	sum.Outcomes, sum.OutcomesMissing = r.Results, len(r.Missing)
	s.explain(pending, outs)
	if !r.OK() {
		s.t.Errorf("outcomes: %d missing %v, %d stored twice %v, %d undecodable %v, %d dry-run",
			len(r.Missing), first(r.Missing, 5), len(r.Duplicates), first(r.Duplicates, 5), len(r.Undecodable), first(r.Undecodable, 3), r.DryRun)
	}
	return outs
}

// explain logs what the consumers have decided (by now: the outcomes are
// read after the effects were checked) about the first missing effects.
func (s *system) explain(pending []string, outs []ledger.Msg) {
	ids := map[string]string{}
	for _, d := range append(s.probes, s.deliveries...) {
		for i, id := range d.EventIDs {
			ids[d.Items[i]] = id
		}
	}
	for _, p := range first(pending, 5) {
		item, provider, ok := strings.Cut(p, "→")
		if ok {
			s.t.Logf("%s: event %s, decisions %q", p, ids[item], ledger.Decisions(ns, outs, ids[item], provider))
		}
	}
}

// checkDeadLetters (invariant c): nothing dropped silently. Every dead
// letter says why; and since every scenario ends converged, any letter
// still there is an event some provider never got (the provider scenario
// replays its letters before it ends).
func (s *system) checkDeadLetters(ctx context.Context, sum *ledger.Summary) {
	s.t.Helper()
	dls, err := ledger.ReadStream(ctx, s.js, ns.Stream("DLQ"))
	if err != nil {
		s.t.Fatal(err)
	}
	r := ledger.CheckDeadLetters(dls)
	sum.DeadLetters, sum.Replayed = r.ByConsumer, s.replayed
	if len(r.Unexplained) > 0 {
		s.t.Errorf("dead letters without a reason: %v", first(r.Unexplained, 5))
	}
	if r.Stored > 0 {
		s.t.Errorf("%d dead letters left: %v (reasons %v)", r.Stored, r.ByConsumer, r.Reasons)
	}
}

// checkEventLog: the event log holds every event and outcome on the bus,
// each in one row.
func (s *system) checkEventLog(ctx context.Context, sum *ledger.Summary, evs, outs []ledger.Msg) {
	s.t.Helper()
	rows, err := s.eventLogRows(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	r := ledger.CheckEventLog(rows, recordIDs(evs, outs))
	sum.EventLogRows, sum.EventLogMissing, sum.EventLogDuplicates = r.Rows, len(r.Missing), len(r.Duplicates)
	if !r.OK() {
		s.t.Errorf("event log: %d records missing %v, %d duplicated %v", len(r.Missing), first(r.Missing, 5), len(r.Duplicates), first(r.Duplicates, 5))
	}
}

// first keeps the first n of a list for a message.
func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… %d more", len(s)-n))
	}
	return s
}
