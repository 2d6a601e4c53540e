package syncsvc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/syncsvc"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// grantReconciler finds one missing membership and grants it through the
// consumer's outcome publisher, as a provider's reconciler does.
type grantReconciler struct{ d *syncsvc.Deps }

func (g grantReconciler) Diff(context.Context) ([]reconcile.Item, reconcile.Stats, error) {
	return []reconcile.Item{{
		Provider: events.ProviderGitLab, Op: reconcile.OpAdd, Action: "group_member.add",
		Target: reconcile.Target{Type: "group", Name: "acme/dev"}, Person: reconcile.Person{SourceID: "00ua", Email: "a@example.com"},
		Role: "developer", RuleID: "devs", Reason: "not a member",
	}}, reconcile.Stats{People: 1, Targets: 1}, nil
}

func (g grantReconciler) Apply(ctx context.Context, ev events.Event, it reconcile.Item, _ reconcile.Options) (reconcile.Item, error) {
	rec := outcome.Record{RuleID: it.RuleID, Action: it.Action, Result: outcome.Granted, Target: outcome.Target{Type: it.Target.Type, Name: it.Target.Name},
		Person: outcome.Person{SourceID: it.Person.SourceID, Email: it.Person.Email}, Role: it.Role, Reason: "reconciliation"}
	if g.d.DryRun {
		rec.Result, it.Result = outcome.Planned, reconcile.Planned
	} else {
		it.Result = reconcile.Applied
	}
	return it, g.d.Outcomes.Publish(ctx, ev, rec)
}

func gitlabSpec(withReconciler bool) syncsvc.Spec {
	return syncsvc.Spec{Name: "gitlab-sync", Provider: events.ProviderGitLab, Configured: true,
		Build: func(d *syncsvc.Deps) (map[string]bus.Handler, error) {
			if withReconciler {
				d.Reconciler = grantReconciler{d}
			}
			hs := map[string]bus.Handler{}
			for _, ty := range events.Default().SyncTypesFor(events.ProviderGitLab) {
				hs[ty.Name] = func(context.Context, events.Event) error { return nil }
			}
			return hs, nil
		}}
}

// Start runs the reconciliation a service's Build registers beside its
// consumer: its endpoint answers, its outcomes name the report, and the
// configuration reaches the reconciler.
func TestStartRunsTheReconciler(t *testing.T) {
	t.Parallel()
	h := synctest.Start(t, gitlabSpec(true), synctest.Options{Reconcile: reconcile.Config{Companies: []string{"acme"}}})
	if got := h.Deps.Reconcile.Companies; len(got) != 1 || got[0] != "acme" {
		t.Errorf("Deps.Reconcile %+v", h.Deps.Reconcile)
	}
	var rep reconcile.Report
	synctest.Eventually(t, "the reconciliation endpoint", 20*time.Second, func() bool {
		var err error
		rep, err = h.Reconcile(reconcile.Request{Apply: true})
		if err != nil && !errors.Is(err, reconcile.ErrNoResponders) {
			t.Fatal(err)
		}
		return err == nil
	})
	if rep.Consumer != "gitlab-sync" || rep.Remaining != 0 || rep.Counts.Applied != 1 {
		t.Fatalf("report %+v", rep)
	}
	synctest.Eventually(t, "the outcome of the apply", 10*time.Second, func() bool { return len(h.Outcomes()) == 1 })
	o := h.Outcomes()[0]
	if o.GetEventId() != rep.ID || o.GetEventType() != events.ReconcileReport || o.GetAction() != "group_member.add" {
		t.Errorf("outcome %+v, want one caused by report %s", o, rep.ID)
	}
	if reports := h.Reports(); len(reports) != 1 || reports[0].ID != rep.ID {
		t.Errorf("report events %+v", reports)
	}
}

// Without a reconciler nothing answers: idsync reconcile says which
// consumer does not run it.
func TestStartWithoutReconciler(t *testing.T) {
	t.Parallel()
	h := synctest.Start(t, gitlabSpec(false), synctest.Options{})
	if _, err := h.Reconcile(reconcile.Request{}); !errors.Is(err, reconcile.ErrNoResponders) {
		t.Fatalf("%v, want ErrNoResponders", err)
	}
}
