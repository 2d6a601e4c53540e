package gitlabsync

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

// Apply converges one item through the code the events use: group
// memberships through plan.Applier (the grant rules, the ledger, the
// guards), users through the okta.create.user and okta.delete.user
// handlers' code. Its outcomes name ev, the report event, as their cause.
func (r reconciler) Apply(ctx context.Context, ev events.Event, it reconcile.Item, opts reconcile.Options) (reconcile.Item, error) {
	if r.s.dir == nil {
		it.Result, it.Detail = reconcile.Skipped, "GitLab is not configured (IDSYNC_GITLAB_URL, IDSYNC_GITLAB_TOKEN)"
		return it, nil
	}
	switch it.Action {
	case actionMemberAdd, actionMemberUpdate:
		return r.applyGrant(ctx, ev, it)
	case actionMemberRemove:
		return r.applyRemove(ctx, ev, it, opts)
	case actionCreate, actionUnblock:
		return r.applyUser(ctx, ev, it)
	case offboardActions[offboardBlock], offboardActions[offboardDeactivate], offboardActions[offboardDelete]:
		return r.applyOffboard(ctx, ev, it)
	}
	it.Result, it.Detail = reconcile.Failed, fmt.Sprintf("gitlab-sync does not apply %q", it.Action)
	return it, nil
}

// applyGrant adds the member or changes their role, as an event would.
func (r reconciler) applyGrant(ctx context.Context, ev events.Event, it reconcile.Item) (reconcile.Item, error) {
	t := plan.Target{Key: it.Target.Key, Kind: kindGroup, Name: it.Target.Name, Role: it.Role, RuleID: it.RuleID,
		Context: rules.Context{CompanyID: it.CompanyID, ProjectID: it.ProjectID, EnvironmentID: it.EnvironmentID}}
	recs, err := r.s.applier().Apply(ctx, ev, plan.Plan{Grant: []plan.Target{t}}, it.Person.ProviderID, it.Person.Outcome())
	return r.settle(ctx, ev, it, recs, err)
}

// applyRemove removes a member no rule wants: through plan.Applier when
// idsync granted the membership (never above the role it granted), else
// only with opts.RemoveUnmanaged. A group's last direct Owner stays.
func (r reconciler) applyRemove(ctx context.Context, ev events.Event, it reconcile.Item, opts reconcile.Options) (reconcile.Item, error) {
	uid, err := userID(it.Person.ProviderID)
	if err != nil {
		it.Result, it.Detail = reconcile.Failed, err.Error()
		return it, nil
	}
	person := it.Person.Outcome()
	rec := outcome.Record{RuleID: it.RuleID, Action: actionMemberRemove, Person: person, Role: it.Current,
		Target: outcome.Target{Type: kindGroup, Name: it.Target.Name}}
	g, managed, err := r.s.d.Ledger.Get(ctx, Provider, it.Target.Key, it.Person.ProviderID)
	if err != nil {
		return it, err
	}
	if !managed && !opts.RemoveUnmanaged {
		it.Result = reconcile.Skipped
		it.Detail = "added outside idsync: removed only with IDSYNC_RECONCILE_REMOVE_UNMANAGED=true (idsync reconcile --remove-unmanaged)"
		return it, nil
	}
	level, member, err := r.s.dir.MemberLevel(ctx, it.Target.Name, uid)
	if err != nil {
		return r.fail(ctx, ev, it, rec, err)
	}
	if member && level >= ownerLevel {
		last, err := r.lastOwner(ctx, it.Target.Name)
		if err != nil {
			return r.fail(ctx, ev, it, rec, err)
		}
		if last {
			rec.Result, rec.Reason = outcome.Skipped, "the group's only direct Owner: never removed"
			return r.settle(ctx, ev, it, []outcome.Record{rec}, nil)
		}
	}
	if managed {
		it.Managed = true
		p := plan.Plan{Revoke: []ledger.Grant{g}, Unmet: map[string]string{g.Target: it.Reason}}
		recs, err := r.s.applier().Apply(ctx, ev, p, it.Person.ProviderID, person)
		return r.settle(ctx, ev, it, recs, err)
	}
	if !member {
		rec.Result, rec.Reason = outcome.Unchanged, "not a member any more"
		return r.settle(ctx, ev, it, []outcome.Record{rec}, nil)
	}
	ok, why, err := r.s.d.Removal(ctx, person.Email, person.Login, person.SourceID, it.Person.ProviderID)
	switch {
	case err != nil:
		return r.fail(ctx, ev, it, rec, err)
	case !ok:
		rec.Result, rec.Reason = outcome.Skipped, why
	case r.s.d.DryRun:
		rec.Result, rec.Reason = outcome.Planned, "remove a member added outside idsync that no rule wants"
	default:
		err := r.s.dir.RemoveMember(ctx, it.Target.Name, uid)
		switch {
		case errclass.Of(err) == errclass.NotFound:
			rec.Result, rec.Reason = outcome.Unchanged, "not a member any more"
		case err != nil:
			return r.fail(ctx, ev, it, rec, err)
		default:
			rec.Result, rec.Reason = outcome.Revoked, "removed a member added outside idsync that no rule wants"
		}
	}
	return r.settle(ctx, ev, it, []outcome.Record{rec}, nil)
}

