package githubsync

import (
	"context"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/plan"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// consoleUpdateUserPermission converges the user's organization and team
// memberships to what the rules grant for their effective Console access,
// revoking only grants idsync made (the ledger). A user the identity map
// does not know is invited by email instead.
func (s *service) consoleUpdateUserPermission(ctx context.Context, ev events.Event) error {
	planner := plan.New(s.d.Rules, s.access(), s.d.Ledger, s.prov)
	m := &memberships{s: s}
	resolve := func(ctx context.Context, person outcome.Person) (string, bool, string, error) {
		if person.Email == "" {
			return "", false, "no email to resolve a GitHub login", nil
		}
		login, found, err := s.ids.Resolve(ctx, person.Email)
		if err != nil {
			return "", false, "", err
		}
		user := login
		if !found {
			user = emailKey(person.Email)
		}
		m.bind(user, func(ctx context.Context) (plan.Plan, error) {
			// HandleUserPermission has checked the payload's type.
			return planner.UserPermission(ctx, ev.Payload.(*eventsv1.ConsoleUserPermissionChanged), user)
		})
		return user, true, "", nil
	}
	a := &plan.Applier{D: s.d, Provider: s.prov, M: m}
	return a.HandleUserPermission(ctx, ev, planner, resolve)
}

// access is the effective-access reader: the Console client, or a nil
// interface (not a nil pointer) when the Console API is not configured.
func (s *service) access() plan.AccessReader {
	if s.d.Console == nil {
		return nil
	}
	return s.d.Console
}
