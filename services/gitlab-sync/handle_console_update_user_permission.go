package gitlabsync

import (
	"context"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/plan"
)

// consoleUpdateUserPermission converges the user's GitLab group
// memberships to what the rules grant for their effective Console access:
// the highest role any met rule asks for; a higher role is lowered only when
// idsync granted it; memberships idsync manages and no rule wants any more
// are removed.
func (s *service) consoleUpdateUserPermission(ctx context.Context, ev events.Event) error {
	var access plan.AccessReader // an untyped nil without the Console API
	if s.d.Console != nil {
		access = s.d.Console
	}
	return s.applier().HandleUserPermission(ctx, ev, plan.New(s.d.Rules, access, s.d.Ledger, provider), s.resolve)
}

// applier applies plans to GitLab group memberships: the event path and
// reconciliation grant and revoke through it.
func (s *service) applier() *plan.Applier {
	return &plan.Applier{D: s.d, Provider: provider, M: memberships{dir: s.dir}}
}

// resolve finds the GitLab user with the Console user's email. Without
// GitLab credentials (dry-run) the email stands in for the user.
func (s *service) resolve(ctx context.Context, p outcome.Person) (string, bool, string, error) {
	switch {
	case p.Email == "":
		return "", false, "the Console event names no email; GitLab users are found by email", nil
	case s.dir == nil:
		return p.Email, true, "", nil
	}
	u, found, err := s.dir.FindUser(ctx, p.Email)
	if err != nil || !found {
		return "", false, "no GitLab user with this email", err
	}
	return u.Key(), true, "", nil
}
