package oktasync

import (
	"context"
	"errors"
	"fmt"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/rules"
)

// Apply converges one item through the handlers' code path: memberships
// through plan.Applier (current state re-read, the removal guard, dry-run,
// the ledger), group creation as console.create.project does it. Its
// outcomes name ev, the report, as their cause.
//
// A spent Okta quota is waited out (up to reconcile.QuotaWait, a few times) and the
// item applied again: a reconciliation converging a large drift meets the
// quota by design, and stopping there would leave the rest for the next
// run. Applying again is safe: the current state is read first.
func (r reconciler) Apply(ctx context.Context, ev events.Event, it reconcile.Item, opts reconcile.Options) (reconcile.Item, error) {
	for attempt := 1; ; attempt++ {
		got, err := r.apply(ctx, ev, it, opts)
		if attempt == 5 || !reconcile.WaitQuota(ctx, err) {
			return got, err
		}
	}
}

func (r reconciler) apply(ctx context.Context, ev events.Event, it reconcile.Item, opts reconcile.Options) (reconcile.Item, error) {
	if r.s.dir == nil {
		it.Result, it.Detail = reconcile.Skipped, "Okta is not configured (IDSYNC_OKTA_ORG_URL, IDSYNC_OKTA_API_TOKEN)"
		return it, nil
	}
	switch it.Action {
	case actionCreateGroup:
		return r.createGroup(ctx, ev, it)
	case "group_member.add":
		return r.add(ctx, ev, it)
	case "group_member.remove":
		return r.remove(ctx, ev, it, opts)
	}
	it.Result, it.Detail = reconcile.Failed, fmt.Sprintf("okta-sync does not apply %q items", it.Action)
	return it, nil
}

func (r reconciler) createGroup(ctx context.Context, ev events.Event, it reconcile.Item) (reconcile.Item, error) {
	rec := outcome.Record{RuleID: it.RuleID, Action: actionCreateGroup, Target: outcome.Target{Type: "group", Name: it.Target.Name}}
	id, found, err := r.s.dir.GroupID(ctx, it.Target.Name)
	switch {
	case err != nil:
		return r.settle(ctx, ev, it, rec, nil, r.s.d.Failed(ctx, ev, rec, err))
	case found:
		rec.Target.ID, rec.Result, rec.Reason = id, outcome.Unchanged, "the group exists"
	case r.s.d.DryRun:
		rec.Result, rec.Reason = outcome.Planned, "create the group"
	default:
		id, err := r.s.dir.CreateGroup(ctx, it.Target.Name, fmt.Sprintf("Console project %s of company %s, managed by idsync", it.ProjectID, it.CompanyID))
		if err != nil {
			return r.settle(ctx, ev, it, rec, nil, r.s.d.Failed(ctx, ev, rec, err))
		}
		rec.Target.ID, rec.Result, rec.Reason = id, outcome.Granted, "group created"
	}
	return r.settle(ctx, ev, it, rec, []outcome.Record{rec}, nil)
}

func (r reconciler) add(ctx context.Context, ev events.Event, it reconcile.Item) (reconcile.Item, error) {
	person := outcome.Person(it.Person)
	rec := outcome.Record{RuleID: it.RuleID, Action: it.Action, Person: person, Target: outcome.Target{Type: "group", ID: it.Target.ID, Name: it.Target.Name}}
	user := it.Person.ProviderID
	if user == "" {
		// An item from elsewhere (a report read back) may lack the Okta
		// id: resolve it as the handler does.
		id, found, reason, err := r.s.resolve(ctx, person)
		if err != nil {
			return r.settle(ctx, ev, it, rec, nil, r.s.d.Failed(ctx, ev, rec, err))
		}
		if !found {
			rec.Result, rec.Reason = outcome.Skipped, reason
			return r.settle(ctx, ev, it, rec, []outcome.Record{rec}, nil)
		}
		user, person.ProviderID = id, id
	}
	t := plan.Target{Key: it.Target.Key, Kind: "group", Name: it.Target.Name, Role: memberRole, RuleID: it.RuleID,
		Context: rules.Context{CompanyID: it.CompanyID, ProjectID: it.ProjectID, EnvironmentID: it.EnvironmentID}}
	recs, err := r.s.applier.Apply(ctx, ev, plan.Plan{Grant: []plan.Target{t}, Verified: true}, user, person)
	return r.settle(ctx, ev, it, rec, recs, err)
}

