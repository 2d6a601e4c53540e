package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
)

// recorder is a handler that records deliveries and fails as told.
type recorder struct {
	mu       sync.Mutex
	seen     map[string][]uint64 // event id → delivery counts seen
	times    map[string][]time.Time
	failWith func(ev events.Event, delivery uint64) error
}

func newRecorder(fail func(events.Event, uint64) error) *recorder {
	return &recorder{seen: map[string][]uint64{}, times: map[string][]time.Time{}, failWith: fail}
}

func (r *recorder) handle(ctx context.Context, ev events.Event) error {
	d, _ := bus.DeliveryFrom(ctx)
	r.mu.Lock()
	r.seen[ev.ID] = append(r.seen[ev.ID], d.NumDelivered)
	r.times[ev.ID] = append(r.times[ev.ID], time.Now())
	r.mu.Unlock()
	if r.failWith != nil {
		return r.failWith(ev, d.NumDelivered)
	}
	return nil
}

func (r *recorder) deliveries(id string) []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint64(nil), r.seen[id]...)
}

func TestConsumerSettlesByErrorClass(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		tests := []struct {
			name string
			// fail returns the handler's error for a delivery.
			fail           func(delivery uint64) error
			wantDeliveries []uint64
			wantDLQClass   string // empty: not dead-lettered
			wantReason     string
		}{
			{name: "success is acked once", fail: func(uint64) error { return nil }, wantDeliveries: []uint64{1}},
			{name: "retryable then success", fail: func(d uint64) error {
				if d < 3 {
					return errclass.AsRetryable(errors.New("provider 503"))
				}
				return nil
			}, wantDeliveries: []uint64{1, 2, 3}},
			{name: "unclassified error is retried", fail: func(d uint64) error {
				if d == 1 {
					return errors.New("connection reset")
				}
				return nil
			}, wantDeliveries: []uint64{1, 2}},
			{name: "not found is acked without retry", fail: func(uint64) error {
				return errclass.AsNotFound(errors.New("no such user"))
			}, wantDeliveries: []uint64{1}},
			{name: "permanent is dead-lettered at once", fail: func(uint64) error {
				return errclass.AsPermanent(errors.New("422 invalid email"))
			}, wantDeliveries: []uint64{1}, wantDLQClass: "permanent", wantReason: "422 invalid email"},
			{name: "retryable gives up after max deliveries", fail: func(uint64) error {
				return errclass.AsRetryable(errors.New("provider down"))
			}, wantDeliveries: []uint64{1, 2, 3, 4, 5}, wantDLQClass: "retryable", wantReason: "gave up after 5 deliveries: provider down"},
			{name: "panic is recovered and retried", fail: func(d uint64) error {
				if d == 1 {
					panic("nil map")
				}
				return nil
			}, wantDeliveries: []uint64{1, 2}},
		}
		conn := connect(t, tg)
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ns := events.Namespace(string(tg.NS) + "c" + string(rune('a'+i)))
				if tg.Embedded == nil {
					bustest.CleanupNamespace(t, tg.URL, ns)
				}
				if err := bus.EnsureStreams(context.Background(), conn.JS, ns, testStreams); err != nil {
					t.Fatal(err)
				}
				rec := newRecorder(func(_ events.Event, d uint64) error { return tc.fail(d) })
				runConsumer(t, conn, ns, deleteUserSpec(ns), testSettings(), rec.handle)
				publish(t, conn, ns, deleteUserEvent("ev-1", "00u1"))
				waitFor(t, "settled", settled(t, conn, ns, "test-sync"))

				got := rec.deliveries("ev-1")
				if len(got) != len(tc.wantDeliveries) {
					t.Fatalf("deliveries = %v, want %v", got, tc.wantDeliveries)
				}
				for i := range got {
					if got[i] != tc.wantDeliveries[i] {
						t.Fatalf("deliveries = %v, want %v", got, tc.wantDeliveries)
					}
				}
				dlq := dlqMessages(t, conn, ns)
				if tc.wantDLQClass == "" {
					if len(dlq) != 0 {
						t.Fatalf("dead letters = %d, want 0", len(dlq))
					}
					return
				}
				if len(dlq) != 1 {
					t.Fatalf("dead letters = %d, want 1", len(dlq))
				}
				h := dlq[0].Header
				checks := map[string]string{
					bus.HeaderDLQClass:     tc.wantDLQClass,
					bus.HeaderDLQReason:    tc.wantReason,
					bus.HeaderDLQConsumer:  "test-sync",
					bus.HeaderDLQSubject:   ns.Subject(mustType(t, events.OktaDeleteUser)),
					bus.HeaderDLQStream:    ns.Stream(bus.StreamEvents),
					bus.HeaderDLQStreamSeq: "1",
					events.HeaderID:        "ev-1",
					events.HeaderType:      events.OktaDeleteUser,
				}
				for k, want := range checks {
					if got := h.Get(k); got != want {
						t.Errorf("DLQ header %s = %q, want %q", k, got, want)
					}
				}
				if dlq[0].Subject != ns.DLQSubject("test-sync") {
					t.Errorf("DLQ subject = %q", dlq[0].Subject)
				}
			})
		}
	})
}

