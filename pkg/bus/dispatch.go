package bus

import (
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
)

// dispatcher hands messages to a pool of workers so that messages about the
// same subject (a user, a project) are handled one after the other, in
// stream order, while messages about different subjects run in parallel on
// any free worker. A message whose subject is busy waits beside its
// predecessor instead of blocking the others (no head-of-line blocking); how
// many can wait is bounded by the consumer's MaxAckPending.
type dispatcher struct {
	work   chan jetstream.Msg
	handle func(jetstream.Msg)
	wg     sync.WaitGroup

	mu   sync.Mutex
	busy map[string][]jetstream.Msg // subject → messages waiting behind the one in flight
}

func newDispatcher(workers int, handle func(jetstream.Msg)) *dispatcher {
	d := &dispatcher{work: make(chan jetstream.Msg), handle: handle, busy: map[string][]jetstream.Msg{}}
	for range workers {
		d.wg.Go(d.worker)
	}
	return d
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
}
