package reconcile_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/lock"
	"github.com/idsync/idsync/pkg/reconcile"
)

// results lists the items' results in order.
func results(items []reconcile.Item) []reconcile.Result {
	out := make([]reconcile.Result, len(items))
	for i, it := range items {
		out[i] = it.Result
	}
	return out
}

func TestRun(t *testing.T) {
	t.Parallel()
	drift := []reconcile.Item{item(reconcile.OpAdd, 1), item(reconcile.OpChange, 2), item(reconcile.OpRemove, 3)}
	stats := reconcile.Stats{People: 3, Targets: 1, Calls: map[string]int64{"gitlab": 4, "console": 2}, Notes: []string{"group acme/ops does not exist"}}
	planned := func(_ context.Context, it reconcile.Item) (reconcile.Item, error) {
		it.Result = reconcile.Planned
		return it, nil
	}
	for _, tc := range []struct {
		name        string
		opts        reconcile.Options
		dryRun      bool
		apply       func(context.Context, reconcile.Item) (reconcile.Item, error)
		want        []reconcile.Result
		wantApplied int
		remaining   int
	}{
		{"report only", reconcile.Options{}, false, nil,
			[]reconcile.Result{reconcile.Pending, reconcile.Pending, reconcile.Pending}, 0, 3},
		{"apply", reconcile.Options{Apply: true}, false, nil,
			[]reconcile.Result{reconcile.Applied, reconcile.Applied, reconcile.Applied}, 3, 0},
		{"apply in dry-run plans", reconcile.Options{Apply: true, RemoveUnmanaged: true}, true, planned,
			[]reconcile.Result{reconcile.Planned, reconcile.Planned, reconcile.Planned}, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBed(t, 0)
			f := &fake{items: drift, stats: stats, apply: tc.apply}
			r, reg := b.runner(f, func(c *reconcile.RunnerConfig) { c.DryRun = tc.dryRun })
			rep, err := r.Run(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := results(rep.Items); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("results %v, want %v", got, tc.want)
			}
			if len(f.calls()) != tc.wantApplied {
				t.Errorf("Apply called %d times, want %d", len(f.calls()), tc.wantApplied)
			}
			for i, ev := range f.evs {
				if ev.ID != rep.ID || ev.Type.Name != events.ReconcileReport {
					t.Errorf("Apply %d got event %s of %s, want the report %s", i, ev.ID, ev.Type.Name, rep.ID)
				}
				if f.opts[i] != tc.opts {
					t.Errorf("Apply %d got options %+v, want %+v", i, f.opts[i], tc.opts)
				}
			}
			if rep.Remaining != tc.remaining || rep.ItemCount != 3 || rep.Counts.Add != 1 || rep.Counts.Change != 1 || rep.Counts.Remove != 1 {
				t.Errorf("remaining %d items %d counts %+v", rep.Remaining, rep.ItemCount, rep.Counts)
			}
			if rep.Provider != "gitlab" || rep.Consumer != "gitlab-sync" || rep.Trigger != reconcile.TriggerRequest || rep.Apply != tc.opts.Apply ||
				rep.DryRun != tc.dryRun || rep.RemoveUnmanaged != tc.opts.RemoveUnmanaged || rep.Interrupted || rep.Error != "" ||
				!rep.Finished.After(rep.Started) && !rep.Finished.Equal(rep.Started) {
				t.Errorf("report %+v", rep)
			}
			if !reflect.DeepEqual(rep.Stats, stats) {
				t.Errorf("stats %+v, want %+v", rep.Stats, stats)
			}

			// One report event, decodable by the catalog, that says the same.
			evs := b.reports()
			if len(evs) != 1 {
				t.Fatalf("%d report events, want 1", len(evs))
			}
			back := reconcile.FromEvent(evs[0])
			back.Started, back.Finished = rep.Started, rep.Finished
			if !reflect.DeepEqual(back, rep) {
				t.Errorf("the event says\n%+v\nthe run returned\n%+v", back, rep)
			}
			if got := metricValue(t, reg, "idsync_reconcile_runs_total", map[string]string{"trigger": "request", "result": "ok"}); got != 1 {
				t.Errorf("runs_total{ok} = %v, want 1", got)
			}
			if got := metricValue(t, reg, "idsync_reconcile_items_total", map[string]string{"op": "add", "result": resultLabel(tc.want[0])}); got != 1 {
				t.Errorf("items_total{add} = %v, want 1", got)
			}
			if got := metricValue(t, reg, "idsync_reconcile_pending_items", nil); got != float64(tc.remaining) {
				t.Errorf("pending_items = %v, want %d", got, tc.remaining)
			}

			// The run is recorded for the schedules of every replica.
			st, err := reconcile.ReadState(context.Background(), b.state, "gitlab")
			if err != nil || st.Last.ID != rep.ID || st.Last.Result != reconcile.RunOK || st.Last.Remaining != tc.remaining || !st.LastScheduled.IsZero() {
				t.Errorf("state %+v, %v", st, err)
			}
		})
	}
}

