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
			rec := outcome.Record{RuleID: r.ID, Action: actionAdd, Person: person, Role: c.Role,
				Target: outcome.Target{Type: "company", ID: c.ID, Name: c.ID}}
			switch {
			case person.Email == "":
				rec.Result, rec.Reason = outcome.Skipped, "the Okta login is not an email address; the Console adds users by email"
			case s.dir == nil:
				rec.Result, rec.Reason = outcome.Planned, "add to the company as "+c.Role+" (current state unknown: the Console API is not configured)"
			default:
				u, found, err := s.dir.FindUser(ctx, c.ID, "", person.Email)
				if err != nil {
					return s.d.Failed(ctx, ev, rec, err)
				}
				rec.Person.ProviderID = u.UserID
				switch {
				case found:
					rec.Result, rec.Reason = outcome.Unchanged, "already a member of the company"
				case s.d.DryRun:
					rec.Result, rec.Reason = outcome.Planned, "add to the company as "+c.Role
				default:
					err := s.dir.AddUser(ctx, c.ID, person.Email, c.Role)
					switch {
					case err == nil:
						rec.Result, rec.Reason = outcome.Granted, "added to the company as "+c.Role
					case errclass.Of(err) == errclass.NotFound:
						rec.Result = outcome.Skipped
						rec.Reason = "the Console has no user with this email yet (the user must exist in the Console, e.g. after a first sign-in or the IdP user sync)"
					default:
						return s.d.Failed(ctx, ev, rec, err)
					}
				}
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
