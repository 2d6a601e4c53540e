package consolesync

import (
	"context"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/rules"
)

// The company membership decisions, shared by the event handlers and
// reconciliation so that a reconciliation can do nothing an event could not.

// companyKey is the ledger's target of a company membership.
func companyKey(companyID string) string { return plan.Key("company", companyID) }

// addToCompany adds person (by email) to company c with its role. A user
// already in the company is left as is; a user the Console does not know
// yet is a skipped outcome, not a retry. A membership idsync makes is
// recorded in the ledger (keyed by email: the Console answers an addition
// without the user's id). The error is the one to settle the message with.
//
// dir is s.dir, or for a reconciliation s.dir answering FindUser from the
// company listing its comparison just read.
func (s *service) addToCompany(ctx context.Context, dir Directory, ev events.Event, ruleID string, c rules.ConsoleCompany, person outcome.Person) (outcome.Record, error) {
	rec := outcome.Record{RuleID: ruleID, Action: actionAdd, Person: person, Role: c.Role,
		Target: outcome.Target{Type: "company", ID: c.ID, Name: c.ID}}
	switch {
	case person.Email == "":
		rec.Result, rec.Reason = outcome.Skipped, "the Okta login is not an email address; the Console adds users by email"
		return rec, nil
	case dir == nil:
		rec.Result, rec.Reason = outcome.Planned, "add to the company as "+c.Role+" (current state unknown: the Console API is not configured)"
		return rec, nil
	}
	u, found, err := dir.FindUser(ctx, c.ID, "", person.Email)
	if err != nil {
		return rec, s.d.Failed(ctx, ev, rec, err)
	}
	rec.Person.ProviderID = u.UserID
	switch {
	case found:
		rec.Result, rec.Reason = outcome.Unchanged, "already a member of the company"
	case s.d.DryRun:
		rec.Result, rec.Reason = outcome.Planned, "add to the company as "+c.Role
	default:
		err := dir.AddUser(ctx, c.ID, person.Email, c.Role)
		switch {
		case err == nil:
			rec.Result, rec.Reason = outcome.Granted, "added to the company as "+c.Role
			g := ledger.Grant{Provider: Provider, Target: companyKey(c.ID), User: person.Email, Role: c.Role, RuleID: ruleID, CompanyID: c.ID}
			if err := s.d.Ledger.Put(ctx, g); err != nil {
				return rec, err
			}
		case errclass.Of(err) == errclass.NotFound:
			rec.Result = outcome.Skipped
			rec.Reason = "the Console has no user with this email yet (the user must exist in the Console, e.g. after a first sign-in or the IdP user sync)"
		default:
			return rec, s.d.Failed(ctx, ev, rec, err)
		}
	}
	return rec, nil
}

// removeFromCompany removes person (by email) from the company, group
// memberships included, unless the account is protected or the removal
// guard has tripped (guard.ErrPaused is returned for the message to wait).
func (s *service) removeFromCompany(ctx context.Context, dir Directory, ev events.Event, ruleID, companyID string, person outcome.Person) (outcome.Record, error) {
	rec := outcome.Record{RuleID: ruleID, Action: actionRemove, Person: person,
		Target: outcome.Target{Type: "company", ID: companyID, Name: companyID}}
	if dir == nil {
		rec.Result, rec.Reason = outcome.Planned, "remove from the company (current state unknown: the Console API is not configured)"
		if s.d.Guard.Protected(person.Email, person.Login, person.SourceID) {
			rec.Result, rec.Reason = outcome.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS)"
		}
		return rec, nil
	}
	u, found, err := dir.FindUser(ctx, companyID, "", person.Email)
	if err != nil {
		return rec, s.d.Failed(ctx, ev, rec, err)
	}
	if !found {
		rec.Result, rec.Reason = outcome.Unchanged, "not a member of the company"
		return rec, s.forget(ctx, companyID, person)
	}
	rec.Person.ProviderID = u.UserID
	ok, reason, err := s.d.Removal(ctx, person.Email, person.Login, person.SourceID, u.UserID)
	if err != nil {
		return rec, s.d.Failed(ctx, ev, rec, err)
	}
	switch {
	case !ok:
		rec.Result, rec.Reason = outcome.Skipped, reason
	case s.d.DryRun:
		rec.Result, rec.Reason = outcome.Planned, "remove from the company and its groups"
	default:
		err := dir.RemoveUser(ctx, companyID, u.UserID)
		switch {
		case err == nil:
			rec.Result, rec.Reason = outcome.Revoked, "removed from the company and its groups"
		case errclass.Of(err) == errclass.NotFound:
			rec.Result, rec.Reason = outcome.Unchanged, "not a member of the company"
		default:
			return rec, s.d.Failed(ctx, ev, rec, err)
		}
		return rec, s.forget(ctx, companyID, person)
	}
	return rec, nil
}

// forget drops the ledger's record of a membership that is gone.
func (s *service) forget(ctx context.Context, companyID string, person outcome.Person) error {
	if s.d.DryRun || person.Email == "" {
		return nil
	}
	return s.d.Ledger.Delete(ctx, Provider, companyKey(companyID), person.Email)
}
