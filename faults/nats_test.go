package faults

import (
	"fmt"
	"testing"
	"time"
)

// TestNATSRestart stops the NATS server (standalone, file store) under load
// — with SIGKILL, and with SIGTERM — and starts it again on the same port
// and store. While it is down the gateway must answer 503 (never 2xx for
// what it could not store); afterwards every event answered 2xx is in the
// stream once and the consumers resume where they were.
func TestNATSRestart(t *testing.T) {
	t.Parallel()
	signals := []string{"SIGKILL"}
	if suite.long {
		// After a SIGTERM the server may have handed the event log a
		// batch it never received; those come back after the event log's
		// fixed one-minute ack wait, which the short form cannot afford.
		signals = append(signals, "SIGTERM")
	}
	for _, sig := range signals {
		t.Run(sig, func(t *testing.T) {
			s := newSystem(t, options{items: suite.items, batch: 2, latency: 10 * time.Millisecond})
			s.startAll(1)
			wait := s.runLoad(8)
			s.waitDelivered(0.3)
			n := s.nats[0]
			down := time.Now()
			if sig == "SIGKILL" {
				n.Kill()
			} else {
				n.Term(t)
			}
			s.fault("%s to nats-server under load, restarted on the same port and store once the gateway has answered 503 five times", sig)
			refused := s.sender.Answered(503)
			waitFor(t, time.Minute, "the gateway to answer 503 while NATS is down", func() bool { return s.sender.Answered(503) >= refused+5 })
			n.Start(t)
			n.WaitReady(t, time.Minute)
			s.note("NATS down for %s", time.Since(down).Round(10*time.Millisecond))
			s.faultOver()
			wait()
			converged := s.converge(suite.converge)
			s.finish("NATS "+sig+" and restart", fmt.Sprintf("%d people, %d deliveries at %d/s, providers 10ms", suite.items, len(s.deliveries), suite.rate),
				converged, expect{})
		})
	}
}