// The removal guard pausing stops every later removal, but not adds and
// changes: access that is missing is still granted.
func TestGuardPausedStopsRemovalsOnly(t *testing.T) {
	t.Parallel()
	b := newBed(t, 0)
	drift := []reconcile.Item{
		item(reconcile.OpRemove, 1), item(reconcile.OpAdd, 2), item(reconcile.OpRemove, 3), item(reconcile.OpChange, 4), item(reconcile.OpRemove, 5),
	}
	f := &fake{items: drift, apply: func(_ context.Context, it reconcile.Item) (reconcile.Item, error) {
		if it.Op == reconcile.OpRemove {
			return it, guard.ErrPaused
		}
		it.Result = reconcile.Applied
		return it, nil
	}}
	r, _ := b.runner(f)
	rep, err := r.Run(context.Background(), reconcile.Options{Apply: true})
	if err != nil {
		t.Fatalf("a paused guard is not a failed run: %v", err)
	}
	want := []reconcile.Result{reconcile.Paused, reconcile.Applied, reconcile.Paused, reconcile.Applied, reconcile.Paused}
	if got := results(rep.Items); !reflect.DeepEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	var called []reconcile.Op
	for _, it := range f.calls() {
		called = append(called, it.Op)
	}
	if !reflect.DeepEqual(called, []reconcile.Op{reconcile.OpRemove, reconcile.OpAdd, reconcile.OpChange}) {
		t.Errorf("Apply called for %v: no removal after the guard paused", called)
	}
	if rep.Counts.Paused != 3 || rep.Remaining != 3 || rep.Items[2].Detail == "" {
		t.Errorf("counts %+v remaining %d detail %q", rep.Counts, rep.Remaining, rep.Items[2].Detail)
	}
}

// An error other than the guard's stops the run: the items not reached
// stay pending, and the report says why.
func TestApplyErrorStopsTheRun(t *testing.T) {
	t.Parallel()
	b := newBed(t, 0)
	lost := errors.New("nats: connection closed")
	f := &fake{items: []reconcile.Item{item(reconcile.OpAdd, 1), item(reconcile.OpAdd, 2), item(reconcile.OpAdd, 3)},
		apply: func(_ context.Context, it reconcile.Item) (reconcile.Item, error) {
			if it.Person.SourceID == "00u2" {
				return reconcile.Item{}, lost
			}
			it.Result = reconcile.Applied
			return it, nil
		}}
	r, _ := b.runner(f)
	rep, err := r.Run(context.Background(), reconcile.Options{Apply: true})
	if !errors.Is(err, lost) {
		t.Fatalf("run error %v, want the apply's", err)
	}
	want := []reconcile.Result{reconcile.Applied, reconcile.Failed, reconcile.Pending}
	if got := results(rep.Items); !reflect.DeepEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	if rep.Items[1].Person.SourceID != "00u2" || rep.Items[1].Detail != lost.Error() || rep.Error == "" {
		t.Errorf("failed item %+v, report error %q", rep.Items[1], rep.Error)
	}
	if evs := b.reports(); len(evs) != 1 || evs[0].GetError() == "" {
		t.Errorf("the failed run's report event: %v", evs)
	}
}

