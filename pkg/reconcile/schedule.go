package reconcile

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/idsync/idsync/pkg/logging"
)

// schedule runs a reconciliation every Interval until ctx ends. The first
// run waits a random part of the interval, not a fixed delay from start:
// after a deployment every replica of every consumer starts at once, and
// their first listings would all hit the providers together. Later runs
// are the interval apart, ±10 %.
//
// Every replica runs this loop; the lock lets one run at a time, and a
// replica that finds, once it holds the lock, that a scheduled run started
// less than 0.8 × Interval ago leaves it (another replica did it). So N
// replicas run one scheduled reconciliation per interval between them, and
// it still happens when the replica that did the last one is gone.
func (r *Runner) schedule(ctx context.Context) {
	every := r.c.Config.Interval
	if every <= 0 {
		return
	}
	wait := every/10 + rand.N(every-every/10)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		opts := Options{Apply: r.c.Config.Apply, RemoveUnmanaged: r.c.Config.RemoveUnmanaged}
		rep, err := r.run(ctx, runSpec{opts: opts, trigger: TriggerSchedule, skip: r.ranRecently})
		switch {
		case err == nil, errors.Is(err, errSkipped):
		case errors.Is(err, ErrBusy):
			r.c.Log.Info("scheduled reconciliation skipped: another one is running", "detail", err.Error())
		case rep.ID == "":
			// A run with a report was logged with it (finish); this one
			// failed before (the lock's bucket unreachable).
			r.c.Log.Warn("scheduled reconciliation failed", logging.Err(err))
		}
		wait = every - every/10 + rand.N(every/5+1)
	}
}

// ranRecently reports whether a scheduled run started less than 0.8 ×
// Interval ago. An unreadable state runs (one run too many is cheaper than
// a missed one).
func (r *Runner) ranRecently(ctx context.Context) bool {
	st, err := ReadState(ctx, r.c.State, r.c.Provider)
	if err != nil {
		r.c.Log.Warn("reconcile: cannot read when the last scheduled run was; running", logging.Err(err))
		return false
	}
	return !st.LastScheduled.IsZero() && r.now().Sub(st.LastScheduled) < r.c.Config.Interval*8/10
}
