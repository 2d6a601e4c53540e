package oktahook

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Routing decides which catalog type, if any, an Okta event type raises.
type Routing struct {
	// DeactivateDeletes makes user.lifecycle.deactivate raise okta.delete.user.
	DeactivateDeletes bool
	// Forward lists the other Okta event types published as passthrough
	// events; "*" forwards every type in the catalog.
	Forward []string
}

// Validate reports forwarded types the catalog does not know.
func (r Routing) Validate(cat *events.Catalog) error {
	var unknown []string
	for _, f := range r.Forward {
		if f == "*" {
			continue
		}
		if _, ok := cat.OktaPassthrough(f); !ok {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("IDSYNC_OKTA_FORWARD_EVENT_TYPES: not Okta event types in the catalog: %s", strings.Join(unknown, ", "))
	}
	return nil
}

// Route returns the type an Okta event type raises: a sync type for the rule
// matrix, a passthrough type when forwarded, or false when it is not
// published (it is acknowledged and counted).
func (r Routing) Route(cat *events.Catalog, oktaEventType string) (*events.Type, bool) {
	if oktaEventType == events.OktaUserDeactivate && r.DeactivateDeletes {
		return cat.Lookup(events.OktaDeleteUser)
	}
	if oktaEventType != events.OktaUserDeactivate {
		if t, ok := cat.OktaSync(oktaEventType); ok {
			return t, true
		}
	}
	if slices.Contains(r.Forward, "*") || slices.Contains(r.Forward, oktaEventType) {
		return cat.OktaPassthrough(oktaEventType)
	}
	return nil, false
}

// Meta is what the transport knows about the delivery.
type Meta struct {
	Channel    string
	Route      string
	DeliveryID string
	// Source is the CloudEvents source: the hook URL, or the org URL for the
	// System Log.
	Source     string
	ReceivedAt time.Time
}

// Event builds the idsync event of type t from a validated System Log event.
// A sync type needs a target of type User; its absence is a schema_violation.
func Event(t *events.Type, le *LogEvent, meta Meta, rawMax int) (events.Event, error) {
	published, err := time.Parse(time.RFC3339Nano, le.Published)
	if err != nil {
		return events.Event{}, apierror.New(apierror.SchemaViolation, "published: not an RFC 3339 time")
	}
	// RFC 3339 allows the year 0000, a protobuf Timestamp starts at 0001:
	// refuse what the payload could not carry rather than fail to publish it.
	if err := timestamppb.New(published).CheckValid(); err != nil {
		return events.Event{}, apierror.New(apierror.SchemaViolation, "published: outside the years 0001-9999")
	}
	// The schema requires a non-empty uuid, but encoding/json matches member
	// names case-insensitively, so a later "UUID": "" empties it past the
	// schema. It is the event id: without it the event cannot be published.
	if le.UUID == "" {
		return events.Event{}, apierror.New(apierror.SchemaViolation, "uuid: a non-empty string is required")
	}
	source := meta.Source
	if source == "" {
		source = "urn:okta"
	}
	origin := &eventsv1.Origin{
		Channel: meta.Channel, SourceEventType: le.EventType, DeliveryId: meta.DeliveryID,
		Route: meta.Route, ReceivedAt: timestamppb.New(meta.ReceivedAt),
	}
	origin.Raw, origin.RawTruncated = bounded(le.Raw, rawMax)
	ev := events.Event{ID: le.UUID, Type: t, Source: source, Time: published.UTC()}
	actor, client, result, reason, txn := common(le)

	if t.Kind == events.KindSync {
		user, ok := le.User()
		if !ok || user.ID == "" {
			return events.Event{}, apierror.New(apierror.SchemaViolation,
				fmt.Sprintf("%s event %s has no target of type User", le.EventType, le.UUID))
		}
		ev.Subject = user.ID
		ev.Payload = &eventsv1.OktaUserLifecycle{
			Uuid: le.UUID, EventType: le.EventType, Published: timestamppb.New(published),
			User:  &eventsv1.OktaUser{Id: user.ID, Login: user.AlternateID, DisplayName: user.DisplayName},
			Actor: actor, Client: client, OutcomeResult: result, OutcomeReason: reason,
			TransactionId: txn, DisplayMessage: le.DisplayMessage, Origin: origin,
		}
		return ev, nil
	}
	targets := make([]*eventsv1.OktaTarget, 0, len(le.Target))
	for _, tg := range le.Target {
		targets = append(targets, &eventsv1.OktaTarget{Id: tg.ID, Type: tg.Type, AlternateId: tg.AlternateID, DisplayName: tg.DisplayName})
	}
	if u, ok := le.User(); ok {
		ev.Subject = u.ID
	} else if len(le.Target) > 0 {
		ev.Subject = le.Target[0].ID
	}
	ev.Payload = &eventsv1.OktaLogEvent{
		Uuid: le.UUID, EventType: le.EventType, Published: timestamppb.New(published),
		Severity: le.Severity, DisplayMessage: le.DisplayMessage, Actor: actor, Client: client,
		OutcomeResult: result, OutcomeReason: reason, Targets: targets, TransactionId: txn, Origin: origin,
	}
	return ev, nil
}

func common(le *LogEvent) (actor *eventsv1.Actor, client *eventsv1.Client, result, reason, txn string) {
	if le.Actor != nil {
		actor = &eventsv1.Actor{Id: le.Actor.ID, Type: le.Actor.Type, AlternateId: le.Actor.AlternateID, DisplayName: le.Actor.DisplayName}
	}
	if le.Client != nil {
		client = &eventsv1.Client{IpAddress: le.Client.IPAddress}
		if le.Client.UserAgent != nil {
			client.UserAgent = le.Client.UserAgent.RawUserAgent
		}
	}
	if le.Outcome != nil {
		result, reason = le.Outcome.Result, le.Outcome.Reason
	}
	if le.Transaction != nil {
		txn = le.Transaction.ID
	}
	return
}

func bounded(b []byte, max int) ([]byte, bool) {
	if len(b) <= max {
		return append([]byte(nil), b...), false
	}
	return append([]byte(nil), b[:max]...), true
}
