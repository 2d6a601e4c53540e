package console

import (
	"context"
	"sync"
)

// sharedReads lets concurrent callers share one listing of a company's
// users or identities. The Console API has no per-user lookup: finding one
// user or their effective access means listing the company, page by page —
// one full listing per event would make a burst of N events cost N·pages
// calls (a 10,000-person company: 50 pages each). Instead, callers that
// arrive while nobody is listing start a listing; callers that arrive while
// one is running wait for the next, which starts when the running one ends
// and serves all of them.
//
// Freshness is not traded away: every caller gets a listing that started
// after the caller asked, exactly what it would have got reading alone. A
// listing that started before a caller arrived (and so might predate the
// change the caller's event reports) is never handed to that caller.
type sharedReads struct {
	mu   sync.Mutex
	keys map[string]*readQueue
}

// readQueue is one key's state: whether a listing is running, and the
// listing that callers arriving now will share.
type readQueue struct {
	running bool
	next    *sharedRead
}

type sharedRead struct {
	load func(context.Context) (any, error)
	ctx  context.Context
	done chan struct{}
	val  any
	err  error
	// waiters counts the callers sharing this run (for tests).
	waiters int
}

// get returns load's result from a run that started after this call.
// ctx bounds this caller's wait; the shared run keeps the values of the
// caller that queued it (trace, logger) but not its cancellation, so one
// caller giving up does not fail the others (each HTTP call of the run is
// bounded by the client's timeout).
func (s *sharedReads) get(ctx context.Context, key string, load func(context.Context) (any, error)) (any, error) {
	s.mu.Lock()
	if s.keys == nil {
		s.keys = map[string]*readQueue{}
	}
	q := s.keys[key]
	if q == nil {
		q = &readQueue{}
		s.keys[key] = q
	}
	r := q.next
	if r == nil {
		r = &sharedRead{load: load, ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
		q.next = r
		if !q.running {
			s.start(key, q)
		}
	}
	r.waiters++
	s.mu.Unlock()
	select {
	case <-r.done:
		return r.val, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// start runs q's next read; s.mu is held.
func (s *sharedReads) start(key string, q *readQueue) {
	r := q.next
	q.next, q.running = nil, true
	go func() {
		r.val, r.err = r.load(r.ctx)
		s.mu.Lock()
		defer s.mu.Unlock()
		close(r.done)
		q.running = false
		if q.next != nil {
			s.start(key, q)
			return
		}
		delete(s.keys, key)
	}()
}