// lastOwner reports whether the group has at most one direct Owner.
func (r reconciler) lastOwner(ctx context.Context, path string) (bool, error) {
	members, _, err := r.s.dir.Members(ctx, path)
	if err != nil {
		return false, err
	}
	owners := 0
	for _, m := range members {
		if m.Level >= ownerLevel {
			owners++
		}
	}
	return owners <= 1, nil
}

// applyUser creates or unblocks the user through the okta.create.user rule.
func (r reconciler) applyUser(ctx context.Context, ev events.Event, it reconcile.Item) (reconcile.Item, error) {
	rule := findRule(r.s.d.Rules.For(events.OktaCreateUser), it.RuleID)
	if rule == nil || rule.Actions.GitLab == nil || rule.Actions.GitLab.User == nil {
		it.Result, it.Detail = reconcile.Skipped, "rule "+it.RuleID+" no longer creates GitLab users"
		return it, nil
	}
	rec, err := r.s.ensureUser(ctx, rule.ID, rule.Actions.GitLab.User, it.Person.Outcome(), it.Person.Login)
	if err != nil {
		return r.settle(ctx, ev, it, nil, r.s.publishAndFail(ctx, ev, nil, rec, err))
	}
	return r.settle(ctx, ev, it, []outcome.Record{rec}, nil)
}

// applyOffboard offboards the user through the okta.delete.user rule:
// managed memberships removed, then blocked, deactivated or deleted.
func (r reconciler) applyOffboard(ctx context.Context, ev events.Event, it reconcile.Item) (reconcile.Item, error) {
	rule := findRule(r.s.d.Rules.For(events.OktaDeleteUser), it.RuleID)
	if rule == nil || rule.Actions.GitLab == nil {
		it.Result, it.Detail = reconcile.Skipped, "rule "+it.RuleID+" no longer offboards GitLab users"
		return it, nil
	}
	recs, err := r.s.offboard(ctx, ev, rule.ID, offboardMode(rule), it.Person.Outcome(), nil)
	if err != nil {
		// offboard has published what it did and the failure.
		return r.settle(ctx, ev, it, nil, err)
	}
	return r.settle(ctx, ev, it, recs, nil)
}

// fail settles an error met while acting: a permanent one is recorded as
// a failed outcome (as on the event path).
func (r reconciler) fail(ctx context.Context, ev events.Event, it reconcile.Item, rec outcome.Record, err error) (reconcile.Item, error) {
	return r.settle(ctx, ev, it, nil, r.s.d.Failed(ctx, ev, rec, err))
}

// settle publishes the outcomes and sets the item's result from the last
// (the item's own; those before are memberships an offboarding removed).
// The removal guard's pause and a lost bus stop the run; a provider
// refusing the item fails the item only.
func (r reconciler) settle(ctx context.Context, ev events.Event, it reconcile.Item, recs []outcome.Record, err error) (reconcile.Item, error) {
	switch {
	case errors.Is(err, guard.ErrPaused):
		it.Result, it.Detail = reconcile.Paused, "the removal guard paused gitlab-sync (idsync guard resume --consumer "+Name+")"
		return it, err
	case ctx.Err() != nil:
		it.Result, it.Detail = reconcile.Failed, ctx.Err().Error()
		return it, ctx.Err()
	case err != nil:
		it.Result, it.Detail = reconcile.Failed, err.Error()
		return it, nil
	}
	if len(recs) == 0 {
		it.Result = reconcile.AlreadyConverged
		return it, nil
	}
	if err := r.s.d.Outcomes.Publish(ctx, ev, recs...); err != nil {
		it.Result, it.Detail = reconcile.Failed, err.Error()
		return it, err
	}
	last := recs[len(recs)-1]
	it.Result, it.Detail = reconcile.ResultOf(last.Result), last.Reason
	return it, nil
}

func findRule(rs []*rules.Rule, id string) *rules.Rule {
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	return nil
}
