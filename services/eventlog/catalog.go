package eventlog

import (
	"encoding/csv"
	"net/http"
	"strings"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// TypeInfo is one entry of /api/event-types: the catalog, as the code uses it.
type TypeInfo struct {
	Name             string         `json:"name"`
	EventType        string         `json:"event_type"`
	DisplayName      string         `json:"display_name"`
	Description      string         `json:"description"`
	Kind             string         `json:"kind"`
	Source           string         `json:"source"`
	Module           string         `json:"module"`
	Subject          string         `json:"subject"`
	SourceEventTypes []string       `json:"source_event_types"`
	Providers        []string       `json:"providers,omitempty"`
	Payload          string         `json:"payload"`
	Fields           []events.Field `json:"fields"`
	Tags             []string       `json:"tags"`
	Since            string         `json:"since"`
	AddedIn          string         `json:"added_in"`
}

// typeInfos lists the catalog of pkg/events (everything the gateway and
// internal systems publish, every outcome type), then the event types the
// event log gives the actions of outcomes (gitlab.GroupMemberRemovedEvent),
// then the event log's own record types.
func (a *API) typeInfos(ns events.Namespace) []TypeInfo {
	var out []TypeInfo
	var outcomeFields []events.Field
	for _, t := range a.cat.Types() {
		if t.Kind == events.KindOutcome && outcomeFields == nil {
			outcomeFields = t.Fields()
		}
		out = append(out, TypeInfo{
			Name: t.Name, EventType: t.TypeName, DisplayName: t.DisplayName, Description: t.Description,
			Kind: string(t.Kind), Source: t.Source, Module: t.Module, Subject: ns.Subject(t),
			SourceEventTypes: nonNil(t.SourceEventTypes), Providers: t.Providers,
			Payload: string(t.Payload.Descriptor().FullName()), Fields: t.Fields(), Tags: nonNil(t.Tags),
			Since: t.Since, AddedIn: t.AddedIn,
		})
	}
	for _, act := range events.Actions {
		provider, module, providers := act.Provider, act.Provider+"-sync", []string{act.Provider}
		if provider == "" {
			provider, module, providers = events.SourceIdsync, "any sync consumer", events.Providers
		}
		out = append(out, TypeInfo{
			Name: ActionName(act), EventType: act.TypeName, DisplayName: act.DisplayName,
			Description: "The event log's type for an outcome whose action is " + act.Name + " (" + act.DisplayName +
				"): what " + module + " did or decided, with its result (granted, revoked, unchanged, skipped, planned, failed) and reason.",
			Kind: KindAction, Source: provider, Module: module, Subject: ns.Outcomes(),
			SourceEventTypes: []string{}, Providers: providers, Payload: outcomePayload,
			Fields: nonNilFields(outcomeFields), Tags: []string{"outcome", "action"}, Since: events.Version, AddedIn: events.Version,
		})
	}
	for _, t := range recordTypes {
		t.SourceEventTypes, t.Fields, t.Since, t.AddedIn = []string{}, []events.Field{}, events.Version, events.Version
		switch t.Name {
		case "idsync.dead_letter":
			t.Subject = ns.DLQ()
		case "idsync.undecodable":
			t.Subject = ns.Events()
		}
		out = append(out, t)
	}
	return out
}

// Kinds of the catalog's entries beyond pkg/events' own.
const (
	// KindAction is the event log's type of an outcome's action.
	KindAction = "action"
	// KindRecord is a record the event log makes itself.
	KindRecord = "record"
)

var outcomePayload = string((&eventsv1.Outcome{}).ProtoReflect().Descriptor().FullName())

// ActionName is the catalog name of an outcome action's type
// (action.gitlab.group_member.remove; action.user.resolve for any provider).
func ActionName(a events.Action) string {
	if a.Provider == "" {
		return "action." + a.Name
	}
	return "action." + a.Provider + "." + a.Name
}

// recordTypes are what the event log records that no publisher sends.
var recordTypes = []TypeInfo{
	{
		Name: "idsync.dead_letter", EventType: TypeDeadLetter, DisplayName: "Dead Letter",
		Kind: KindRecord, Source: events.SourceIdsync, Module: "eventlog", Payload: "the dead event's data", Tags: []string{"dead-letter"},
		Description: "A consumer gave up on an event (permanent error, or retries exhausted); outcome is the error class, reason the error. Replay with idsync dlq replay.",
	},
	{
		Name: "idsync.undecodable", EventType: TypeUnknown, DisplayName: "Undecodable Event",
		Kind: KindRecord, Source: events.SourceIdsync, Module: "eventlog", Payload: "as received", Tags: []string{"contract-violation"},
		Description: "A message on an idsync subject that does not decode as its type (a publisher broke the contract); kept as received, reason says why.",
	},
	{
		Name: TypeNameErasure, EventType: TypeErasure, DisplayName: "Person Forgotten",
		Kind: KindRecord, Source: events.SourceIdsync, Module: "eventlog", Payload: "{pseudonym, identifiers, records, busDeleted, busGone, reason}", Tags: []string{"erasure", "audit"},
		Description: "A person's records were pseudonymised and their messages erased from the streams (idsync events forget); the record names the operator and the pseudonym, never the erased identifiers.",
	},
}

func nonNilFields(f []events.Field) []events.Field {
	if f == nil {
		return []events.Field{}
	}
	return f
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// eventTypes lists the catalog. It is not secret (it documents the
// contract other systems publish and subscribe to) and needs no credentials.
// ?tag=, ?source= and ?kind= narrow it.
func (a *API) eventTypes(w http.ResponseWriter, r *http.Request) {
	_ = httpserver.WriteJSON(w, http.StatusOK, map[string]any{"eventTypes": a.filtered(r)})
}

func (a *API) filtered(r *http.Request) []TypeInfo {
	q := r.URL.Query()
	var out []TypeInfo
	for _, t := range a.typeInfos(a.ns) {
		if tag := q.Get("tag"); tag != "" && !contains(t.Tags, tag) {
			continue
		}
		if s := q.Get("source"); s != "" && t.Source != s {
			continue
		}
		if k := q.Get("kind"); k != "" && t.Kind != k {
			continue
		}
		out = append(out, t)
	}
	if out == nil {
		out = []TypeInfo{}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// eventTypesCSV is the catalog as CSV, in the spirit of Okta's event-type
// CSV: one row per type.
func (a *API) eventTypesCSV(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="idsync-event-types.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"Event Type", "Name", "Display Name", "Description", "Kind", "Source", "Module", "Subject", "Source Event Types", "Payload Fields", "Tags", "Since", "Added In"})
	for _, t := range a.filtered(r) {
		fields := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			fields[i] = f.Name + ":" + f.Type
		}
		_ = cw.Write([]string{t.EventType, t.Name, t.DisplayName, t.Description, t.Kind, t.Source, t.Module, t.Subject,
			strings.Join(t.SourceEventTypes, ", "), strings.Join(fields, ", "), strings.Join(t.Tags, ", "), t.Since, t.AddedIn})
	}
	cw.Flush()
}
