package guard_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/logging"
)

func bucket(t *testing.T) jetstream.KeyValue {
	t.Helper()
	srv := bustest.Start(t)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	kv, err := bus.KeyValue(context.Background(), js, bustest.Namespace(t), bus.BucketGuard, 1)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

type alerts struct {
	mu   sync.Mutex
	list []guard.Alert
}

func (a *alerts) record(_ context.Context, al guard.Alert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.list = append(a.list, al)
	return nil
}

func TestThresholdIsSharedAndTripsOnce(t *testing.T) {
	kv := bucket(t)
	cfg := guard.Config{Threshold: 5, Window: time.Hour}
	var al alerts
	// Two replicas of the same consumer share the count.
	a := guard.New(kv, "gitlab-sync", "gitlab", cfg, al.record, logging.Discard(), prometheus.NewRegistry())
	b := guard.New(kv, "gitlab-sync", "gitlab", cfg, al.record, logging.Discard(), prometheus.NewRegistry())
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed, refused := 0, 0
	for i := range 12 {
		g := a
		if i%2 == 1 {
			g = b
		}
		wg.Go(func() {
			err := g.AllowRemoval(ctx, fmt.Sprintf("person-%d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				allowed++
			case errors.Is(err, guard.ErrPaused) && errclass.Of(err) == errclass.RateLimited:
				refused++
			default:
				t.Errorf("unexpected %v", err)
			}
		})
	}
	wg.Wait()
	if allowed != 5 || refused != 7 {
		t.Fatalf("allowed %d refused %d, want 5 and 7", allowed, refused)
	}
	if len(al.list) != 1 || !al.list[0].Paused || al.list[0].Threshold != 5 {
		t.Fatalf("alerts %+v, want one trip", al.list)
	}
	st, _ := a.State(ctx)
	if !st.Paused {
		t.Fatal("not paused")
	}
	// Another consumer is not affected.
	other := guard.New(kv, "okta-sync", "okta", cfg, nil, logging.Discard(), prometheus.NewRegistry())
	if err := other.AllowRemoval(ctx, "person-1"); err != nil {
		t.Fatalf("okta-sync paused by gitlab-sync's guard: %v", err)
	}
	if err := b.Resume(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if err := a.AllowRemoval(ctx, "person-99"); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	if len(al.list) != 2 || al.list[1].Paused || al.list[1].ResumedBy != "ops" {
		t.Fatalf("resume alert %+v", al.list)
	}
}

func TestWindowSlides(t *testing.T) {
	kv := bucket(t)
	g := guard.New(kv, "c", "console", guard.Config{Threshold: 2, Window: time.Minute}, nil, logging.Discard(), prometheus.NewRegistry())
	ctx := context.Background()
	if g.AllowRemoval(ctx, "a") != nil || g.AllowRemoval(ctx, "b") != nil {
		t.Fatal("within the threshold")
	}
	// The same person again (a retry, another membership) counts once.
	for range 5 {
		if err := g.AllowRemoval(ctx, "a"); err != nil {
			t.Fatalf("a person already counted: %v", err)
		}
	}
	st, _ := g.State(ctx)
	if len(st.Removals) != 2 {
		t.Fatalf("removals %v", st.Removals)
	}
}

func TestZeroThresholdNeverTrips(t *testing.T) {
	g := guard.New(bucket(t), "c", "console", guard.Config{Threshold: 0, Window: time.Minute}, nil, logging.Discard(), prometheus.NewRegistry())
	for i := range 50 {
		if err := g.AllowRemoval(context.Background(), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProtectedAccounts(t *testing.T) {
	g := guard.New(bucket(t), "c", "console", guard.Config{Protected: []string{" Admin@Example.com", "00uroot"}, Window: time.Minute}, nil, logging.Discard(), prometheus.NewRegistry())
	for _, tc := range []struct {
		ids  []string
		want bool
	}{
		{[]string{"admin@example.com"}, true}, {[]string{"x", "00UROOT"}, true},
		{[]string{"bob@example.com", ""}, false}, {nil, false},
	} {
		if got := g.Protected(tc.ids...); got != tc.want {
			t.Errorf("Protected(%v) = %v", tc.ids, got)
		}
	}
}

func TestWatchFollowsThePausedState(t *testing.T) {
	kv := bucket(t)
	g := guard.New(kv, "c", "console", guard.Config{Threshold: 1, Window: time.Hour}, nil, logging.Discard(), prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := g.Watch(ctx)
	next := func() bool {
		select {
		case p := <-ch:
			return p
		case <-time.After(5 * time.Second):
			t.Fatal("no state")
			return false
		}
	}
	if next() {
		t.Fatal("paused at start")
	}
	_ = g.AllowRemoval(ctx, "a")
	_ = g.AllowRemoval(ctx, "b") // trips
	if !next() {
		t.Fatal("trip not seen")
	}
	_ = g.Resume(ctx, "ops")
	if next() {
		t.Fatal("resume not seen")
	}
}