// A diff that fails reports nothing but the error: differences computed
// against a partial listing are not differences.
func TestDiffError(t *testing.T) {
	t.Parallel()
	b := newBed(t, 0)
	f := &fake{items: []reconcile.Item{item(reconcile.OpRemove, 1)}, diffErr: errors.New("console: 503")}
	r, _ := b.runner(f)
	rep, err := r.Run(context.Background(), reconcile.Options{Apply: true})
	if err == nil || len(rep.Items) != 0 || rep.Error == "" || len(f.calls()) != 0 {
		t.Fatalf("err %v, items %v, error %q, applied %d", err, rep.Items, rep.Error, len(f.calls()))
	}
}

// A reconciler that panics fails its run, which still reports and
// releases the lock: the consumer goes on, and so do later runs.
func TestPanicFailsTheRun(t *testing.T) {
	t.Parallel()
	b := newBed(t, 0)
	f := &fake{panics: true}
	r, _ := b.runner(f)
	rep, err := r.Run(context.Background(), reconcile.Options{Apply: true})
	if err == nil || !strings.Contains(rep.Error, "panicked") {
		t.Fatalf("run of a panicking reconciler: %v, report error %q", err, rep.Error)
	}
	f.panics = false
	if _, err := r.Run(context.Background(), reconcile.Options{}); err != nil {
		t.Fatalf("the next run: %v", err)
	}
	if evs := b.reports(); len(evs) != 2 || evs[0].GetError() == "" {
		t.Errorf("report events %v", evs)
	}
}

