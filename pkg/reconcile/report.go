package reconcile

import (
	"fmt"
	"strings"
	"time"
)

// Triggers of a run.
const (
	// TriggerSchedule: every IDSYNC_RECONCILE_INTERVAL.
	TriggerSchedule = "schedule"
	// TriggerRequest: on demand (idsync reconcile, or a request on
	// <ns>.reconcile.<provider>).
	TriggerRequest = "request"
)

// Report is one reconciliation of one provider: what it found and, when it
// applied, what each item's convergence did.
type Report struct {
	// ID is also the report event's ce-id; the outcomes of an applied
	// report name it as their event_id.
	ID       string `json:"id"`
	Provider string `json:"provider"`
	Consumer string `json:"consumer"`
	// Trigger is TriggerSchedule or TriggerRequest.
	Trigger  string    `json:"trigger"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Apply    bool      `json:"apply"`
	// DryRun: the consumer runs in dry-run; applied items are plans.
	DryRun          bool `json:"dryRun"`
	RemoveUnmanaged bool `json:"removeUnmanaged"`
	// Interrupted: the run stopped before its end (shutdown, lost lock);
	// items not reached stay Pending.
	Interrupted bool `json:"interrupted,omitempty"`
	// Error says why the run failed or stopped.
	Error string `json:"error,omitempty"`
	Items []Item `json:"items"`
	// ItemCount is len(Items) of the whole report (a truncated copy lists
	// fewer).
	ItemCount int    `json:"itemCount"`
	Counts    Counts `json:"counts"`
	// Remaining counts the items whose difference remains (see Remains).
	Remaining int   `json:"remaining"`
	Stats     Stats `json:"stats"`
	// Truncated: only the first items are listed (the report event, when
	// the whole report would exceed MaxEventBytes).
	Truncated bool `json:"truncated,omitempty"`
}

// Counts count a report's items per operation and per result.
type Counts struct {
	Add    int `json:"add"`
	Change int `json:"change"`
	Remove int `json:"remove"`

	Pending   int `json:"pending"`
	Applied   int `json:"applied"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
	Planned   int `json:"planned"`
	Paused    int `json:"paused"`
	Failed    int `json:"failed"`
}

// Remains reports whether the provider still differs from the desired
// state after the item: everything but Applied and AlreadyConverged. A
// skipped item remains too (a protected account, a member added by hand):
// the drift is real even when idsync deliberately leaves it.
func (it Item) Remains() bool { return it.Result != Applied && it.Result != AlreadyConverged }

// count sets the counts, ItemCount and Remaining from the items.
func (r *Report) count() {
	var c Counts
	remaining := 0
	for _, it := range r.Items {
		switch it.Op {
		case OpAdd:
			c.Add++
		case OpChange:
			c.Change++
		case OpRemove:
			c.Remove++
		}
		switch it.Result {
		case Pending:
			c.Pending++
		case Applied:
			c.Applied++
		case AlreadyConverged:
			c.Unchanged++
		case Skipped:
			c.Skipped++
		case Planned:
			c.Planned++
		case Paused:
			c.Paused++
		case Failed:
			c.Failed++
		}
		if it.Remains() {
			remaining++
		}
	}
	r.Counts, r.ItemCount, r.Remaining = c, len(r.Items), remaining
}

// Summary is the report in one line, for logs and the event log's reason.
// It names no person.
func (r Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s reconciliation (%s", r.Provider, r.Trigger)
	switch {
	case r.Apply && r.DryRun:
		b.WriteString(", apply in dry-run")
	case r.Apply:
		b.WriteString(", apply")
	default:
		b.WriteString(", report only")
	}
	fmt.Fprintf(&b, "): %d items (%d add, %d change, %d remove)", r.ItemCount, r.Counts.Add, r.Counts.Change, r.Counts.Remove)
	if r.Apply {
		fmt.Fprintf(&b, "; %d applied, %d unchanged, %d skipped, %d planned, %d paused, %d failed, %d pending",
			r.Counts.Applied, r.Counts.Unchanged, r.Counts.Skipped, r.Counts.Planned, r.Counts.Paused, r.Counts.Failed, r.Counts.Pending)
	}
	fmt.Fprintf(&b, "; %d remaining", r.Remaining)
	if r.Interrupted {
		b.WriteString("; interrupted")
	}
	if r.Error != "" {
		b.WriteString("; error: " + r.Error)
	}
	return b.String()
}

// Result names of the metrics and the CLI: Pending is "pending" there.
func resultName(r Result) string {
	if r == Pending {
		return "pending"
	}
	return string(r)
}

// results lists every Result, for metrics initialised at zero.
var results = []Result{Pending, Applied, AlreadyConverged, Skipped, Planned, Paused, Failed}

// ops lists every Op.
var ops = []Op{OpAdd, OpChange, OpRemove}
