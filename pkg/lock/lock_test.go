package lock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/lock"
)

// bucket opens a lease bucket with ttl on a fresh server, as a second
// process would see it too (kvs returns one handle per connection).
func bucket(t *testing.T, ttl time.Duration, conns int) []jetstream.KeyValue {
	t.Helper()
	srv := bustest.Start(t)
	ns := bustest.Namespace(t)
	var out []jetstream.KeyValue
	for range conns {
		nc, err := nats.Connect(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		kv, err := js.CreateOrUpdateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: ns.Stream("LOCKS"), History: 1, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, kv)
	}
	return out
}

func open(t *testing.T, kv jetstream.KeyValue) *lock.Locker {
	t.Helper()
	l, err := lock.Open(context.Background(), kv)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestOneHolderAtATime(t *testing.T) {
	t.Parallel()
	kvs := bucket(t, 30*time.Second, 2)
	a, b := open(t, kvs[0]), open(t, kvs[1])
	ctx := context.Background()
	la, err := a.Acquire(ctx, "reconcile.gitlab", "request")
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Acquire(ctx, "reconcile.gitlab", "schedule")
	var held *lock.HeldError
	if !errors.Is(err, lock.ErrHeld) || !errors.As(err, &held) || held.Holder.What != "request" || held.Holder.ID == "" {
		t.Fatalf("second holder: %v (%+v), want ErrHeld naming the first", err, held)
	}
	// Another key is another lease.
	lo, err := b.Acquire(ctx, "reconcile.okta", "schedule")
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Release(ctx)
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	lb, err := b.Acquire(ctx, "reconcile.gitlab", "schedule")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// A holder that crashes (stops refreshing, never releases) blocks others
// only until the bucket's TTL expires its entry.
func TestCrashedHolderExpires(t *testing.T) {
	t.Parallel()
	kvs := bucket(t, time.Second, 2)
	a, b := open(t, kvs[0]), open(t, kvs[1])
	ctx := context.Background()
	la, err := a.Acquire(ctx, "k", "crash")
	if err != nil {
		t.Fatal(err)
	}
	la.Abandon()
	if _, err := b.Acquire(ctx, "k", "next"); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("right after the crash: %v, want ErrHeld", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		lb, err := b.Acquire(ctx, "k", "next")
		if err == nil {
			_ = lb.Release(ctx)
			return
		}
		if !errors.Is(err, lock.ErrHeld) || time.Now().After(deadline) {
			t.Fatalf("the crashed holder's lease never expired: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A live holder keeps its lease past the TTL by refreshing it.
func TestHolderRefreshes(t *testing.T) {
	t.Parallel()
	kvs := bucket(t, time.Second, 2)
	a, b := open(t, kvs[0]), open(t, kvs[1])
	ctx := context.Background()
	la, err := a.Acquire(ctx, "k", "long run")
	if err != nil {
		t.Fatal(err)
	}
	defer la.Release(ctx)
	// Wait for three refreshes (the revision moves each time), well past
	// the TTL, then check the lease is still held and not lost.
	first, err := kvs[1].Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, err := kvs[1].Get(ctx, "k")
		if err != nil {
			t.Fatalf("the entry went away while its holder lives: %v", err)
		}
		if e.Revision() >= first.Revision()+3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the holder does not refresh")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := b.Acquire(ctx, "k", "other"); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("after refreshes: %v, want ErrHeld", err)
	}
	select {
	case <-la.Lost():
		t.Fatal("lease reported lost")
	default:
	}
}

// A lease whose entry is taken away (expired and taken by another) is
// reported lost, and its release leaves the new holder's entry alone.
func TestLostLease(t *testing.T) {
	t.Parallel()
	kvs := bucket(t, time.Second, 2)
	a := open(t, kvs[0])
	ctx := context.Background()
	la, err := a.Acquire(ctx, "k", "victim")
	if err != nil {
		t.Fatal(err)
	}
	// Someone overwrites the entry (as if it had expired and been taken).
	if _, err := kvs[1].Put(ctx, "k", []byte(`{"id":"usurper"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-la.Lost():
	case <-time.After(30 * time.Second):
		t.Fatal("the lease was not reported lost")
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	e, err := kvs[1].Get(ctx, "k")
	if err != nil {
		t.Fatalf("the lost lease's release deleted the new entry: %v", err)
	}
	if string(e.Value()) != `{"id":"usurper"}` {
		t.Fatalf("the lost lease's release changed the new entry: %q", e.Value())
	}
}

func TestOpenRefusesABucketWithoutTTL(t *testing.T) {
	t.Parallel()
	kvs := bucket(t, 0, 1)
	if _, err := lock.Open(context.Background(), kvs[0]); err == nil {
		t.Fatal("a bucket without TTL was accepted")
	}
}