func mustType(t *testing.T, name string) *events.Type {
	t.Helper()
	ty, ok := events.Default().Lookup(name)
	if !ok {
		t.Fatalf("no type %s", name)
	}
	return ty
}

func TestConsumerRedeliveryHonoursRequestedDelay(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		const delay = 400 * time.Millisecond
		rec := newRecorder(func(_ events.Event, d uint64) error {
			if d == 1 {
				return errclass.AsRateLimited(delay, errors.New("429"))
			}
			return nil
		})
		runConsumer(t, conn, tg.NS, deleteUserSpec(tg.NS), testSettings(), rec.handle)
		publish(t, conn, tg.NS, deleteUserEvent("ev-rl", "00u2"))
		waitFor(t, "settled", settled(t, conn, tg.NS, "test-sync"))
		rec.mu.Lock()
		times := rec.times["ev-rl"]
		rec.mu.Unlock()
		if len(times) != 2 {
			t.Fatalf("deliveries = %d, want 2", len(times))
		}
		// A lower bound only: the server must not redeliver before the delay
		// the provider asked for.
		if gap := times[1].Sub(times[0]); gap < delay {
			t.Fatalf("redelivered after %s, before the requested %s", gap, delay)
		}
	})
}

func TestConsumerDeadLettersUndecodableMessages(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		var calls atomic.Int32
		runConsumer(t, conn, tg.NS, deleteUserSpec(tg.NS), testSettings(), func(context.Context, events.Event) error {
			calls.Add(1)
			return nil
		})
		subject := tg.NS.Subject(mustType(t, events.OktaDeleteUser))
		bad := []*nats.Msg{
			{Subject: subject, Data: []byte(`{"uuid": 42}`), Header: nats.Header{"ce-specversion": {"1.0"}, "ce-id": {"bad-json"}}},
			{Subject: subject, Data: []byte(`{}`), Header: nats.Header{"ce-specversion": {"1.0"}}},
			{Subject: subject, Data: []byte(`{}`), Header: nats.Header{"ce-specversion": {"1.0"}, "ce-id": {"wrong-type"}, "ce-type": {"okta.create.user"}}},
			{Subject: subject, Data: []byte(`{}`), Header: nats.Header{"ce-specversion": {"0.3"}, "ce-id": {"old-spec"}}},
		}
		for i, m := range bad {
			m.Header.Set(nats.MsgIdHdr, "bad-"+string(rune('0'+i)))
			if _, err := conn.JS.PublishMsg(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
		publish(t, conn, tg.NS, deleteUserEvent("good", "00u3"))
		waitFor(t, "settled", settled(t, conn, tg.NS, "test-sync"))
		if calls.Load() != 1 {
			t.Fatalf("handler called %d times, want 1 (only the good message)", calls.Load())
		}
		dlq := dlqMessages(t, conn, tg.NS)
		if len(dlq) != len(bad) {
			t.Fatalf("dead letters = %d, want %d", len(dlq), len(bad))
		}
		for _, m := range dlq {
			if m.Header.Get(bus.HeaderDLQClass) != "permanent" || !strings.Contains(m.Header.Get(bus.HeaderDLQReason), "invalid event") {
				t.Errorf("dead letter headers = %v", m.Header)
			}
		}
	})
}

func TestConsumerHeartbeatsKeepSlowMessagesFromRedelivery(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		s := testSettings()
		s.AckWait = time.Second
		rec := newRecorder(func(events.Event, uint64) error {
			time.Sleep(2500 * time.Millisecond) // longer than two ack waits
			return nil
		})
		runConsumer(t, conn, tg.NS, deleteUserSpec(tg.NS), s, rec.handle)
		publish(t, conn, tg.NS, deleteUserEvent("slow", "00u4"))
		waitFor(t, "settled", settled(t, conn, tg.NS, "test-sync"))
		if got := rec.deliveries("slow"); len(got) != 1 {
			t.Fatalf("deliveries = %v, want exactly one", got)
		}
	})
}

