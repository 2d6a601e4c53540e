package githubsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/rules"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// reasonUnmanaged is why a member added by hand is left in place.
const reasonUnmanaged = "added outside idsync: removed only with IDSYNC_RECONCILE_REMOVE_UNMANAGED=true or idsync reconcile --apply --remove-unmanaged"

// Apply implements reconcile.Reconciler. Each item goes through the code
// the events use — the planner's Applier over github-sync's memberships
// (and invitations by email) for grants, role changes and the removal of
// a membership, offboarding for someone Okta deprovisioned or deleted,
// the invitation cancel of offboarding for an invitation — with their
// guards, dry-run, ledger and outcomes, re-reading GitHub before writing.
func (r *reconciler) Apply(ctx context.Context, ev events.Event, it reconcile.Item, opts reconcile.Options) (reconcile.Item, error) {
	person := outcome.Person{SourceID: it.Person.SourceID, Email: it.Person.Email, Login: it.Person.Login, ProviderID: it.Person.ProviderID}
	var recs []outcome.Record
	var err error
	switch {
	case it.Provider != Provider:
		it.Result, it.Detail = reconcile.Failed, "not a "+Provider+" item"
		return it, nil
	case it.Op == reconcile.OpAdd || it.Op == reconcile.OpChange:
		recs, err = r.grant(ctx, ev, it, person)
	case r.s.d.Guard.Protected(it.Person.Email, it.Person.Login, it.Person.SourceID, it.Person.ProviderID):
		recs = []outcome.Record{r.record(it, person, outcome.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS): never removed")}
	case !it.Managed && !opts.RemoveUnmanaged && !r.offboards(it.RuleID):
		recs = []outcome.Record{r.record(it, person, outcome.Skipped, reasonUnmanaged)}
	case it.Action == actionCancel:
		recs, err = r.cancel(ctx, ev, it, person)
	case r.offboards(it.RuleID):
		recs, err = r.s.offboard(ctx, ev, it.RuleID, it.Target.Name, person, it.Person.ProviderID)
	default:
		recs, err = r.revoke(ctx, ev, it, person)
	}
	return r.settle(ctx, ev, it, person, recs, err)
}

// grant adds or changes a membership (or the invitation by email) through
// the Applier, as a console.update.user.permission event would.
func (r *reconciler) grant(ctx context.Context, ev events.Event, it reconcile.Item, person outcome.Person) ([]outcome.Record, error) {
	t := plan.Target{Key: it.Target.Key, Kind: it.Target.Type, Name: it.Target.Name, Role: it.Role, RuleID: it.RuleID,
		Context: rules.Context{CompanyID: it.CompanyID, ProjectID: it.ProjectID, EnvironmentID: it.EnvironmentID}}
	user := it.Person.ProviderID
	m := &memberships{s: r.s}
	m.bind(user, r.invitePlan(user, t))
	a := &plan.Applier{D: r.s.d, Provider: r.s.prov, M: m}
	return a.Apply(ctx, ev, plan.Plan{Grant: []plan.Target{t}}, user, person)
}

// invitePlan is what an invitation by email must carry: every target the
// last Diff wanted for the person, and t.
func (r *reconciler) invitePlan(user string, t plan.Target) func(context.Context) (plan.Plan, error) {
	return func(context.Context) (plan.Plan, error) {
		r.mu.Lock()
		ts := slices.Clone(r.invites[user])
		r.mu.Unlock()
		if !slices.ContainsFunc(ts, func(o plan.Target) bool { return o.Key == t.Key }) {
			ts = append(ts, t)
		}
		return plan.Plan{Grant: ts}, nil
	}
}

// revoke removes a membership no rule wants through the Applier, as a
// console.update.user.permission event would revoke a managed grant: it
// re-reads the membership, leaves a role above the one granted alone, asks
// the removal guard and forgets the grant. A member added by hand (with
// --remove-unmanaged) is removed at the role they hold.
func (r *reconciler) revoke(ctx context.Context, ev events.Event, it reconcile.Item, person outcome.Person) ([]outcome.Record, error) {
	user := it.Person.ProviderID
	g, managed, err := r.s.d.Ledger.Get(ctx, Provider, it.Target.Key, user)
	if err != nil {
		return nil, err
	}
	if !managed {
		g = ledger.Grant{Provider: Provider, Target: it.Target.Key, User: user, Role: it.Current, RuleID: it.RuleID,
			CompanyID: it.CompanyID, ProjectID: it.ProjectID, EnvironmentID: it.EnvironmentID}
	}
	a := &plan.Applier{D: r.s.d, Provider: r.s.prov, M: &memberships{s: r.s}}
	return a.Apply(ctx, ev, plan.Plan{Revoke: []ledger.Grant{g}, Unmet: map[string]string{g.Target: it.Reason}}, user, person)
}

// cancel cancels a pending invitation with offboarding's code, after the
// removal guard.
func (r *reconciler) cancel(ctx context.Context, ev events.Event, it reconcile.Item, person outcome.Person) ([]outcome.Record, error) {
	id, err := strconv.ParseInt(it.Target.ID, 10, 64)
	if err != nil {
		return nil, errclass.AsPermanent(fmt.Errorf("github-sync: invitation id %q: %w", it.Target.ID, err))
	}
	rec := r.record(it, person, 0, "")
	ok, why, err := r.s.d.Removal(ctx, it.Person.Email, it.Person.Login, it.Person.SourceID, it.Person.ProviderID)
	if err != nil {
		return nil, r.s.d.Failed(ctx, ev, rec, err)
	}
	rec, err = r.s.cancelInvitation(ctx, ev, rec, it.Target.Name, id, it.Person.ProviderID, ok, why)
	if err != nil {
		return nil, err
	}
	return []outcome.Record{rec}, nil
}

// offboards reports whether ruleID is an okta.delete.user rule: its
// removals are offboarding, done whether idsync granted the membership
// or not, as the event would.
func (r *reconciler) offboards(ruleID string) bool {
	for _, rl := range r.s.d.Rules.For(events.OktaDeleteUser) {
		if rl.ID == ruleID && rl.Actions.GitHub != nil {
			return true
		}
	}
	return false
}

// record is the outcome of an item decided without calling GitHub.
func (r *reconciler) record(it reconcile.Item, person outcome.Person, res eventsv1.OutcomeResult, reason string) outcome.Record {
	typ := it.Target.Type
	if typ == "invitation" {
		typ = KindOrg // as offboarding records an invitation
	}
	return outcome.Record{RuleID: it.RuleID, Action: it.Action, Result: res, Person: person, Role: it.Current,
		Target: outcome.Target{Type: typ, ID: it.Target.ID, Name: it.Target.Name}, Reason: reason}
}

// settle publishes the outcomes and sets the item's result from the first
// record (the item's own; offboarding adds the invitations it cancelled).
// A paused guard, a rate limit and a lost context stop the run; any other
// failure is the item's, recorded as a failed outcome, and the run goes on.
func (r *reconciler) settle(ctx context.Context, ev events.Event, it reconcile.Item, person outcome.Person, recs []outcome.Record, err error) (reconcile.Item, error) {
	if len(recs) > 0 {
		it.Result, it.Detail = reconcile.ResultOf(recs[0].Result), recs[0].Reason
		if perr := r.s.d.Outcomes.Publish(ctx, ev, recs...); perr != nil && err == nil {
			return it, perr
		}
	}
	switch {
	case err == nil:
		return it, nil
	case errors.Is(err, guard.ErrPaused):
		it.Result, it.Detail = reconcile.Paused, "the removal guard paused "+r.s.d.Name+": idsync guard resume"
		return it, err
	case errclass.Of(err) == errclass.RateLimited, ctx.Err() != nil:
		it.Result, it.Detail = reconcile.Failed, err.Error()
		return it, err
	}
	it.Result, it.Detail = reconcile.Failed, err.Error()
	if errclass.Of(err) != errclass.Permanent {
		// Deps.Failed records permanent failures; the others were left to
		// a redelivery on the event path, which a report does not have.
		rec := r.record(it, person, outcome.Failed, err.Error())
		rec.ErrorClass = errclass.Of(err).String()
		if perr := r.s.d.Outcomes.Publish(ctx, ev, rec); perr != nil {
			return it, perr
		}
	}
	return it, nil
}
