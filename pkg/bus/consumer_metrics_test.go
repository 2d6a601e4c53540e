package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// TestConsumerReportsDLQDepth dead-letters two events and expects the
// consumer's dlq_messages gauge to count them from the DLQ stream.
func TestConsumerReportsDLQDepth(t *testing.T) {
	bustest.Each(t, func(t *testing.T, tg bustest.Target) {
		conn := connect(t, tg)
		reg := prometheus.NewRegistry()
		s := testSettings()
		s.LagInterval = time.Second
		h := func(context.Context, events.Event) error { return errclass.AsPermanent(errors.New("422 invalid")) }
		c, err := bus.NewConsumer(conn, tg.NS, events.Default(), deleteUserSpec(tg.NS), s, h, logging.Discard(), reg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })

		if got, ok := gaugeValue(t, reg, "idsync_consumer_dlq_messages", "test-sync"); !ok || got != 0 {
			t.Fatalf("dlq_messages before any dead letter = %v (present %v), want 0", got, ok)
		}
		publish(t, conn, tg.NS, deleteUserEvent("ev-d1", "00u1"), deleteUserEvent("ev-d2", "00u2"))
		waitFor(t, "dlq_messages = 2", func() bool {
			got, _ := gaugeValue(t, reg, "idsync_consumer_dlq_messages", "test-sync")
			return got == 2
		})
	})
}

// gaugeValue reads the gauge name{consumer=consumer} from reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name, consumer string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "consumer" && l.GetValue() == consumer {
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
