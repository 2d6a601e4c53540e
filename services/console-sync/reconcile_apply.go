package consolesync

import (
	"context"
	"errors"
	"fmt"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/rules"
)

// Apply converges one item through the handlers' code (addToCompany,
// removeFromCompany: the guards, dry-run, the ledger), answering their
// company lookups from the listing the comparison read (see snapshot). Its
// outcomes name ev, the report, as their cause.
//
// Removals need no --remove-unmanaged: each is what an okta.delete.user
// rule asks for someone Okta deactivated or deleted, as the event would
// have, not a member no rule wants. Okta is read again first: someone
// reactivated since the diff stays.
//
// A rate-limited call is waited out (up to reconcile.QuotaWait, a few times) and the
// item applied again, which is safe: the current state is read first.
func (r reconciler) Apply(ctx context.Context, ev events.Event, it reconcile.Item, opts reconcile.Options) (reconcile.Item, error) {
	for attempt := 1; ; attempt++ {
		got, err := r.apply(ctx, ev, it, opts)
		if attempt == 5 || !reconcile.WaitQuota(ctx, err) {
			return got, err
		}
	}
}

func (r reconciler) apply(ctx context.Context, ev events.Event, it reconcile.Item, _ reconcile.Options) (reconcile.Item, error) {
	person := outcome.Person(it.Person)
	var dir Directory
	if r.s.dir != nil {
		dir = snapshotDir{Directory: r.s.dir, snap: r.snap}
	}
	switch it.Action {
	case actionAdd:
		rec, err := r.s.addToCompany(ctx, dir, ev, it.RuleID, rules.ConsoleCompany{ID: it.CompanyID, Role: it.Role}, person)
		return r.settle(ctx, ev, it, rec, err)
	case actionRemove:
		rec := outcome.Record{RuleID: it.RuleID, Action: actionRemove, Person: person,
			Target: outcome.Target{Type: "company", ID: it.CompanyID, Name: it.CompanyID}}
		if r.s.d.Guard.Protected(person.Email, person.Login, person.SourceID, person.ProviderID) {
			rec.Result, rec.Reason = outcome.Skipped, "protected account (IDSYNC_PROTECTED_ACCOUNTS): never removed"
			return r.settle(ctx, ev, it, rec, nil)
		}
		if r.okta != nil {
			p, found, err := r.okta.User(ctx, person.Login)
			if err != nil {
				return r.settle(ctx, ev, it, rec, r.s.d.Failed(ctx, ev, rec, err))
			}
			if found && p.Status != okta.StatusDeprovisioned {
				rec.Result, rec.Reason = outcome.Skipped, fmt.Sprintf("%s in Okta again since the reconciliation read it: left in the company", p.Status)
				return r.settle(ctx, ev, it, rec, nil)
			}
		}
		rec, err := r.s.removeFromCompany(ctx, dir, ev, it.RuleID, it.CompanyID, person)
		return r.settle(ctx, ev, it, rec, err)
	}
	it.Result, it.Detail = reconcile.Failed, fmt.Sprintf("console-sync does not apply %q items", it.Action)
	return it, nil
}

// settle publishes what applying the item decided and sets its result.
// err comes through Deps.Failed (a permanent one is recorded as a failed
// outcome there). An error that should stop the run (the removal guard
// paused, a rate limit, the run cancelled) is returned; any other refusal
// is the item's failure, recorded as a failed outcome.
func (r reconciler) settle(ctx context.Context, ev events.Event, it reconcile.Item, rec outcome.Record, err error) (reconcile.Item, error) {
	if err != nil {
		it.Result, it.Detail = reconcile.Failed, err.Error()
		switch {
		case errors.Is(err, guard.ErrPaused):
			it.Result, it.Detail = reconcile.Paused, "the removal guard paused "+r.s.d.Name+" (idsync guard resume --consumer "+r.s.d.Name+")"
			return it, err
		case errclass.Of(err) == errclass.RateLimited || ctx.Err() != nil:
			return it, err
		case errclass.Of(err) == errclass.Permanent:
			return it, nil // recorded by Deps.Failed
		}
		rec.Result, rec.Reason, rec.ErrorClass = outcome.Failed, err.Error(), errclass.Of(err).String()
	}
	if err := r.s.d.Outcomes.Publish(ctx, ev, rec); err != nil {
		return it, err
	}
	if it.Result != reconcile.Failed {
		it.Result, it.Detail = reconcile.ResultOf(rec.Result), rec.Reason
	}
	return it, nil
}
