package bus

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
)

// dispatcher hands messages to a pool of workers so that messages about the
// same subject (a user, a project) are handled one after the other, in
// stream order, while messages about different subjects run in parallel on
// any free worker. A message whose subject is busy waits beside its
// predecessor instead of blocking the others (no head-of-line blocking); how
// many can wait is bounded by the consumer's MaxAckPending.
//
// A waiting message is not being handled, so the handler's heartbeat does
// not cover it; without one of its own, a message that waits longer than
// the ack wait (behind a slow predecessor, or for a free worker on a busy
// machine) is redelivered — to another replica, which would then act on it
// beside this one. The fault suite saw an Okta membership added twice that
// way. So every message the dispatcher holds gets an InProgress every
// heartbeat until a worker takes it.
type dispatcher struct {
	work   chan jetstream.Msg
	handle func(jetstream.Msg)
	wg     sync.WaitGroup
	stop   chan struct{}

	mu      sync.Mutex
	busy    map[string][]jetstream.Msg // subject → messages waiting behind the one in flight
	waiting map[jetstream.Msg]struct{} // held, not yet handled: they need heartbeats
}

// newDispatcher starts workers; heartbeat is how often held messages are
// told to JetStream as in progress (a third of the ack wait; 0 = never).
func newDispatcher(workers int, heartbeat time.Duration, handle func(jetstream.Msg)) *dispatcher {
	d := &dispatcher{work: make(chan jetstream.Msg), handle: handle, stop: make(chan struct{}),
		busy: map[string][]jetstream.Msg{}, waiting: map[jetstream.Msg]struct{}{}}
	for range workers {
		d.wg.Go(d.worker)
	}
	if heartbeat > 0 {
		go d.heartbeats(heartbeat)
	}
	return d
}

// heartbeats marks every held message in progress, every period.
func (d *dispatcher) heartbeats(period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			d.mu.Lock()
			held := make([]jetstream.Msg, 0, len(d.waiting))
			for m := range d.waiting {
				held = append(held, m)
			}
			d.mu.Unlock()
			for _, m := range held {
				_ = m.InProgress()
			}
		case <-d.stop:
			return
		}
	}
}

func subjectKey(m jetstream.Msg) string {
	if k := m.Headers().Get(events.HeaderSubject); k != "" {
		return k
	}
	return "id:" + m.Headers().Get(events.HeaderID)
}

// dispatch queues m behind a message of the same subject, or gives it to
// the next free worker (blocking until one is free: that is the back-pressure).
func (d *dispatcher) dispatch(m jetstream.Msg) {
	k := subjectKey(m)
	d.mu.Lock()
	d.waiting[m] = struct{}{}
	if waiting, ok := d.busy[k]; ok {
		d.busy[k] = append(waiting, m)
		d.mu.Unlock()
		return
	}
	d.busy[k] = nil
	d.mu.Unlock()
	d.work <- m
}

// worker handles a message, then every message that queued behind it for
// the same subject, before taking new work.
func (d *dispatcher) worker() {
	for m := range d.work {
		k := subjectKey(m)
		for {
			d.mu.Lock()
			delete(d.waiting, m)
			d.mu.Unlock()
			d.handle(m)
			d.mu.Lock()
			waiting := d.busy[k]
			if len(waiting) == 0 {
				delete(d.busy, k)
				d.mu.Unlock()
				break
			}
			m, d.busy[k] = waiting[0], waiting[1:]
			d.mu.Unlock()
		}
	}
}

// close waits for every dispatched message to be handled.
func (d *dispatcher) close() {
	close(d.work)
	d.wg.Wait()
	close(d.stop)
}
