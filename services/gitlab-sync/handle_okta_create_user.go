package gitlabsync

import (
	"context"
	"fmt"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/rules"
	"github.com/idsync/idsync/pkg/syncsvc"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

const (
	actionCreate  = "user.create"
	actionUnblock = "user.unblock"
	kindUser      = "user"
)

// oktaCreateUser creates the new Okta user in GitLab, for every rule with
// actions.gitlab.user, or unblocks them if an administrator blocked them
// (e.g. a returning employee). An active user is left as is.
func (s *service) oktaCreateUser(ctx context.Context, ev events.Event) error {
	p, ok := ev.Payload.(*eventsv1.OktaUserLifecycle)
	if !ok {
		return errclass.AsPermanent(fmt.Errorf("gitlab-sync: %s carries %T", ev.Type.Name, ev.Payload))
	}
	person := syncsvc.OktaPerson(p)
	name := p.GetUser().GetDisplayName()
	if name == "" {
		name = person.Login
	}
	var recs []outcome.Record
	for _, r := range s.d.Rules.For(events.OktaCreateUser) {
		if r.Actions.GitLab == nil || r.Actions.GitLab.User == nil {
			continue
		}
		rec, err := s.ensureUser(ctx, r.ID, r.Actions.GitLab.User, person, name)
		if err != nil {
			return s.publishAndFail(ctx, ev, recs, rec, err)
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		recs = append(recs, outcome.Record{Action: actionCreate, Person: person, Result: outcome.Skipped, Reason: "no rule creates GitLab users"})
	}
	if err := s.d.Outcomes.Publish(ctx, ev, recs...); err != nil {
		return errclass.AsRetryable(err)
	}
	return nil
}

// ensureUser applies one rule's actions.gitlab.user to the person: the
// GitLab user is created, or unblocked if an administrator blocked them;
// an active user is left as is. On an error, the record says what was
// being done (for the failed outcome). Reconciliation applies its user
// items through it too.
func (s *service) ensureUser(ctx context.Context, ruleID string, opts *rules.GitLabUser, person outcome.Person, name string) (outcome.Record, error) {
	rec := outcome.Record{RuleID: ruleID, Action: actionCreate, Person: person,
		Target: outcome.Target{Type: kindUser, Name: person.Email}}
	switch {
	case person.Email == "":
		rec.Target.Name = person.Login
		rec.Result, rec.Reason = outcome.Skipped, "the Okta login is not an email address; GitLab users are created and found by email"
		return rec, nil
	case s.dir == nil:
		rec.Result, rec.Reason = outcome.Planned, "create the GitLab user (current state unknown: GitLab is not configured)"
		return rec, nil
	}
	u, found, err := s.dir.FindUser(ctx, person.Email)
	if err != nil {
		return rec, err
	}
	if found {
		rec.Person.ProviderID, rec.Target.ID = u.Key(), u.Key()
	}
	switch {
	case found && u.State == gitlab.StateBlocked:
		rec.Action = actionUnblock
		if s.d.DryRun {
			rec.Result, rec.Reason = outcome.Planned, "unblock the blocked GitLab user "+u.Username
			break
		}
		if err := s.dir.UnblockUser(ctx, u.ID); err != nil {
			return rec, err
		}
		rec.Result, rec.Reason = outcome.Granted, "unblocked the GitLab user "+u.Username
	case found && u.State == gitlab.StateLDAPBlocked:
		rec.Action = actionUnblock
		rec.Result, rec.Reason = outcome.Skipped, "blocked by LDAP synchronisation: unblock the user in the directory"
	case found && u.State == gitlab.StateDeactivated:
		rec.Result, rec.Reason = outcome.Unchanged, "the GitLab user "+u.Username+" is deactivated; GitLab reactivates them at their next sign-in"
	case found:
		rec.Result, rec.Reason = outcome.Unchanged, fmt.Sprintf("the GitLab user %s exists (%s)", u.Username, u.State)
	case s.d.DryRun:
		rec.Result, rec.Reason = outcome.Planned, "create the GitLab user "+gitlab.Username(person.Email)
	default:
		u, err := s.dir.CreateUser(ctx, gitlab.NewUser{
			Email: person.Email, Name: name, External: opts.External,
			SkipConfirmation: opts.SkipConfirmation, ForceRandomPassword: opts.ForceRandomPassword,
		})
		if err != nil {
			return rec, err
		}
		rec.Person.ProviderID, rec.Target.ID = u.Key(), u.Key()
		rec.Result, rec.Reason = outcome.Granted, "created the GitLab user "+u.Username
	}
	return rec, nil
}

// publishAndFail records what was done before a failure (a retry reaches
// the same decisions, which are stored once) and settles the failure: a
// permanent one is also recorded as a failed outcome.
func (s *service) publishAndFail(ctx context.Context, ev events.Event, done []outcome.Record, rec outcome.Record, err error) error {
	if len(done) > 0 {
		if perr := s.d.Outcomes.Publish(ctx, ev, done...); perr != nil {
			return errclass.AsRetryable(perr)
		}
	}
	return s.d.Failed(ctx, ev, rec, err)
}
