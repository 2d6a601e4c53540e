package bus_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// batchSettings: no test here waits for an ack wait to expire (failed
// batches are handed back at once), so it is long enough that a fetched
// batch waiting for the CPU of a loaded machine is not redelivered beside
// itself (2 s was, under make test's load).
func batchSettings(size int) bus.BatchSettings {
	return bus.BatchSettings{
		Size: size, Linger: 50 * time.Millisecond, AckWait: 10 * time.Second, MaxDeliver: -1,
		BackoffBase: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond, LagInterval: time.Second,
	}
}

// runBatch runs a batch consumer until the returned stop is called.
func runBatch(t *testing.T, conn *bus.Conn, ns events.Namespace, s bus.BatchSettings, h bus.BatchHandler) (stop func()) {
	t.Helper()
	spec := bus.ConsumerSpec{Durable: "test-batch", Stream: bus.StreamEvents, FilterSubjects: []string{ns.Events()}}
	c, err := bus.NewBatchConsumer(conn, ns, spec, s, h, logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("batch consumer did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// collector records what a batch handler saw.
type collector struct {
	mu      sync.Mutex
	batches [][]string
	seen    map[string]int
	// fail makes the handler fail while it returns true.
	fail func(batch int) bool
	// block, when set, holds each batch until it is closed.
	block chan struct{}
}

func (c *collector) handle(ctx context.Context, msgs []jetstream.Msg) error {
	if c.block != nil {
		<-c.block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.batches)
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.Headers().Get(events.HeaderID)
	}
	c.batches = append(c.batches, ids)
	if c.fail != nil && c.fail(n) {
		return errors.New("store unavailable")
	}
	for _, id := range ids {
		c.seen[id]++
	}
	return nil
}

func (c *collector) handled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func TestBatchConsumer(t *testing.T) {
	cases := []struct {
		name string
		size int
		msgs int
		// fail fails the handler for the first batches.
		fail func(batch int) bool
	}{
		{name: "batches up to the size", size: 10, msgs: 35},
		{name: "batch of one", size: 1, msgs: 5},
		{name: "failed batches are redelivered whole", size: 8, msgs: 20, fail: func(b int) bool { return b < 3 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bustest.Each(t, func(t *testing.T, tg bustest.Target) {
				conn := connect(t, tg)
				evs := make([]events.Event, tc.msgs)
				for i, id := range ids(tc.msgs, "b") {
					evs[i] = deleteUserEvent(id, "user-"+id)
				}
				publish(t, conn, tg.NS, evs...)
				c := &collector{seen: map[string]int{}, fail: tc.fail}
				stop := runBatch(t, conn, tg.NS, batchSettings(tc.size), c.handle)
				waitFor(t, "every message handled", func() bool { return c.handled() == tc.msgs })
				waitFor(t, "every message acknowledged", settled(t, conn, tg.NS, "test-batch"))
				stop()
				c.mu.Lock()
				defer c.mu.Unlock()
				for i, b := range c.batches {
					if len(b) > tc.size {
						t.Errorf("batch %d has %d messages, more than the size %d", i, len(b), tc.size)
					}
				}
				for id, n := range c.seen {
					if n != 1 {
						t.Errorf("%s handled successfully %d times, want once", id, n)
					}
				}
			})
		})
	}
}

// TestBatchConsumerFinishesTheBatchInHandOnShutdown: cancelling while the
// handler holds a batch lets it finish and acknowledges it.
func TestBatchConsumerFinishesTheBatchInHandOnShutdown(t *testing.T) {
	s := bustest.Start(t)
	tg := bustest.Target{URL: s.URL(), NS: bustest.Namespace(t)}
	conn := connect(t, tg)
	publish(t, conn, tg.NS, deleteUserEvent("held-1", "u1"), deleteUserEvent("held-2", "u2"))
	c := &collector{seen: map[string]int{}, block: make(chan struct{})}
	stop := runBatch(t, conn, tg.NS, batchSettings(10), c.handle)
	waitFor(t, "the batch delivered", func() bool {
		cons, err := conn.JS.Consumer(context.Background(), tg.NS.Stream(bus.StreamEvents), "test-batch")
		if err != nil {
			return false // not created yet
		}
		info, err := cons.Info(context.Background())
		return err == nil && info.NumAckPending == 2
	})
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Run returned while the handler still held its batch")
	case <-time.After(100 * time.Millisecond):
	}
	close(c.block)
	<-stopped
	if c.handled() != 2 {
		t.Fatalf("handled %d, want 2", c.handled())
	}
	if !settled(t, conn, tg.NS, "test-batch")() {
		t.Fatal("the batch in hand was not acknowledged before Run returned")
	}
}

func TestBatchSettingsAreValidated(t *testing.T) {
	s := bustest.Start(t)
	conn, err := bus.Connect(bus.ConnConfig{URL: s.URL()}, "test", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.NC.Close()
	ok := batchSettings(10)
	spec := bus.ConsumerSpec{Durable: "d", Stream: bus.StreamEvents, FilterSubjects: []string{"x.>"}}
	h := func(context.Context, []jetstream.Msg) error { return nil }
	for name, mutate := range map[string]func(*bus.BatchSettings){
		"size 0":         func(s *bus.BatchSettings) { s.Size = 0 },
		"no linger":      func(s *bus.BatchSettings) { s.Linger = 0 },
		"short ack wait": func(s *bus.BatchSettings) { s.AckWait = time.Millisecond },
		"max deliver 1":  func(s *bus.BatchSettings) { s.MaxDeliver = 1 },
		"backoff max < base": func(s *bus.BatchSettings) {
			s.BackoffMax = s.BackoffBase / 2
		},
	} {
		s := ok
		mutate(&s)
		if _, err := bus.NewBatchConsumer(conn, "t", spec, s, h, logging.Discard(), prometheus.NewRegistry()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := bus.NewBatchConsumer(conn, "t", spec, ok, h, logging.Discard(), prometheus.NewRegistry()); err != nil {
		t.Errorf("valid settings refused: %v", err)
	}
}