func (r reconciler) remove(ctx context.Context, ev events.Event, it reconcile.Item, opts reconcile.Options) (reconcile.Item, error) {
	d := r.s.d
	person := outcome.Person(it.Person)
	user := it.Person.ProviderID
	rec := outcome.Record{RuleID: it.RuleID, Action: it.Action, Person: person, Target: outcome.Target{Type: "group", ID: it.Target.ID, Name: it.Target.Name}}
	if d.Guard.Protected(person.Email, person.Login, person.SourceID, user) {
		rec.Result, rec.Reason = outcome.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS): never removed"
		return r.settle(ctx, ev, it, rec, []outcome.Record{rec}, nil)
	}
	g, managed, err := d.Ledger.Get(ctx, Provider, it.Target.Key, user)
	if err != nil {
		return r.settle(ctx, ev, it, rec, nil, d.Failed(ctx, ev, rec, err))
	}
	if !managed {
		if !opts.RemoveUnmanaged {
			rec.Result, rec.Reason = outcome.Skipped, "a member idsync did not add: removed only with IDSYNC_RECONCILE_REMOVE_UNMANAGED=true or idsync reconcile --remove-unmanaged"
			return r.settle(ctx, ev, it, rec, []outcome.Record{rec}, nil)
		}
		g = ledger.Grant{Provider: Provider, Target: it.Target.Key, User: user, Role: memberRole, RuleID: it.RuleID,
			CompanyID: it.CompanyID, ProjectID: it.ProjectID, EnvironmentID: it.EnvironmentID}
	}
	p := plan.Plan{Revoke: []ledger.Grant{g}, Unmet: map[string]string{it.Target.Key: it.Reason}, Verified: true}
	recs, err := r.s.applier.Apply(ctx, ev, p, user, person)
	return r.settle(ctx, ev, it, rec, recs, err)
}

// settle publishes what applying the item decided and sets its result.
// err comes through Deps.Failed (a permanent one is recorded as a failed
// outcome there). An error that should stop the run (the removal guard
// paused, Okta's quota spent, the run cancelled) is returned; any other
// refusal is the item's failure, recorded as a failed outcome.
func (r reconciler) settle(ctx context.Context, ev events.Event, it reconcile.Item, rec outcome.Record, recs []outcome.Record, err error) (reconcile.Item, error) {
	d := r.s.d
	if err != nil {
		it.Result, it.Detail = reconcile.Failed, err.Error()
		switch {
		case errors.Is(err, guard.ErrPaused):
			it.Result, it.Detail = reconcile.Paused, "the removal guard paused "+d.Name+" (idsync guard resume --consumer "+d.Name+")"
		case errclass.Of(err) == errclass.RateLimited || ctx.Err() != nil:
		default:
			if errclass.Of(err) != errclass.Permanent {
				rec.Result, rec.Reason, rec.ErrorClass = outcome.Failed, err.Error(), errclass.Of(err).String()
				recs = append(recs, rec)
			}
			err = nil
		}
	}
	if len(recs) > 0 {
		if perr := d.Outcomes.Publish(ctx, ev, recs...); perr != nil && err == nil {
			return it, perr
		}
		if err == nil && it.Result != reconcile.Failed {
			last := recs[len(recs)-1]
			it.Result, it.Detail = reconcile.ResultOf(last.Result), last.Reason
		}
	}
	return it, err
}
