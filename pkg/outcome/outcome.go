// Package outcome publishes what a sync consumer decided, one message per
// action, on idsync.outcomes.<provider>.<event>: the event log and the
// dashboards show these. Ids are derived from the decision, so a redelivered
// event that reaches the same decision publishes nothing new.
package outcome

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/metrics"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Results, for brevity at call sites.
const (
	Granted   = eventsv1.OutcomeResult_OUTCOME_RESULT_GRANTED
	Revoked   = eventsv1.OutcomeResult_OUTCOME_RESULT_REVOKED
	Unchanged = eventsv1.OutcomeResult_OUTCOME_RESULT_UNCHANGED
	Skipped   = eventsv1.OutcomeResult_OUTCOME_RESULT_SKIPPED
	Planned   = eventsv1.OutcomeResult_OUTCOME_RESULT_PLANNED
	Failed    = eventsv1.OutcomeResult_OUTCOME_RESULT_FAILED
)

// Record is one decision.
type Record struct {
	RuleID string
	Action string
	Result eventsv1.OutcomeResult
	Target Target
	Person Person
	Role   string
	Reason string
	// ErrorClass, for failures.
	ErrorClass string
}

// Target is the provider object acted on.
type Target struct{ Type, ID, Name string }

// Person is who the action was about.
type Person struct{ SourceID, Email, Login, ProviderID string }

// Publisher publishes the outcomes of one consumer.
type Publisher struct {
	pub      *bus.Publisher
	ns       events.Namespace
	cat      *events.Catalog
	consumer string
	provider string
	dryRun   bool
	results  *prometheus.CounterVec
}

// New returns the outcome publisher of consumer acting on provider. dryRun
// is recorded on every outcome.
func New(conn *bus.Conn, ns events.Namespace, consumer, provider string, dryRun bool, reg prometheus.Registerer) *Publisher {
	return &Publisher{
		pub: bus.NewPublisher(conn, ns.Stream(bus.StreamOutcomes), 5*time.Second, reg),
		ns:  ns, cat: events.Default(), consumer: consumer, provider: provider, dryRun: dryRun,
		results: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "sync", Name: "outcomes_total",
			Help: "Decisions of the sync consumers by provider, action and result (granted, revoked, unchanged, skipped, planned, failed).",
		}, []string{"consumer", "provider", "action", "result"})),
	}
}

// DryRun reports whether the outcomes are plans.
func (p *Publisher) DryRun() bool { return p.dryRun }

// Publish stores the outcomes of the handling of ev; it returns once
// JetStream has them (the caller acks the event only then).
func (p *Publisher) Publish(ctx context.Context, ev events.Event, recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	t, ok := p.cat.OutcomeType(p.provider, ev.Type.Name)
	if !ok {
		return fmt.Errorf("outcome: %s does not act on %s", p.provider, ev.Type.Name)
	}
	for _, r := range recs {
		// The vocabulary is the event log's and the catalog's: an action
		// outside it is a programming error, and every handler's tests
		// publish through here.
		if _, ok := events.LookupAction(p.provider, r.Action); !ok {
			return errclass.AsPermanent(fmt.Errorf("outcome: action %q of %s is not in events.Actions", r.Action, p.provider))
		}
	}
	msgs := make([]*nats.Msg, 0, len(recs))
	now := time.Now()
	for _, r := range recs {
		o := &eventsv1.Outcome{
			Provider: p.provider, Consumer: p.consumer, EventId: ev.ID, EventType: ev.Type.Name,
			RuleId: r.RuleID, Result: r.Result, Action: r.Action,
			Target: &eventsv1.OutcomeTarget{Type: r.Target.Type, Id: r.Target.ID, Name: r.Target.Name},
			Person: &eventsv1.OutcomePerson{SourceId: r.Person.SourceID, Email: r.Person.Email, Login: r.Person.Login, ProviderId: r.Person.ProviderID},
			Role:   r.Role, Reason: r.Reason, DryRun: p.dryRun, ErrorClass: r.ErrorClass, Time: timestamppb.New(now),
		}
		m, err := events.Encode(p.ns, events.Event{
			ID: p.id(ev, r), Type: t, Source: "urn:idsync:" + p.consumer, Subject: ev.Subject, Time: now, Payload: o,
		})
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if _, err := p.pub.PublishAll(ctx, msgs); err != nil {
		return fmt.Errorf("outcome: %w", err)
	}
	for _, r := range recs {
		p.results.WithLabelValues(p.consumer, p.provider, r.Action, resultName(r.Result)).Inc()
	}
	return nil
}

// id identifies a decision: the same event, rule, action and target give the
// same id, so JetStream stores a decision once however often it is reached.
// A person with no id at the source (a member a reconciliation found at the
// provider, added by hand) is told apart by their provider id, or the
// decisions about several such people in one report would collapse into one.
func (p *Publisher) id(ev events.Event, r Record) string {
	h := sha256.New()
	for _, s := range []string{p.consumer, ev.ID, r.RuleID, r.Action, r.Target.Type, r.Target.Name, r.Person.SourceID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if r.Person.SourceID == "" && r.Person.ProviderID != "" {
		// Only then: every other decision keeps the id it always had.
		h.Write([]byte(r.Person.ProviderID))
		h.Write([]byte{0})
	}
	return "outcome-" + hex.EncodeToString(h.Sum(nil)[:20])
}

func resultName(r eventsv1.OutcomeResult) string {
	switch r {
	case Granted:
		return "granted"
	case Revoked:
		return "revoked"
	case Unchanged:
		return "unchanged"
	case Skipped:
		return "skipped"
	case Planned:
		return "planned"
	case Failed:
		return "failed"
	}
	return "unspecified"
}

// ResultName is the lower-case name of a result, as in metrics and the CLI.
func ResultName(r eventsv1.OutcomeResult) string { return resultName(r) }

// Alerter publishes a guard's alerts as guard.<provider> events.
func (p *Publisher) Alerter() func(context.Context, guard.Alert) error {
	return func(ctx context.Context, a guard.Alert) error {
		t, ok := p.cat.Lookup(events.GuardTypeName(p.provider))
		if !ok {
			return fmt.Errorf("outcome: no alert type for %s", p.provider)
		}
		now := time.Now()
		m, err := events.Encode(p.ns, events.Event{
			ID:   fmt.Sprintf("guard-%s-%d", p.consumer, now.UnixNano()),
			Type: t, Source: "urn:idsync:" + p.consumer, Subject: p.consumer, Time: now,
			Payload: &eventsv1.GuardAlert{
				Consumer: a.Consumer, Provider: a.Provider, Paused: a.Paused, Removals: int32(a.Removals),
				Threshold: int32(a.Threshold), WindowSeconds: int64(a.Window / time.Second),
				Reason: a.Reason, ResumedBy: a.ResumedBy, Time: timestamppb.New(now),
			},
		})
		if err != nil {
			return err
		}
		_, err = p.pub.PublishAll(ctx, []*nats.Msg{m})
		return err
	}
}
