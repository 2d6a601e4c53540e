package plan

import (
	"context"
	"fmt"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Resolver finds the provider's key for a Console user (an Okta user id, a
// GitLab user id, a GitHub login…). ok false means the person cannot be
// acted on at this provider; reason says why (an outcome, not a retry).
type Resolver func(ctx context.Context, person outcome.Person) (user string, ok bool, reason string, err error)

// HandleUserPermission is the whole handling of console.update.user.permission
// for a provider: resolve the user, plan from the rules and effective access,
// apply, publish the outcomes.
func (a *Applier) HandleUserPermission(ctx context.Context, ev events.Event, planner *Planner, resolve Resolver) error {
	p, ok := ev.Payload.(*eventsv1.ConsoleUserPermissionChanged)
	if !ok {
		return errclass.AsPermanent(fmt.Errorf("%s: %s carries %T", a.D.Name, ev.Type.Name, ev.Payload))
	}
	person := outcome.Person{SourceID: p.GetUserId(), Email: p.GetEmail(), Login: p.GetEmail()}
	if len(a.D.Rules.For(events.ConsoleUpdateUserPermission)) == 0 {
		return a.D.Outcomes.Publish(ctx, ev, outcome.Record{Person: person, Result: outcome.Skipped, Reason: "no rule for console.update.user.permission"})
	}
	user, found, reason, err := resolve(ctx, person)
	if err != nil {
		return a.D.Failed(ctx, ev, outcome.Record{Person: person, Action: "user.resolve"}, err)
	}
	if !found {
		return a.D.Outcomes.Publish(ctx, ev, outcome.Record{Person: person, Action: "user.resolve", Result: outcome.Skipped, Reason: reason})
	}
	person.ProviderID = user
	pl, err := planner.UserPermission(ctx, p, user)
	if errclass.Of(err) == errclass.NotFound {
		// The Console no longer has what the event names: a decision to
		// record, not a retry (the runtime would acknowledge it silently).
		return a.D.Outcomes.Publish(ctx, ev, outcome.Record{Person: person, Action: "rule.evaluate", Result: outcome.Skipped, Reason: err.Error()})
	}
	if err != nil {
		return err
	}
	recs, err := a.Apply(ctx, ev, pl, user, person)
	if err != nil {
		// What was done is recorded; the retry converges the rest.
		if len(recs) > 0 {
			_ = a.D.Outcomes.Publish(ctx, ev, recs...)
		}
		return err
	}
	for _, s := range pl.Skipped {
		recs = append(recs, outcome.Record{Person: person, Action: "rule.evaluate", Result: outcome.Skipped, Reason: s})
	}
	if !pl.Verified && p.GetChange() != eventsv1.PermissionChange_PERMISSION_CHANGE_ADDED {
		recs = append(recs, outcome.Record{Person: person, Action: "access.verify", Result: outcome.Skipped,
			Reason: "effective access cannot be read without the Console API (IDSYNC_CONSOLE_URL, _CLIENT_ID, _CLIENT_SECRET): nothing is revoked"})
	}
	if len(recs) == 0 {
		recs = append(recs, outcome.Record{Person: person, Action: "rule.evaluate", Result: outcome.Unchanged, Reason: "no rule names a " + a.Provider.Name + " target for this user"})
	}
	return a.D.Outcomes.Publish(ctx, ev, recs...)
}
