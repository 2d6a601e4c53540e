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
			rec := outcome.Record{RuleID: r.ID, Action: actionRemove, Person: person,
				Target: outcome.Target{Type: "company", ID: c.ID, Name: c.ID}}
			if s.dir == nil {
				rec.Result, rec.Reason = outcome.Planned, "remove from the company (current state unknown: the Console API is not configured)"
				if s.d.Guard.Protected(person.Email, person.Login, person.SourceID) {
					rec.Result, rec.Reason = outcome.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS)"
				}
				recs = append(recs, rec)
				continue
			}
			u, found, err := s.dir.FindUser(ctx, c.ID, "", person.Email)
			if err != nil {
				return s.d.Failed(ctx, ev, rec, err)
			}
			if !found {
				rec.Result, rec.Reason = outcome.Unchanged, "not a member of the company"
				recs = append(recs, rec)
				continue
			}
			rec.Person.ProviderID = u.UserID
			ok, reason, err := s.d.Removal(ctx, person.Email, person.Login, person.SourceID, u.UserID)
			if err != nil {
				return s.d.Failed(ctx, ev, rec, err)
			}
			switch {
			case !ok:
				rec.Result, rec.Reason = outcome.Skipped, reason
			case s.d.DryRun:
				rec.Result, rec.Reason = outcome.Planned, "remove from the company and its groups"
			default:
				err := s.dir.RemoveUser(ctx, c.ID, u.UserID)
				switch {
				case err == nil:
					rec.Result, rec.Reason = outcome.Revoked, "removed from the company and its groups"
				case errclass.Of(err) == errclass.NotFound:
					rec.Result, rec.Reason = outcome.Unchanged, "not a member of the company"
				default:
					return s.d.Failed(ctx, ev, rec, err)
				}
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
