// Package lock gives one holder at a time a named lease across processes,
// through a NATS KV bucket whose entries expire (bus.BucketLocks): the
// holder creates the key, refreshes it well within the bucket's TTL and
// deletes it when done. A holder that crashes stops refreshing, and the
// server removes its entry after the TTL, so the lease frees itself without
// anyone having to notice the crash. Expiry is the server's, on the server's
// clock: replicas with skewed clocks cannot both believe they hold a lease.
package lock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Holder is what a lease's entry says about who holds it.
type Holder struct {
	// ID is unique per Locker (host, process and a random part).
	ID   string `json:"id"`
	Host string `json:"host,omitempty"`
	// What the holder does with it, for people (e.g. "schedule", "request").
	What  string    `json:"what,omitempty"`
	Since time.Time `json:"since"`
}

// HeldError is returned by Acquire when another holder has the lease.
type HeldError struct {
	Key    string
	Holder Holder
}

func (e *HeldError) Error() string {
	if e.Holder.ID == "" {
		return "lock " + e.Key + ": held by another holder"
	}
	return fmt.Sprintf("lock %s: held by %s (%s) since %s", e.Key, e.Holder.Host, e.Holder.What, e.Holder.Since.UTC().Format(time.RFC3339))
}

// ErrHeld matches every HeldError with errors.Is.
var ErrHeld = errors.New("lock: held by another holder")

// Is makes errors.Is(err, ErrHeld) true for a HeldError.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Locker takes leases in one bucket.
type Locker struct {
	kv  jetstream.KeyValue
	ttl time.Duration
	id  string
	now func() time.Time
}

// Open returns a locker on kv, whose TTL (the bucket's max age) must be set:
// a lease that never expired would stay held after its holder crashed.
func Open(ctx context.Context, kv jetstream.KeyValue) (*Locker, error) {
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock.Open: %w", err)
	}
	if st.TTL() <= 0 {
		return nil, fmt.Errorf("lock.Open: bucket %s has no TTL; a crashed holder would keep its lease for ever", st.Bucket())
	}
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &Locker{kv: kv, ttl: st.TTL(), id: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:])), now: time.Now}, nil
}

// TTL is how long a lease outlives its holder's last refresh.
func (l *Locker) TTL() time.Duration { return l.ttl }

// Lease is one held lock. It is refreshed in the background until
// Release; Lost is closed if it could not be kept (the server expired it,
// or refreshes failed for a whole TTL), after which the holder must stop
// what the lease protects.
type Lease struct {
	l      *Locker
	key    string
	value  []byte
	lost   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	rev    uint64
	closed bool
}

// Acquire takes the lease key for what (a word for people: who holds it
// and why shows in the HeldError of others). It returns a *HeldError
// (errors.Is ErrHeld) when someone else holds it, or the bucket's error.
func (l *Locker) Acquire(ctx context.Context, key, what string) (*Lease, error) {
	host, _ := os.Hostname()
	value, _ := json.Marshal(Holder{ID: l.id, Host: host, What: what, Since: l.now().UTC()})
	rev, err := l.kv.Create(ctx, key, value)
	if errors.Is(err, jetstream.ErrKeyExists) {
		held := &HeldError{Key: key}
		if e, gerr := l.kv.Get(ctx, key); gerr == nil {
			_ = json.Unmarshal(e.Value(), &held.Holder)
		}
		return nil, held
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", key, err)
	}
	ls := &Lease{l: l, key: key, value: value, rev: rev, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go ls.keep()
	return ls, nil
}

// Lost is closed when the lease is lost.
func (ls *Lease) Lost() <-chan struct{} { return ls.lost }

// keep refreshes the entry every third of the TTL, so that two refreshes
// may fail before the server expires it.
func (ls *Lease) keep() {
	defer close(ls.done)
	every := ls.l.ttl / 3
	t := time.NewTicker(every)
	defer t.Stop()
	lastOK := ls.l.now()
	for {
		select {
		case <-ls.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		ls.mu.Lock()
		rev, err := ls.l.kv.Update(ctx, ls.key, ls.value, ls.rev)
		if err == nil {
			ls.rev = rev
		}
		ls.mu.Unlock()
		cancel()
		switch {
		case err == nil:
			lastOK = ls.l.now()
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			// The entry expired (or another holder took it since): the
			// server no longer counts this holder.
			close(ls.lost)
			return
		case ls.l.now().Sub(lastOK) >= ls.l.ttl:
			// Unreachable for a whole TTL: the entry has expired by now.
			close(ls.lost)
			return
		}
	}
}

// Release stops refreshing and deletes the entry, if it is still this
// lease's: a lease lost meanwhile leaves the next holder's entry alone.
// Release is idempotent.
func (ls *Lease) Release(ctx context.Context) error {
	ls.mu.Lock()
	if ls.closed {
		ls.mu.Unlock()
		return nil
	}
	ls.closed = true
	ls.mu.Unlock()
	close(ls.stop)
	<-ls.done
	select {
	case <-ls.lost:
		return nil
	default:
	}
	ls.mu.Lock()
	rev := ls.rev
	ls.mu.Unlock()
	err := ls.l.kv.Delete(ctx, ls.key, jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return fmt.Errorf("lock %s: release: %w", ls.key, err)
	}
	return nil
}

// Abandon stops refreshing without deleting the entry, as a crashed holder
// would: the lease frees itself after the TTL. Tests use it; a holder that
// cannot reach the bucket to release ends up here too.
func (ls *Lease) Abandon() {
	ls.mu.Lock()
	if ls.closed {
		ls.mu.Unlock()
		return
	}
	ls.closed = true
	ls.mu.Unlock()
	close(ls.stop)
	<-ls.done
}
