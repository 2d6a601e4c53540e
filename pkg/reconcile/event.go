package reconcile

import (
	"fmt"
	"maps"
	"slices"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/events"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// MaxEventBytes bounds the report event's data. A report of 10,000 items
// is about 5 MB, beyond NATS's default maximum payload (1 MiB); the event
// keeps the counts, the stats and the first items that fit, and says it
// was truncated. Whoever asked for the run receives every item (the
// streamed reply), and the outcomes of an applied report record every
// action one by one.
const MaxEventBytes = 512 << 10

// maxEventNotes bounds the notes in the event: a scan that could not
// resolve thousands of people writes thousands of notes.
const maxEventNotes = 200

var eventJSON = protojson.MarshalOptions{}

// eventPayload is the report event's payload for r, within limit bytes of
// proto3 JSON.
func eventPayload(r Report, limit int) (*eventsv1.ReconcileReport, error) {
	p := reportProto(r)
	if len(p.Stats.Notes) > maxEventNotes {
		p.Stats.Notes, p.Truncated = p.Stats.Notes[:maxEventNotes], true
	}
	all := p.Items
	p.Items = nil
	base, err := eventJSON.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("reconcile: encoding the report: %w", err)
	}
	// `"items":[…],` and the truncated flag around the items.
	budget := limit - len(base) - 32
	n := 0
	for _, it := range all {
		b, err := eventJSON.Marshal(it)
		if err != nil {
			return nil, fmt.Errorf("reconcile: encoding an item: %w", err)
		}
		if budget -= len(b) + 1; budget < 0 {
			break
		}
		n++
	}
	p.Items = all[:n]
	if n < len(all) {
		p.Truncated = true
	}
	// The estimate above is the encoder's own output, item by item; check
	// the whole anyway, since the encoder may space its output differently.
	for {
		b, err := eventJSON.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("reconcile: encoding the report: %w", err)
		}
		if len(b) <= limit || len(p.Items) == 0 {
			return p, nil
		}
		p.Items, p.Truncated = p.Items[:len(p.Items)/2], true
	}
}

// reportProto converts r, with every item.
func reportProto(r Report) *eventsv1.ReconcileReport {
	p := &eventsv1.ReconcileReport{
		Id: r.ID, Provider: r.Provider, Consumer: r.Consumer, Trigger: r.Trigger,
		Apply: r.Apply, DryRun: r.DryRun, RemoveUnmanaged: r.RemoveUnmanaged, Interrupted: r.Interrupted, Error: r.Error,
		ItemCount: int32(r.ItemCount), Truncated: r.Truncated, Remaining: int32(r.Remaining),
		Counts: &eventsv1.ReconcileCounts{
			Add: int32(r.Counts.Add), Change: int32(r.Counts.Change), Remove: int32(r.Counts.Remove),
			Pending: int32(r.Counts.Pending), Applied: int32(r.Counts.Applied), Unchanged: int32(r.Counts.Unchanged),
			Skipped: int32(r.Counts.Skipped), Planned: int32(r.Counts.Planned), Paused: int32(r.Counts.Paused), Failed: int32(r.Counts.Failed),
		},
		Stats: &eventsv1.ReconcileStats{
			People: int32(r.Stats.People), Targets: int32(r.Stats.Targets),
			Notes: slices.Clone(r.Stats.Notes), NoteCount: int32(len(r.Stats.Notes)),
		},
		Items: make([]*eventsv1.ReconcileItem, 0, len(r.Items)),
	}
	if !r.Started.IsZero() {
		p.Started = timestamppb.New(r.Started)
	}
	if !r.Finished.IsZero() {
		p.Finished = timestamppb.New(r.Finished)
	}
	for _, provider := range slices.Sorted(maps.Keys(r.Stats.Calls)) {
		p.Stats.Calls = append(p.Stats.Calls, &eventsv1.ReconcileCalls{Provider: provider, Calls: r.Stats.Calls[provider]})
	}
	for _, it := range r.Items {
		p.Items = append(p.Items, itemProto(it))
	}
	return p
}