// Two replicas: while one runs, the other is refused at once, directly
// and through the endpoint; then it may run.
func TestOneRunPerProviderAcrossReplicas(t *testing.T) {
	t.Parallel()
	b := newBed(t, 0)
	slow := &fake{items: []reconcile.Item{item(reconcile.OpAdd, 1)}, block: make(chan struct{}), diffing: make(chan struct{})}
	a, _ := b.runner(slow)
	other, regOther := b.runner(&fake{})
	b.serve(other)
	done := make(chan error, 1)
	go func() {
		_, err := a.Run(context.Background(), reconcile.Options{})
		done <- err
	}()
	<-slow.diffing
	_, err := other.Run(context.Background(), reconcile.Options{})
	var held *lock.HeldError
	if !errors.Is(err, reconcile.ErrBusy) || !errors.As(err, &held) || held.Holder.What != reconcile.TriggerRequest {
		t.Fatalf("second replica: %v, want ErrBusy naming the holder", err)
	}
	_, err = b.request(reconcile.Request{})
	var re *reconcile.ReplyError
	if !errors.As(err, &re) || re.Code != "reconcile_busy" || re.Status != 409 {
		t.Fatalf("request while busy: %v, want reconcile_busy", err)
	}
	if got := metricValue(t, regOther, "idsync_reconcile_runs_total", map[string]string{"trigger": "request", "result": "busy"}); got != 2 {
		t.Errorf("runs_total{busy} = %v, want 2", got)
	}
	close(slow.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := b.request(reconcile.Request{}); err != nil {
		t.Fatalf("after the first run: %v", err)
	}
}

// A replica that crashed holding the lock blocks the others only until
// the lock's TTL.
func TestLockOfACrashedHolderExpires(t *testing.T) {
	t.Parallel()
	b := newBed(t, time.Second)
	crashed, err := lock.Open(context.Background(), b.locks)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := crashed.Acquire(context.Background(), "reconcile.gitlab", reconcile.TriggerSchedule)
	if err != nil {
		t.Fatal(err)
	}
	lease.Abandon()
	r, _ := b.runner(&fake{items: []reconcile.Item{item(reconcile.OpAdd, 1)}})
	if _, err := r.Run(context.Background(), reconcile.Options{}); !errors.Is(err, reconcile.ErrBusy) {
		t.Fatalf("right after the crash: %v, want ErrBusy", err)
	}
	var rep reconcile.Report
	waitFor(t, "the crashed holder's lock to expire", func() bool {
		rep, err = r.Run(context.Background(), reconcile.Options{})
		return !errors.Is(err, reconcile.ErrBusy)
	})
	if err != nil || rep.ItemCount != 1 {
		t.Fatalf("after expiry: %v %+v", err, rep)
	}
}

// Shutdown during an apply: the item in progress finishes, the rest stay
// pending, and the report, marked interrupted, is published.
func TestShutdownFinishesTheCurrentItem(t *testing.T) {
	t.Parallel()
	b := newBed(t, 0)
	inApply, release := make(chan struct{}), make(chan struct{})
	f := &fake{items: []reconcile.Item{item(reconcile.OpAdd, 1), item(reconcile.OpAdd, 2), item(reconcile.OpAdd, 3)},
		apply: func(ctx context.Context, it reconcile.Item) (reconcile.Item, error) {
			if it.Person.SourceID == "00u1" {
				close(inApply)
				<-release
			}
			if ctx.Err() != nil {
				return it, ctx.Err() // the item's context must outlive the run's
			}
			it.Result = reconcile.Applied
			return it, nil
		}}
	r, _ := b.runner(f)
	ctx, cancel := context.WithCancel(context.Background())
	type out struct {
		rep reconcile.Report
		err error
	}
	done := make(chan out, 1)
	go func() {
		rep, err := r.Run(ctx, reconcile.Options{Apply: true})
		done <- out{rep, err}
	}()
	<-inApply
	cancel()
	close(release)
	o := <-done
	want := []reconcile.Result{reconcile.Applied, reconcile.Pending, reconcile.Pending}
	if got := results(o.rep.Items); !reflect.DeepEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	if !o.rep.Interrupted || o.err == nil || len(f.calls()) != 1 {
		t.Errorf("interrupted %v err %v calls %d", o.rep.Interrupted, o.err, len(f.calls()))
	}
	evs := b.reports()
	if len(evs) != 1 || !evs[0].GetInterrupted() || evs[0].GetCounts().GetApplied() != 1 || evs[0].GetCounts().GetPending() != 2 {
		t.Errorf("report event after shutdown: %v", evs)
	}
}

// A scheduled run happens on its own, with the configured apply, and is
// recorded as the last scheduled one.
func TestSchedule(t *testing.T) {
	t.Parallel()
	b := newBed(t, 0)
	f := &fake{items: []reconcile.Item{item(reconcile.OpRemove, 1)}}
	r, _ := b.runner(f, func(c *reconcile.RunnerConfig) {
		c.Config = reconcile.Config{Interval: 200 * time.Millisecond, Apply: true, RemoveUnmanaged: true}
	})
	b.serve(r)
	var st reconcile.State
	waitFor(t, "a scheduled run", func() bool {
		var err error
		st, err = reconcile.ReadState(context.Background(), b.state, "gitlab")
		return err == nil && !st.LastScheduled.IsZero()
	})
	if st.Last.Trigger != reconcile.TriggerSchedule || !st.Last.Apply {
		t.Errorf("state %+v", st)
	}
	f.mu.Lock()
	opts := f.opts[0]
	f.mu.Unlock()
	if opts != (reconcile.Options{Apply: true, RemoveUnmanaged: true}) {
		t.Errorf("scheduled apply with %+v", opts)
	}
}

// The event stays under MaxEventBytes: counts and the first items, marked
// truncated, while the requester gets every item.
func TestLargeReport(t *testing.T) {
	t.Parallel()
	b := newBed(t, 0)
	var drift []reconcile.Item
	for i := range 10000 {
		drift = append(drift, item([]reconcile.Op{reconcile.OpAdd, reconcile.OpChange, reconcile.OpRemove}[i%3], i))
	}
	notes := make([]string, 500)
	for i := range notes {
		notes[i] = "p@example.com has no GitLab user"
	}
	r, _ := b.runner(&fake{items: drift, stats: reconcile.Stats{People: 10000, Notes: notes}})
	b.serve(r)
	start := time.Now()
	rep, err := b.request(reconcile.Request{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10,000 items streamed and read in %s", time.Since(start))
	want := make([]reconcile.Item, len(drift))
	copy(want, drift)
	if !reflect.DeepEqual(rep.Items, want) {
		t.Fatalf("the streamed items differ from the diff (%d items, want %d)", len(rep.Items), len(want))
	}
	if rep.ItemCount != 10000 || rep.Remaining != 10000 || len(rep.Stats.Notes) != 500 {
		t.Errorf("item count %d remaining %d notes %d", rep.ItemCount, rep.Remaining, len(rep.Stats.Notes))
	}
	evs := b.reports()
	if len(evs) != 1 {
		t.Fatalf("%d report events", len(evs))
	}
	ev := evs[0]
	size := len(mustJSON(t, ev))
	if !ev.GetTruncated() || ev.GetItemCount() != 10000 || len(ev.GetItems()) == 0 || len(ev.GetItems()) >= 10000 ||
		size > reconcile.MaxEventBytes || len(ev.GetStats().GetNotes()) != 200 || ev.GetStats().GetNoteCount() != 500 {
		t.Errorf("event: truncated %v, %d of %d items, %d of %d notes, %d bytes", ev.GetTruncated(), len(ev.GetItems()), ev.GetItemCount(),
			len(ev.GetStats().GetNotes()), ev.GetStats().GetNoteCount(), size)
	}
	if got := reconcile.FromEvent(ev).Items; !reflect.DeepEqual(got, want[:len(got)]) {
		t.Error("the event's items are not the report's first items")
	}
}

func TestRequestErrors(t *testing.T) {
	t.Parallel()
	b := newBed(t, 0)
	if _, err := b.request(reconcile.Request{}); !errors.Is(err, reconcile.ErrNoResponders) {
		t.Fatalf("nobody serving: %v, want ErrNoResponders", err)
	}
	f := &fake{}
	r, _ := b.runner(f)
	b.serve(r)
	for _, tc := range []struct{ body, code string }{
		{`{"apply":true,"dryRun":true}`, "invalid_request"},
		{`{"apply":"yes"}`, "invalid_request"},
		{`{"apply":true`, "invalid_json"},
		{`[true]`, "invalid_json"},
		{`{"apply":true,"apply":false}`, "invalid_json"},
	} {
		msg, err := b.conn.NC.Request(reconcile.Subject(b.ns, "gitlab"), []byte(tc.body), 10*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if msg.Header.Get(reconcile.HeaderPart) != reconcile.PartError || msg.Header.Get(reconcile.HeaderErrorCode) != tc.code {
			t.Errorf("%s: answered %q %q: %s", tc.body, msg.Header.Get(reconcile.HeaderPart), msg.Header.Get(reconcile.HeaderErrorCode), msg.Data)
		}
	}
	if len(f.calls()) != 0 || len(b.reports()) != 0 {
		t.Error("a refused request ran")
	}
}

func mustJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func resultLabel(r reconcile.Result) string {
	if r == reconcile.Pending {
		return "pending"
	}
	return string(r)
}

// metricValue gathers reg and returns the value of the gitlab series of
// name with labels.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if got["provider"] != "gitlab" {
				continue
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}