// TestConsumerHeartbeatsMessagesWaitingForTheirTurn holds messages about one
// person behind each other for longer than the ack wait: the ones waiting
// are not being handled, and without their own heartbeat JetStream would
// hand them out again (a second replica would act on them beside this one).
func TestConsumerHeartbeatsMessagesWaitingForTheirTurn(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		s := testSettings()
		s.AckWait = time.Second
		rec := newRecorder(func(events.Event, uint64) error {
			time.Sleep(1200 * time.Millisecond) // the third waits 2.4 s, over two ack waits
			return nil
		})
		runConsumer(t, conn, tg.NS, deleteUserSpec(tg.NS), s, rec.handle)
		publish(t, conn, tg.NS, deleteUserEvent("turn-1", "00u5"), deleteUserEvent("turn-2", "00u5"), deleteUserEvent("turn-3", "00u5"))
		waitFor(t, "settled", settled(t, conn, tg.NS, "test-sync"))
		for _, id := range []string{"turn-1", "turn-2", "turn-3"} {
			if got := rec.deliveries(id); len(got) != 1 {
				t.Errorf("%s: deliveries = %v, want exactly one", id, got)
			}
		}
	})
}

func TestConsumerKeepsPerSubjectOrder(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		s := testSettings()
		s.Workers = 8
		var mu sync.Mutex
		order := map[string][]string{}
		runConsumer(t, conn, tg.NS, deleteUserSpec(tg.NS), s, func(_ context.Context, ev events.Event) error {
			time.Sleep(time.Millisecond)
			mu.Lock()
			order[ev.Subject] = append(order[ev.Subject], ev.ID)
			mu.Unlock()
			return nil
		})
		var evs []events.Event
		users := []string{"00ua", "00ub", "00uc", "00ud"}
		for i := range 40 {
			evs = append(evs, deleteUserEvent(ids(40, "o")[i], users[i%len(users)]))
		}
		publish(t, conn, tg.NS, evs...)
		waitFor(t, "settled", settled(t, conn, tg.NS, "test-sync"))
		mu.Lock()
		defer mu.Unlock()
		for _, u := range users {
			got := order[u]
			if len(got) != 10 {
				t.Fatalf("%s handled %d events, want 10", u, len(got))
			}
			for i := 1; i < len(got); i++ {
				if got[i] < got[i-1] {
					t.Fatalf("%s handled out of order: %v", u, got)
				}
			}
		}
	})
}

// TestConsumerDrainLosesNothing cancels a consumer while messages are in
// flight and buffered; a second run must see every message that the first did
// not acknowledge, and nothing acknowledged is seen twice.
func TestConsumerDrainLosesNothing(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		s := testSettings()
		s.Workers = 2
		all := ids(30, "d")
		var evs []events.Event
		for i, id := range all {
			evs = append(evs, deleteUserEvent(id, "00u"+string(rune('a'+i%5))))
		}
		publish(t, conn, tg.NS, evs...)

		var mu sync.Mutex
		acked := map[string]int{}
		started := make(chan struct{}, len(all))
		slow := func(_ context.Context, ev events.Event) error {
			started <- struct{}{}
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			acked[ev.ID]++
			mu.Unlock()
			return nil
		}
		stop := runConsumer(t, conn, tg.NS, deleteUserSpec(tg.NS), s, slow)
		for range 4 {
			<-started
		}
		stop() // drain while messages are in flight and buffered

		mu.Lock()
		first := len(acked)
		mu.Unlock()
		if first == 0 || first == len(all) {
			t.Logf("first run handled %d of %d (the interesting case is in between)", first, len(all))
		}
		runConsumer(t, conn, tg.NS, deleteUserSpec(tg.NS), s, slow)
		waitFor(t, "all handled", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) == len(all)
		})
		waitFor(t, "settled", settled(t, conn, tg.NS, "test-sync"))
		mu.Lock()
		defer mu.Unlock()
		for _, id := range all {
			if acked[id] != 1 {
				t.Errorf("%s handled to completion %d times, want 1", id, acked[id])
			}
		}
	})
}
