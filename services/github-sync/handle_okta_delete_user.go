package githubsync

import (
	"context"
	"fmt"
	"strconv"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/syncsvc"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

const (
	actionOrgRemove  = "org_member.remove"
	actionCancel     = "invitation.cancel"
	reasonUnresolved = "no GitHub login known for this email (identity map)"
)

// oktaDeleteUser removes the deleted Okta user from every organization the
// rules name (GitHub drops their team memberships with it) and cancels
// invitations still pending for their email, unless the account is
// protected or the removal guard has tripped. A person the identity map
// does not know and who has no invitation is skipped, with the reason.
func (s *service) oktaDeleteUser(ctx context.Context, ev events.Event) error {
	p, ok := ev.Payload.(*eventsv1.OktaUserLifecycle)
	if !ok {
		return errclass.AsPermanent(fmt.Errorf("github-sync: %s carries %T", ev.Type.Name, ev.Payload))
	}
	person := syncsvc.OktaPerson(p)
	login := ""
	if person.Email != "" {
		l, found, err := s.ids.Resolve(ctx, person.Email)
		if err != nil {
			return s.d.Failed(ctx, ev, outcome.Record{Person: person, Action: "user.resolve"}, err)
		}
		if found {
			login, person.ProviderID = l, l
		}
	}
	var recs []outcome.Record
	for _, r := range s.d.Rules.For(events.OktaDeleteUser) {
		if r.Actions.GitHub == nil {
			continue
		}
		for _, o := range r.Actions.GitHub.Organizations {
			done, err := s.offboard(ctx, ev, r.ID, o.Name, person, login)
			recs = append(recs, done...)
			if err != nil {
				// What was done is recorded; the retry converges the rest.
				if len(recs) > 0 {
					_ = s.d.Outcomes.Publish(ctx, ev, recs...)
				}
				return err
			}
		}
	}
	if len(recs) == 0 {
		recs = append(recs, outcome.Record{Action: actionOrgRemove, Person: person, Result: outcome.Skipped, Reason: "no rule removes users from a GitHub organization"})
	}
	if err := s.d.Outcomes.Publish(ctx, ev, recs...); err != nil {
		return errclass.AsRetryable(err)
	}
	return nil
}

// offboard removes one person from one organization: the membership of
// their login, and the invitations pending for their email.
func (s *service) offboard(ctx context.Context, ev events.Event, ruleID, org string, person outcome.Person, login string) ([]outcome.Record, error) {
	rec := outcome.Record{RuleID: ruleID, Action: actionOrgRemove, Person: person, Target: outcome.Target{Type: KindOrg, Name: org}}
	if s.gh == nil {
		switch {
		case s.d.Guard.Protected(person.Email, person.Login, person.SourceID, login):
			rec.Result, rec.Reason = outcome.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS)"
		case login == "":
			rec.Action, rec.Result = actionCancel, outcome.Planned
			rec.Reason = "cancel invitations pending for the email (current state unknown: no GitHub credentials configured)"
		default:
			rec.Result, rec.Reason = outcome.Planned, "remove from the organization (current state unknown: no GitHub credentials configured)"
		}
		return []outcome.Record{rec}, nil
	}
	member := false
	if login != "" {
		_, found, err := s.gh.OrgMembership(ctx, org, login)
		if err != nil {
			return nil, s.d.Failed(ctx, ev, rec, err)
		}
		member = found
	}
	var invs []ghapi.Invitation
	if person.Email != "" {
		var err error
		invs, err = s.gh.Invitations(ctx, org, person.Email)
		if errclass.Of(err) == errclass.NotFound {
			rec.Result, rec.Reason = outcome.Skipped, "organization "+org+" does not exist at github"
			return []outcome.Record{rec}, nil
		}
		if err != nil {
			return nil, s.d.Failed(ctx, ev, rec, err)
		}
	}
	switch {
	case login == "" && len(invs) == 0:
		rec.Result, rec.Reason = outcome.Skipped, reasonUnresolved
		return []outcome.Record{rec}, nil
	case !member && len(invs) == 0:
		rec.Result, rec.Reason = outcome.Unchanged, "not a member of the organization"
		return []outcome.Record{rec}, nil
	}
	// One removal per person and organization for the guard.
	ok, why, err := s.d.Removal(ctx, person.Email, person.Login, person.SourceID, login)
	if err != nil {
		return nil, s.d.Failed(ctx, ev, rec, err)
	}
	var out []outcome.Record
	if login != "" {
		switch {
		case !member:
			rec.Result, rec.Reason = outcome.Unchanged, "not a member of the organization"
		case !ok:
			rec.Result, rec.Reason = outcome.Skipped, why
		case s.d.DryRun:
			rec.Result, rec.Reason = outcome.Planned, "remove from the organization and its teams"
		default:
			if err := s.gh.RemoveOrgMembership(ctx, org, login); err != nil && errclass.Of(err) != errclass.NotFound {
				return out, s.d.Failed(ctx, ev, rec, err)
			}
			rec.Result, rec.Reason = outcome.Revoked, "removed from the organization and its teams"
			if err := s.forget(ctx, org, login); err != nil {
				return out, err
			}
		}
		out = append(out, rec)
	}
	for _, inv := range invs {
		c := outcome.Record{RuleID: ruleID, Action: actionCancel, Person: person, Role: inv.Role,
			Target: outcome.Target{Type: KindOrg, ID: strconv.FormatInt(inv.ID, 10), Name: org}}
		c, err := s.cancelInvitation(ctx, ev, c, org, inv.ID, emailKey(person.Email), ok, why)
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

// cancelInvitation cancels one pending invitation of org once the guards
// have answered (ok, why from Deps.Removal), and forgets the grants user
// (the invitation's user key) held in org. Offboarding and reconciliation
// share it. An invitation already gone counts as cancelled.
func (s *service) cancelInvitation(ctx context.Context, ev events.Event, c outcome.Record, org string, id int64, user string, ok bool, why string) (outcome.Record, error) {
	switch {
	case !ok:
		c.Result, c.Reason = outcome.Skipped, why
	case s.d.DryRun:
		c.Result, c.Reason = outcome.Planned, "cancel the pending invitation"
	default:
		if err := s.gh.CancelInvitation(ctx, org, id); err != nil && errclass.Of(err) != errclass.NotFound {
			return c, s.d.Failed(ctx, ev, c, err)
		}
		c.Result, c.Reason = outcome.Revoked, "pending invitation cancelled"
		if err := s.forget(ctx, org, user); err != nil {
			return c, err
		}
	}
	return c, nil
}

// forget drops the ledger's grants of user in org: they are gone with the
// membership (or the invitation).
func (s *service) forget(ctx context.Context, org, user string) error {
	grants, err := s.d.Ledger.ForUser(ctx, Provider, user)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if kind, name := splitKey(g.Target); orgOf(kind, name) == org {
			if err := s.d.Ledger.Delete(ctx, Provider, g.Target, user); err != nil {
				return err
			}
		}
	}
	return nil
}
