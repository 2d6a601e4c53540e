package gitlabsync

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/syncsvc"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

// Offboarding modes (rules: actions.gitlab.offboard) and their actions.
const (
	offboardBlock      = "block"
	offboardDeactivate = "deactivate"
	offboardDelete     = "delete"
)

var offboardActions = map[string]string{
	offboardBlock: "user.block", offboardDeactivate: "user.deactivate", offboardDelete: "user.delete",
}

// oktaDeleteUser offboards the deleted Okta user from GitLab for every rule
// with actions.gitlab.offboard: the memberships idsync manages are removed,
// then the user is blocked (the default), deactivated or deleted. Protected
// accounts are left alone; the removal guard may pause the consumer.
func (s *service) oktaDeleteUser(ctx context.Context, ev events.Event) error {
	p, ok := ev.Payload.(*eventsv1.OktaUserLifecycle)
	if !ok {
		return errclass.AsPermanent(fmt.Errorf("gitlab-sync: %s carries %T", ev.Type.Name, ev.Payload))
	}
	person := syncsvc.OktaPerson(p)
	var recs []outcome.Record
	for _, r := range s.d.Rules.For(events.OktaDeleteUser) {
		if r.Actions.GitLab == nil {
			continue
		}
		var err error
		if recs, err = s.offboard(ctx, ev, r.ID, offboardMode(r), person, recs); err != nil {
			return err
		}
	}
	if len(recs) == 0 {
		recs = append(recs, outcome.Record{Action: offboardActions[offboardBlock], Person: person, Result: outcome.Skipped, Reason: "no rule offboards users from GitLab"})
	}
	if err := s.d.Outcomes.Publish(ctx, ev, recs...); err != nil {
		return errclass.AsRetryable(err)
	}
	return nil
}

// offboard applies one rule and appends its records to recs.
func (s *service) offboard(ctx context.Context, ev events.Event, ruleID, mode string, person outcome.Person, recs []outcome.Record) ([]outcome.Record, error) {
	rec := outcome.Record{RuleID: ruleID, Action: offboardActions[mode], Person: person,
		Target: outcome.Target{Type: kindUser, Name: person.Email}}
	fail := func(r outcome.Record, err error) ([]outcome.Record, error) {
		return recs, s.publishAndFail(ctx, ev, recs, r, err)
	}
	switch {
	case person.Email == "":
		rec.Target.Name = person.Login
		rec.Result, rec.Reason = outcome.Skipped, "the Okta login is not an email address; GitLab users are found by email"
		return append(recs, rec), nil
	case s.d.Guard.Protected(person.Email, person.Login, person.SourceID):
		rec.Result, rec.Reason = outcome.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS)"
		return append(recs, rec), nil
	case s.dir == nil:
		rec.Result, rec.Reason = outcome.Planned, "remove idsync's memberships and "+mode+" the GitLab user (current state unknown: GitLab is not configured)"
		return append(recs, rec), nil
	}
	u, found, err := s.dir.FindUser(ctx, person.Email)
	if err != nil {
		return fail(rec, err)
	}
	if !found {
		rec.Result, rec.Reason = outcome.Unchanged, "no GitLab user with this email"
		return append(recs, rec), nil
	}
	rec.Person.ProviderID, rec.Target.ID = u.Key(), u.Key()
	grants, err := s.d.Ledger.ForUser(ctx, Provider, u.Key())
	if err != nil {
		return fail(rec, err)
	}
	sort.Slice(grants, func(i, j int) bool { return grants[i].Target < grants[j].Target })
	already := offboarded(u, mode)
	if already != "" && len(grants) == 0 {
		rec.Result, rec.Reason = outcome.Unchanged, already
		return append(recs, rec), nil
	}
	ok, why, err := s.d.Removal(ctx, person.Email, person.Login, person.SourceID, u.Key(), u.Username)
	if err != nil {
		return fail(rec, err)
	}
	if !ok {
		rec.Result, rec.Reason = outcome.Skipped, why
		return append(recs, rec), nil
	}
	for _, g := range grants {
		m := outcome.Record{RuleID: ruleID, Action: actionMemberRemove, Person: rec.Person, Role: g.Role,
			Target: outcome.Target{Type: kindGroup, Name: groupPath(g.Target)}}
		if err := s.removeMembership(ctx, &m, g.Role, g.RuleID, u.ID); err != nil {
			return fail(m, err)
		}
		if !s.d.DryRun {
			if err := s.d.Ledger.Delete(ctx, g.Provider, g.Target, g.User); err != nil {
				return fail(m, err)
			}
		}
		recs = append(recs, m)
	}
	if err := s.offboardUser(ctx, &rec, mode, u, already); err != nil {
		return fail(rec, err)
	}
	return append(recs, rec), nil
}

