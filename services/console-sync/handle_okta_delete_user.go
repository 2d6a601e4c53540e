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

const actionRemove = "company_user.remove"

// oktaDeleteUser removes the deleted Okta user from every company the rules
// name, group memberships included, unless the account is protected or the
// removal guard has tripped.
func (s *service) oktaDeleteUser(ctx context.Context, ev events.Event) error {
	p, ok := ev.Payload.(*eventsv1.OktaUserLifecycle)
	if !ok {
		return errclass.AsPermanent(fmt.Errorf("console-sync: %s carries %T", ev.Type.Name, ev.Payload))
	}
	person := syncsvc.OktaPerson(p)
	var recs []outcome.Record
	for _, r := range s.d.Rules.For(events.OktaDeleteUser) {
		if r.Actions.Console == nil {
			continue
		}
		for _, c := range r.Actions.Console.Companies {
			rec, err := s.removeFromCompany(ctx, s.dir, ev, r.ID, c.ID, person)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		recs = append(recs, outcome.Record{Action: actionRemove, Person: person, Result: outcome.Skipped, Reason: "no rule removes users from a Console company"})
	}
	if err := s.d.Outcomes.Publish(ctx, ev, recs...); err != nil {
		return errclass.AsRetryable(err)
	}
	return nil
}
