package console

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gatedLoad counts runs and blocks each until released; the value of a run
// is its number.
type gatedLoad struct {
	runs    atomic.Int32
	started chan int32
	release chan error
}

func newGatedLoad() *gatedLoad {
	return &gatedLoad{started: make(chan int32, 16), release: make(chan error)}
}

func (g *gatedLoad) load(ctx context.Context) (any, error) {
	n := g.runs.Add(1)
	g.started <- n
	if err := <-g.release; err != nil {
		return nil, err
	}
	return n, nil
}

// TestSharedReadsServeEachCallerARunStartedAfterIt: callers that arrive
// while a listing runs share the next one — one run for all of them, and
// none gets the listing that was already under way when it asked.
func TestSharedReadsServeEachCallerARunStartedAfterIt(t *testing.T) {
	var s sharedReads
	g := newGatedLoad()
	ctx := context.Background()
	first := make(chan any, 1)
	go func() { v, _ := s.get(ctx, "k", g.load); first <- v }()
	if n := <-g.started; n != 1 {
		t.Fatalf("first run is #%d", n)
	}
	const late = 10
	var wg sync.WaitGroup
	got := make([]any, late)
	for i := range late {
		wg.Go(func() { got[i], _ = s.get(ctx, "k", g.load) })
	}
	waitQueued(t, &s, "k", late)
	g.release <- nil // run 1 ends; run 2 starts for the late callers
	if v := <-first; v != int32(1) {
		t.Fatalf("first caller got %v, want run 1", v)
	}
	if n := <-g.started; n != 2 {
		t.Fatalf("second run is #%d", n)
	}
	g.release <- nil
	wg.Wait()
	for i, v := range got {
		if v != int32(2) {
			t.Errorf("late caller %d got %v, want run 2 (run 1 started before it asked)", i, v)
		}
	}
	if n := g.runs.Load(); n != 2 {
		t.Errorf("%d runs for %d callers, want 2", n, late+1)
	}
}

// TestSharedReadsErrorsReachEveryWaiterAndAreNotKept: a failed listing
// fails the callers that shared it; the next caller lists afresh.
func TestSharedReadsErrorsReachEveryWaiterAndAreNotKept(t *testing.T) {
	var s sharedReads
	g := newGatedLoad()
	boom := errors.New("console down")
	errs := make(chan error, 1)
	go func() { _, err := s.get(context.Background(), "k", g.load); errs <- err }()
	<-g.started
	g.release <- boom
	if err := <-errs; !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the listing's error", err)
	}
	go func() { _, err := s.get(context.Background(), "k", g.load); errs <- err }()
	if n := <-g.started; n != 2 {
		t.Fatalf("run #%d, want a new run after the failure", n)
	}
	g.release <- nil
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// TestSharedReadsCallerGivingUpDoesNotCancelTheRun: one caller's context
// ending returns its error at once and leaves the shared listing running
// for the others.
func TestSharedReadsCallerGivingUpDoesNotCancelTheRun(t *testing.T) {
	var s sharedReads
	g := newGatedLoad()
	ctx, cancel := context.WithCancel(context.Background())
	quit := make(chan error, 1)
	go func() { _, err := s.get(ctx, "k", g.load); quit <- err }()
	<-g.started
	stay := make(chan any, 1)
	go func() { v, _ := s.get(context.Background(), "k", g.load); stay <- v }()
	waitQueued(t, &s, "k", 1)
	cancel()
	if err := <-quit; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	g.release <- nil
	<-g.started
	g.release <- nil
	select {
	case v := <-stay:
		if v != int32(2) {
			t.Fatalf("got %v, want run 2", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the remaining caller never got its listing")
	}
}

// waitQueued waits until n callers wait for key's next run. It counts them
// through the next run's waiters: a caller joins before it blocks.
func waitQueued(t *testing.T, s *sharedReads, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		q := s.keys[key]
		queued := q != nil && q.next != nil && q.next.waiters >= n
		s.mu.Unlock()
		if queued {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d queued callers", n)
		}
		time.Sleep(time.Millisecond)
	}
}
