package oktasync

import (
	"context"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
)

// consoleUpdateUserPermission keeps the user in exactly the Okta groups the
// rules grant for their effective Console access (managed groups only).
func (s *service) consoleUpdateUserPermission(ctx context.Context, ev events.Event) error {
	return s.applier.HandleUserPermission(ctx, ev, s.planner, s.resolve)
}

// resolve finds the Okta user whose login is the Console email.
func (s *service) resolve(ctx context.Context, p outcome.Person) (string, bool, string, error) {
	if p.Email == "" {
		return "", false, "the Console event carries no email", nil
	}
	if s.dir == nil {
		return "", false, "dry-run without Okta credentials: the Okta user cannot be looked up", nil
	}
	id, found, err := s.dir.UserID(ctx, p.Email)
	if err != nil {
		return "", false, "", err
	}
	if !found {
		return "", false, "no Okta user with login " + p.Email, nil
	}
	return id, true, "", nil
}
