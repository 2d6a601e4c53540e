package eventlog

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/reconcile"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	"github.com/idsync/idsync/services/eventlog/store"
)

// Event types of records that are not events of the catalog.
const (
	TypeDeadLetter = "idsync.DeadLetterEvent"
	TypeUnknown    = "idsync.UndecodableEvent"
	TypeErasure    = "idsync.PersonForgottenEvent"
	// TypeNameErasure is the erasure record's type name (the catalog's
	// names are dotted lower case).
	TypeNameErasure = "idsync.person.forgotten"
)

var jsonOut = protojson.MarshalOptions{}

// Outcomes lists every value a record's outcome takes, from the code that
// sets them: the sync outcome results, the classes of dead letters, the
// registration hook's verdicts, the guard's states, the erasure, and the
// outcome results Okta reports on its events.
func Outcomes() []string {
	set := map[string]bool{"allowed": true, "denied": true, "paused": true, "resumed": true, "forgotten": true}
	for v := range eventsv1.OutcomeResult_name {
		if r := eventsv1.OutcomeResult(v); r != eventsv1.OutcomeResult_OUTCOME_RESULT_UNSPECIFIED {
			set[outcome.ResultName(r)] = true
		}
	}
	for _, c := range errclass.All() {
		set[c.String()] = true
	}
	for _, o := range oktaOutcomeResults {
		set[strings.ToLower(o)] = true
	}
	out := make([]string, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// oktaOutcomeResults are the values of an Okta LogEvent's outcome.result
// (Okta's System Log reference).
var oktaOutcomeResults = []string{"SUCCESS", "FAILURE", "SKIPPED", "ALLOW", "DENY", "CHALLENGE", "UNKNOWN"}

// mapper turns bus messages into records.
type mapper struct {
	ns  events.Namespace
	cat *events.Catalog
	now func() time.Time
}

// record maps one message of the events, outcomes or DLQ stream. It never
// fails: a message that does not decode is still recorded, as such.
func (m mapper) record(msg jetstream.Msg) store.Record {
	r := store.Record{Received: m.now().UTC(), Subject: msg.Subject(), Payload: msg.Data(), Partition: "default"}
	if meta, err := msg.Metadata(); err == nil {
		r.Stream, r.StreamSeq, r.Occurred = meta.Stream, meta.Sequence.Stream, meta.Timestamp.UTC()
	}
	h := msg.Headers()
	if dlqConsumer := h.Get(bus.HeaderDLQConsumer); dlqConsumer != "" {
		return m.deadLetter(r, h, dlqConsumer)
	}
	ev, err := m.cat.Decode(m.ns, msg.Subject(), h, msg.Data())
	if err != nil {
		return m.undecodable(r, h, err)
	}
	m.fill(&r, ev)
	return r
}

func (m mapper) undecodable(r store.Record, h nats.Header, err error) store.Record {
	r.ID = h.Get(events.HeaderID)
	if r.ID == "" {
		r.ID = h.Get(nats.MsgIdHdr)
	}
	if r.ID == "" {
		r.ID = fmt.Sprintf("%s:%d", r.Stream, r.StreamSeq)
	}
	r.Kind, r.Type, r.EventType, r.EventName = store.KindEvent, h.Get(events.HeaderType), TypeUnknown, "Undecodable event"
	if r.Type == "" {
		r.Type, _ = m.ns.Relative(r.Subject)
	}
	r.PersonID = h.Get(events.HeaderSubject)
	r.Reason = truncate(err.Error(), 512)
	return r
}

func (m mapper) deadLetter(r store.Record, h nats.Header, consumer string) store.Record {
	r.ID = h.Get(nats.MsgIdHdr)
	if r.ID == "" {
		r.ID = fmt.Sprintf("dlq:%s:%s:%s", consumer, h.Get(bus.HeaderDLQStream), h.Get(bus.HeaderDLQStreamSeq))
	}
	r.Kind, r.EventType = store.KindDeadLetter, TypeDeadLetter
	r.Type = h.Get(events.HeaderType)
	r.EventName = "Dead-lettered by " + consumer
	r.Actor, r.Reason, r.Outcome = consumer, h.Get(bus.HeaderDLQReason), h.Get(bus.HeaderDLQClass)
	r.SourceEventID = h.Get(events.HeaderID)
	r.PersonID = h.Get(events.HeaderSubject)
	if t, err := time.Parse(time.RFC3339Nano, h.Get(bus.HeaderDLQTime)); err == nil {
		r.Occurred = t.UTC()
	}
	// The person, when the dead letter is an event that decodes.
	if orig := h.Get(bus.HeaderDLQSubject); orig != "" {
		if ev, err := m.cat.Decode(m.ns, orig, h, r.Payload); err == nil {
			var tmp store.Record
			m.fill(&tmp, ev)
			r.PersonID, r.PersonEmail, r.PersonLogin, r.Partition = tmp.PersonID, tmp.PersonEmail, tmp.PersonLogin, tmp.Partition
		}
	}
	return r
}

// fill sets the record's fields from a decoded event.
func (m mapper) fill(r *store.Record, ev events.Event) {
	r.ID, r.Type, r.Kind = ev.ID, ev.Type.Name, store.KindEvent
	r.EventType, r.EventName = ev.Type.TypeName, ev.Type.DisplayName
	r.PersonID = ev.Subject
	if !ev.Time.IsZero() {
		r.Occurred = ev.Time.UTC()
	}
	if b, err := jsonOut.Marshal(ev.Payload); err == nil {
		r.Payload = b // JSON even when the publisher sent protobuf
	}
	actor := func(a *eventsv1.Actor) {
		if a == nil {
			return
		}
		r.Actor, r.ActorID = firstOf(a.GetAlternateId(), a.GetDisplayName(), a.GetId()), a.GetId()
	}
	client := func(c *eventsv1.Client) {
		r.ClientIP, r.UserAgent = c.GetIpAddress(), c.GetUserAgent()
	}
	switch p := ev.Payload.(type) {
	case *eventsv1.OktaUserLifecycle:
		r.PersonID, r.PersonLogin = p.GetUser().GetId(), p.GetUser().GetLogin()
		r.PersonEmail = emailOf(p.GetUser().GetLogin())
		actor(p.GetActor())
		client(p.GetClient())
		r.Reason, r.Outcome = p.GetOutcomeReason(), strings.ToLower(p.GetOutcomeResult())
	case *eventsv1.OktaLogEvent:
		for _, t := range p.GetTargets() {
			if t.GetType() == "User" {
				r.PersonID, r.PersonLogin, r.PersonEmail = t.GetId(), t.GetAlternateId(), emailOf(t.GetAlternateId())
				break
			}
		}
		actor(p.GetActor())
		client(p.GetClient())
		r.Reason, r.Outcome = p.GetOutcomeReason(), strings.ToLower(p.GetOutcomeResult())
	case *eventsv1.OktaEmailVerification:
		r.PersonID = firstOf(ev.Subject, strings.ToLower(p.GetEmail()))
		r.PersonEmail, r.PersonLogin = p.GetEmail(), p.GetLogin()
		r.Actor = "okta:registration"
		client(p.GetClient())
		r.Reason = p.GetReason()
		r.Outcome = map[bool]string{true: "allowed", false: "denied"}[p.GetAllowed()]
	case *eventsv1.ConsoleUserPermissionChanged:
		r.PersonID, r.PersonEmail = p.GetUserId(), p.GetEmail()
		r.Actor = "console"
		r.Partition = firstOf(p.GetResource().GetCompanyId(), "default")
		r.Reason = permissionReason(p)
	case *eventsv1.ConsoleProjectCreated:
		r.Actor, r.Partition = "console", firstOf(p.GetTenantId(), "default")
		r.Reason = "project " + p.GetProject().GetName()
	case *eventsv1.ConsoleServiceCreated:
		r.Actor, r.Partition = "console", firstOf(p.GetTenantId(), "default")
	case *eventsv1.ConsoleConfigurationSaved:
		r.Partition = firstOf(p.GetTenantId(), "default")
		r.Actor, r.ActorID = firstOf(p.GetAuthor().GetDisplayName(), "console"), p.GetAuthor().GetId()
	case *eventsv1.ConsoleTagCreated:
		r.Actor, r.Partition = "console", firstOf(p.GetTenantId(), "default")
	case *eventsv1.ConsoleTagDeleted:
		r.Actor, r.Partition = "console", firstOf(p.GetTenantId(), "default")
	case *eventsv1.Outcome:
		r.Kind = store.KindOutcome
		r.PersonID = firstOf(p.GetPerson().GetSourceId(), ev.Subject)
		r.PersonEmail, r.PersonLogin = p.GetPerson().GetEmail(), p.GetPerson().GetLogin()
		r.Actor, r.Reason, r.Outcome = p.GetConsumer(), p.GetReason(), outcome.ResultName(p.GetResult())
		r.Provider, r.RuleID, r.SourceEventID = p.GetProvider(), p.GetRuleId(), p.GetEventId()
		if a, ok := events.LookupAction(p.GetProvider(), p.GetAction()); ok {
			r.EventType, r.EventName = a.TypeName, a.DisplayName
		}
		if res := r.Outcome; res != "granted" && res != "revoked" {
			r.EventName += " (" + res + ")"
		}
		if p.GetTime() != nil {
			r.Occurred = p.GetTime().AsTime().UTC()
		}
	case *eventsv1.ReconcileReport:
		// About many people (its items name them), so about no one: the
		// outcomes of applying it are each person's record.
		r.PersonID = ""
		r.Actor, r.Provider = p.GetConsumer(), p.GetProvider()
		r.Reason = truncate(reconcile.FromEvent(p).Summary(), 512)
		if p.GetFinished() != nil {
			r.Occurred = p.GetFinished().AsTime().UTC()
		}
	case *eventsv1.GuardAlert:
		r.Kind = store.KindAlert
		r.Actor, r.Provider, r.Reason = p.GetConsumer(), p.GetProvider(), p.GetReason()
		r.Outcome = map[bool]string{true: "paused", false: "resumed"}[p.GetPaused()]
		if p.GetResumedBy() != "" {
			r.ActorID = p.GetResumedBy()
		}
	}
}

func permissionReason(p *eventsv1.ConsoleUserPermissionChanged) string {
	res := p.GetResource()
	where := "company " + res.GetCompanyId()
	switch {
	case res.GetEnvironmentId() != "":
		where = "environment " + res.GetProjectId() + "/" + res.GetEnvironmentId()
	case res.GetProjectId() != "":
		where = "project " + res.GetProjectId()
	}
	var b strings.Builder
	b.WriteString(p.GetConsoleEventName())
	if p.GetRoleId() != "" {
		b.WriteString(": " + p.GetRoleId() + " on " + where)
	} else {
		b.WriteString(": " + where)
	}
	if p.GetGroupId() != "" {
		b.WriteString(" through group " + p.GetGroupId())
	}
	return b.String()
}

func emailOf(login string) string {
	if strings.Contains(login, "@") {
		return login
	}
	return ""
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