// offboarded says why nothing is left to do to the user ("" if something is).
func offboarded(u gitlab.User, mode string) string {
	switch {
	case mode == offboardDelete:
		return ""
	case u.Blocked():
		return "the GitLab user " + u.Username + " is already blocked"
	case mode == offboardDeactivate && u.State == gitlab.StateDeactivated:
		return "the GitLab user " + u.Username + " is already deactivated"
	}
	return ""
}

// removeMembership removes one managed membership, unless its role was
// raised outside idsync.
func (s *service) removeMembership(ctx context.Context, m *outcome.Record, granted, grantRule string, uid int64) error {
	level, member, err := s.dir.MemberLevel(ctx, m.Target.Name, uid)
	switch {
	case err != nil:
		return err
	case !member:
		m.Result, m.Reason = outcome.Unchanged, "not a member any more"
	case level > gitlab.Rank(granted):
		m.Result = outcome.Skipped
		m.Reason = fmt.Sprintf("holds %s, above the %s idsync granted (rule %s): changed outside idsync, left alone", gitlab.Role(level), granted, grantRule)
	case s.d.DryRun:
		m.Result, m.Reason = outcome.Planned, "remove the membership granted by rule "+grantRule
	default:
		err := s.dir.RemoveMember(ctx, m.Target.Name, uid)
		switch {
		case errclass.Of(err) == errclass.NotFound:
			m.Result, m.Reason = outcome.Unchanged, "not a member any more"
		case err != nil:
			return err
		default:
			m.Result, m.Reason = outcome.Revoked, "removed the membership granted by rule "+grantRule
		}
	}
	return nil
}

// offboardUser blocks, deactivates or deletes the user. GitLab refuses to
// deactivate users active in the last 90 days: they are blocked instead.
func (s *service) offboardUser(ctx context.Context, rec *outcome.Record, mode string, u gitlab.User, already string) error {
	if already != "" {
		rec.Result, rec.Reason = outcome.Unchanged, already
		return nil
	}
	if s.d.DryRun {
		rec.Result, rec.Reason = outcome.Planned, mode+" the GitLab user "+u.Username
		return nil
	}
	var err error
	switch mode {
	case offboardDelete:
		err = s.dir.DeleteUser(ctx, u.ID)
		rec.Reason = "deleted the GitLab user " + u.Username + " (contributions move to the Ghost user)"
	case offboardDeactivate:
		err = s.dir.DeactivateUser(ctx, u.ID)
		rec.Reason = "deactivated the GitLab user " + u.Username
		if errors.Is(err, gitlab.ErrDeactivateRefused) {
			rec.Action = offboardActions[offboardBlock]
			err = s.dir.BlockUser(ctx, u.ID)
			rec.Reason = "blocked the GitLab user " + u.Username + " instead of deactivating: GitLab refuses to deactivate users active in the last 90 days"
		}
	default:
		err = s.dir.BlockUser(ctx, u.ID)
		rec.Reason = "blocked the GitLab user " + u.Username + ": they cannot sign in; their data is kept"
	}
	switch {
	case errclass.Of(err) == errclass.NotFound:
		rec.Result, rec.Reason = outcome.Unchanged, "the GitLab user no longer exists"
	case err != nil:
		return err
	default:
		rec.Result = outcome.Revoked
	}
	return nil
}
