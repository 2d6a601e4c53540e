package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

var testStreams = bus.StreamConfig{
	Replicas: 1, MaxAge: time.Hour, MaxBytes: 4 << 20, Duplicates: time.Minute, DLQMaxAge: time.Hour,
}

func testSettings() bus.Settings {
	return bus.Settings{
		Workers: 4, MaxAckPending: 64, AckWait: 5 * time.Second, MaxDeliver: 5,
		BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		DrainTimeout: 10 * time.Second, LagInterval: time.Second,
	}
}

// connect dials tg and creates the namespace's streams.
func connect(t *testing.T, tg bustest.Target) *bus.Conn {
	t.Helper()
	conn, err := bus.Connect(bus.ConnConfig{URL: tg.URL}, "test", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.NC.Close)
	waitFor(t, "connected", conn.Connected)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bus.EnsureStreams(ctx, conn.JS, tg.NS, testStreams); err != nil {
		t.Fatal(err)
	}
	return conn
}

// deleteUserEvent builds an okta.delete.user event for user.
func deleteUserEvent(id, user string) events.Event {
	t, _ := events.Default().Lookup(events.OktaDeleteUser)
	return events.Event{
		ID: id, Type: t, Source: "urn:test", Subject: user, Time: time.Now(),
		Payload: &eventsv1.OktaUserLifecycle{
			Uuid: id, EventType: events.OktaUserDeleteInitiated, Published: timestamppb.Now(),
			User: &eventsv1.OktaUser{Id: user, Login: user + "@example.com"},
		},
	}
}

func publish(t *testing.T, conn *bus.Conn, ns events.Namespace, evs ...events.Event) {
	t.Helper()
	p := bus.NewPublisher(conn, ns.Stream(bus.StreamEvents), 5*time.Second, prometheus.NewRegistry())
	for _, ev := range evs {
		m, err := events.Encode(ns, ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Publish(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func deleteUserSpec(ns events.Namespace) bus.ConsumerSpec {
	t, _ := events.Default().Lookup(events.OktaDeleteUser)
	return bus.ConsumerSpec{Durable: "test-sync", Stream: bus.StreamEvents, FilterSubjects: []string{ns.Subject(t)}}
}

// runConsumer starts a consumer and returns a stop function that cancels it
// and waits for Run to return.
func runConsumer(t *testing.T, conn *bus.Conn, ns events.Namespace, spec bus.ConsumerSpec, s bus.Settings, h bus.Handler) (stop func()) {
	t.Helper()
	return runConsumerIn(context.Background(), t, conn, ns, spec, s, h)
}

// runConsumerIn is runConsumer with Run's context derived from base (which
// may carry a tracer provider).
func runConsumerIn(base context.Context, t *testing.T, conn *bus.Conn, ns events.Namespace, spec bus.ConsumerSpec, s bus.Settings, h bus.Handler) (stop func()) {
	t.Helper()
	c, err := bus.NewConsumer(conn, ns, events.Default(), spec, s, h, logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(base)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	// Run creates the durable consumer; tests poll it, so wait for it.
	waitFor(t, "consumer created", func() bool {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		defer ccancel()
		_, err := conn.JS.Consumer(cctx, ns.Stream(bus.StreamEvents), spec.Durable)
		return err == nil
	})
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("consumer did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

func consumerInfo(t *testing.T, conn *bus.Conn, ns events.Namespace, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := conn.JS.Consumer(ctx, ns.Stream(bus.StreamEvents), durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// settled reports whether the consumer has settled every message of the
// events stream (every test message matches its filter): nothing pending,
// nothing in flight, and the ack floor at the stream's last message — right
// after a publish, or while a message waits for a delayed redelivery, the
// counts alone can read zero.
func settled(t *testing.T, conn *bus.Conn, ns events.Namespace, durable string) func() bool {
	return func() bool {
		info := consumerInfo(t, conn, ns, durable)
		s, err := conn.JS.Stream(context.Background(), ns.Stream(bus.StreamEvents))
		if err != nil {
			t.Fatal(err)
		}
		si, err := s.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream >= si.State.LastSeq
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dlqMessages reads every message of the namespace's DLQ stream.
func dlqMessages(t *testing.T, conn *bus.Conn, ns events.Namespace) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := conn.JS.Stream(ctx, ns.Stream(bus.StreamDLQ))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get dlq %d: %v", seq, err)
		}
		out = append(out, m)
	}
	return out
}

func ids(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}
