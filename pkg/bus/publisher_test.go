package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
)

func TestPublisherDeduplicatesByEventID(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		p := bus.NewPublisher(conn, tg.NS.Stream(bus.StreamEvents), 5*time.Second, prometheus.NewRegistry())
		encode := func(id string) *nats.Msg {
			m, err := events.Encode(tg.NS, deleteUserEvent(id, "00u1"))
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		first, err := p.Publish(context.Background(), encode("dup-1"))
		if err != nil || first.Duplicate {
			t.Fatalf("first publish: %+v, %v", first, err)
		}
		again, err := p.Publish(context.Background(), encode("dup-1"))
		if err != nil || !again.Duplicate || again.Sequence != first.Sequence {
			t.Fatalf("second publish: %+v, %v (first seq %d)", again, err, first.Sequence)
		}
		// A batch mixing new and known ids stores only the new ones.
		acks, err := p.PublishAll(context.Background(), []*nats.Msg{encode("dup-1"), encode("dup-2"), encode("dup-3"), encode("dup-2")})
		if err != nil {
			t.Fatal(err)
		}
		wantDup := []bool{true, false, false, true}
		for i, a := range acks {
			if a.Duplicate != wantDup[i] {
				t.Errorf("ack %d duplicate = %v, want %v", i, a.Duplicate, wantDup[i])
			}
		}
		s, err := conn.JS.Stream(context.Background(), tg.NS.Stream(bus.StreamEvents))
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 3 {
			t.Fatalf("stream holds %d messages, want 3", info.State.Msgs)
		}
	})
}

func TestPublisherClassifiesFailures(t *testing.T) {
	t.Run("server down is unavailable", func(t *testing.T) {
		srv := bustest.Start(t)
		ns := bustest.Namespace(t)
		conn := connect(t, bustest.Target{URL: srv.URL(), NS: ns})
		p := bus.NewPublisher(conn, ns.Stream(bus.StreamEvents), 2*time.Second, prometheus.NewRegistry())
		srv.Shutdown()
		waitFor(t, "disconnected", func() bool { return !conn.Connected() })
		m, _ := events.Encode(ns, deleteUserEvent("down-1", "00u1"))
		_, err := p.Publish(context.Background(), m)
		assertFailure(t, err, bus.Unavailable)
	})
	t.Run("missing stream is unavailable", func(t *testing.T) {
		srv := bustest.Start(t)
		ns := bustest.Namespace(t)
		conn := connect(t, bustest.Target{URL: srv.URL(), NS: ns})
		if err := conn.JS.DeleteStream(context.Background(), ns.Stream(bus.StreamEvents)); err != nil {
			t.Fatal(err)
		}
		p := bus.NewPublisher(conn, ns.Stream(bus.StreamEvents), 2*time.Second, prometheus.NewRegistry())
		m, _ := events.Encode(ns, deleteUserEvent("gone-1", "00u1"))
		_, err := p.Publish(context.Background(), m)
		assertFailure(t, err, bus.Unavailable)
	})
	t.Run("full stream is full", func(t *testing.T) {
		srv := bustest.Start(t)
		ns := bustest.Namespace(t)
		conn := connect(t, bustest.Target{URL: srv.URL(), NS: ns})
		small := testStreams
		small.MaxBytes = 1 << 20
		if err := bus.EnsureStreams(context.Background(), conn.JS, ns, small); err != nil {
			t.Fatal(err)
		}
		p := bus.NewPublisher(conn, ns.Stream(bus.StreamEvents), 2*time.Second, prometheus.NewRegistry())
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			ev := deleteUserEvent(ids(1000, "full")[i], "00u1")
			m, _ := events.Encode(ns, ev)
			m.Data = append(m.Data[:len(m.Data)-1], []byte(`,"displayMessage":"`+strings.Repeat("x", 8<<10)+`"}`)...)
			_, err = p.Publish(context.Background(), m)
		}
		assertFailure(t, err, bus.Full)
	})
	t.Run("oversized message is too large", func(t *testing.T) {
		srv := bustest.Start(t)
		ns := bustest.Namespace(t)
		conn := connect(t, bustest.Target{URL: srv.URL(), NS: ns})
		p := bus.NewPublisher(conn, ns.Stream(bus.StreamEvents), 2*time.Second, prometheus.NewRegistry())
		m, _ := events.Encode(ns, deleteUserEvent("big-1", "00u1"))
		m.Data = make([]byte, conn.NC.MaxPayload()+1)
		_, err := p.Publish(context.Background(), m)
		assertFailure(t, err, bus.TooLarge)
	})
}

func assertFailure(t *testing.T, err error, want bus.PublishFailure) {
	t.Helper()
	var pe *bus.PublishError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *bus.PublishError", err)
	}
	if pe.Failure != want {
		t.Fatalf("failure = %s (%v), want %s", pe.Failure, pe.Err, want)
	}
}
