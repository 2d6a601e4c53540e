package ledger

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Outcomes is what the outcomes stream says the consumers decided.
type Outcomes struct {
	Stored int
	// Results counts outcomes by result (granted, revoked, unchanged, …).
	Results map[string]int
	// Missing lists event→provider pairs without an outcome that acted or
	// found the effect in place (granted, revoked, unchanged).
	Missing []string
	// Duplicates lists outcome ids stored more than once.
	Duplicates []string
	// Undecodable lists messages that are not outcomes.
	Undecodable []string
	// DryRun counts outcomes recorded in dry-run: a consumer that could
	// not reach its provider's credentials, which would make every other
	// check meaningless.
	DryRun int
}

// CheckOutcomes checks that every event reached every provider it should
// (want: event id → providers) and that no decision is stored twice.
func CheckOutcomes(ns events.Namespace, msgs []Msg, want map[string][]string) Outcomes {
	r := Outcomes{Stored: len(msgs), Results: map[string]int{}}
	acted := map[string]bool{}
	seen := map[string]int{}
	for _, m := range msgs {
		if !isOutcome(ns, m) {
			continue // guard alerts share the stream
		}
		ev, err := events.Default().Decode(ns, m.Subject, m.Header, m.Data)
		if err != nil {
			r.Undecodable = append(r.Undecodable, fmt.Sprintf("seq %d: %v", m.Seq, err))
			continue
		}
		o, ok := ev.Payload.(*eventsv1.Outcome)
		if !ok {
			continue
		}
		seen[m.Header.Get(nats.MsgIdHdr)]++
		res := outcome.ResultName(o.GetResult())
		r.Results[res]++
		if o.GetDryRun() {
			r.DryRun++
		}
		switch o.GetResult() {
		case outcome.Granted, outcome.Revoked, outcome.Unchanged:
			acted[o.GetEventId()+"→"+o.GetProvider()] = true
		}
	}
	for id, n := range seen {
		if n > 1 {
			r.Duplicates = append(r.Duplicates, id)
		}
	}
	for ev, providers := range want {
		for _, p := range providers {
			if !acted[ev+"→"+p] {
				r.Missing = append(r.Missing, ev+"→"+p)
			}
		}
	}
	slices.Sort(r.Missing)
	slices.Sort(r.Duplicates)
	return r
}

func isOutcome(ns events.Namespace, m Msg) bool {
	rel, ok := ns.Relative(m.Subject)
	return ok && strings.HasPrefix(rel, "outcomes.")
}

// OK reports whether every event→provider pair has its outcome, each
// decision is stored once, and none was a dry-run plan.
func (r Outcomes) OK() bool {
	return len(r.Missing) == 0 && len(r.Duplicates) == 0 && len(r.Undecodable) == 0 && r.DryRun == 0
}

// Decisions lists what the outcomes say about one event at one provider
// ("revoked user.block: <reason>"), to explain an effect that is missing.
func Decisions(ns events.Namespace, msgs []Msg, eventID, provider string) []string {
	var out []string
	for _, m := range msgs {
		if !isOutcome(ns, m) {
			continue
		}
		ev, err := events.Default().Decode(ns, m.Subject, m.Header, m.Data)
		if err != nil {
			continue
		}
		if o, ok := ev.Payload.(*eventsv1.Outcome); ok && o.GetEventId() == eventID && o.GetProvider() == provider {
			out = append(out, fmt.Sprintf("%s %s: %s", outcome.ResultName(o.GetResult()), o.GetAction(), o.GetReason()))
		}
	}
	return out
}
