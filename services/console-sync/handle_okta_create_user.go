package consolesync

import (
	"context"
	"fmt"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/syncsvc"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

const actionAdd = "company_user.add"

// oktaCreateUser adds the new Okta user to every company the rules name,
// with the rule's role. A user already in the company is left as is; a user
// the Console does not know yet is an outcome, not a retry.
func (s *service) oktaCreateUser(ctx context.Context, ev events.Event) error {
	p, ok := ev.Payload.(*eventsv1.OktaUserLifecycle)
	if !ok {
		return errclass.AsPermanent(fmt.Errorf("console-sync: %s carries %T", ev.Type.Name, ev.Payload))
	}
	person := syncsvc.OktaPerson(p)
	var recs []outcome.Record
	for _, r := range s.d.Rules.For(events.OktaCreateUser) {
		if r.Actions.Console == nil {
			continue
		}
		for _, c := range r.Actions.Console.Companies {
			rec, err := s.addToCompany(ctx, s.dir, ev, r.ID, c, person)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		recs = append(recs, outcome.Record{Action: actionAdd, Person: person, Result: outcome.Skipped, Reason: "no rule adds users to a Console company"})
	}
	if err := s.d.Outcomes.Publish(ctx, ev, recs...); err != nil {
		return errclass.AsRetryable(err)
	}
	return nil
}