func itemProto(it Item) *eventsv1.ReconcileItem {
	return &eventsv1.ReconcileItem{
		Provider: it.Provider, Op: string(it.Op), Action: it.Action,
		Target: &eventsv1.ReconcileTarget{Type: it.Target.Type, Key: it.Target.Key, Name: it.Target.Name, Id: it.Target.ID},
		Person: &eventsv1.OutcomePerson{SourceId: it.Person.SourceID, Email: it.Person.Email, Login: it.Person.Login, ProviderId: it.Person.ProviderID},
		Role:   it.Role, Current: it.Current, RuleId: it.RuleID,
		CompanyId: it.CompanyID, ProjectId: it.ProjectID, EnvironmentId: it.EnvironmentID,
		Managed: it.Managed, Reason: it.Reason, Result: string(it.Result), Detail: it.Detail,
	}
}

// FromEvent reads a report event's payload back (the event log, other
// systems subscribing to idsync.events.idsync.reconcile.report).
func FromEvent(p *eventsv1.ReconcileReport) Report {
	r := Report{
		ID: p.GetId(), Provider: p.GetProvider(), Consumer: p.GetConsumer(), Trigger: p.GetTrigger(),
		Apply: p.GetApply(), DryRun: p.GetDryRun(), RemoveUnmanaged: p.GetRemoveUnmanaged(), Interrupted: p.GetInterrupted(),
		Error: p.GetError(), ItemCount: int(p.GetItemCount()), Truncated: p.GetTruncated(), Remaining: int(p.GetRemaining()),
		Stats: Stats{People: int(p.GetStats().GetPeople()), Targets: int(p.GetStats().GetTargets()), Notes: p.GetStats().GetNotes()},
		Items: make([]Item, 0, len(p.GetItems())),
	}
	c := p.GetCounts()
	r.Counts = Counts{
		Add: int(c.GetAdd()), Change: int(c.GetChange()), Remove: int(c.GetRemove()),
		Pending: int(c.GetPending()), Applied: int(c.GetApplied()), Unchanged: int(c.GetUnchanged()),
		Skipped: int(c.GetSkipped()), Planned: int(c.GetPlanned()), Paused: int(c.GetPaused()), Failed: int(c.GetFailed()),
	}
	if p.GetStarted() != nil {
		r.Started = p.GetStarted().AsTime()
	}
	if p.GetFinished() != nil {
		r.Finished = p.GetFinished().AsTime()
	}
	if calls := p.GetStats().GetCalls(); len(calls) > 0 {
		r.Stats.Calls = map[string]int64{}
		for _, c := range calls {
			r.Stats.Calls[c.GetProvider()] += c.GetCalls()
		}
	}
	for _, it := range p.GetItems() {
		t, pe := it.GetTarget(), it.GetPerson()
		r.Items = append(r.Items, Item{
			Provider: it.GetProvider(), Op: Op(it.GetOp()), Action: it.GetAction(),
			Target: Target{Type: t.GetType(), Key: t.GetKey(), Name: t.GetName(), ID: t.GetId()},
			Person: Person{SourceID: pe.GetSourceId(), Email: pe.GetEmail(), Login: pe.GetLogin(), ProviderID: pe.GetProviderId()},
			Role:   it.GetRole(), Current: it.GetCurrent(), RuleID: it.GetRuleId(),
			CompanyID: it.GetCompanyId(), ProjectID: it.GetProjectId(), EnvironmentID: it.GetEnvironmentId(),
			Managed: it.GetManaged(), Reason: it.GetReason(), Result: Result(it.GetResult()), Detail: it.GetDetail(),
		})
	}
	return r
}

// reportEvent is the catalog event of a report with payload p.
func reportEvent(r Report, p *eventsv1.ReconcileReport) (events.Event, error) {
	t, ok := events.Default().Lookup(events.ReconcileReport)
	if !ok {
		return events.Event{}, fmt.Errorf("reconcile: the catalog has no %s", events.ReconcileReport)
	}
	at := r.Finished
	if at.IsZero() {
		at = r.Started
	}
	// No ce-subject: a report is about many people (the items name them),
	// and the event log's person of a record comes from it.
	return events.Event{ID: r.ID, Type: t, Source: "urn:idsync:" + r.Consumer, Time: at, Payload: p}, nil
}
