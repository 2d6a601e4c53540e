package faults

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDuringLoad stops every service with SIGTERM in the middle of
// the load — the gateway with a delivery in flight, the consumers with
// provider calls in flight — and starts them again. Every process must exit
// 0, the in-flight delivery must be answered 2xx and stored, the consumers
// must leave no message unsettled, and everything converges after the
// restart.
func TestSIGTERMDuringLoad(t *testing.T) {
	t.Parallel()
	rounds := 1
	if suite.long {
		rounds = 3
	}
	s := newSystem(t, options{items: suite.items, batch: 2, latency: 20 * time.Millisecond,
		// Longer than checkDrained waits: a message still held after the
		// exit can only be one the drain did not settle.
		consumer: map[string]string{"IDSYNC_CONSUMER_ACK_WAIT": "10s"}})
	s.startAll(1)
	// One delivery per round is kept aside and held in flight by hand.
	probes := s.deliveries[len(s.deliveries)-rounds:]
	s.deliveries = s.deliveries[:len(s.deliveries)-rounds]
	s.probes = append(s.probes, probes...)
	wait := s.runLoad(8)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for r, probe := range probes {
		s.waitDelivered(float64(r+1) / float64(rounds+2))
		held, err := s.sender.Hold(ctx, probe)
		if err != nil {
			t.Fatal(err)
		}
		procs := s.all()
		s.fault("round %d: SIGTERM to the gateway (one delivery held in flight), the event log and the %d sync consumers at once, under load", r+1, len(procs)-2)
		for _, p := range procs {
			if err := p.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 30*time.Second, "the gateway to close its listener", s.refused)
		a := held.Release(ctx)
		if a.Status < 200 || a.Status >= 300 {
			t.Errorf("the delivery in flight when the gateway was stopped got %+v, want 2xx", a)
		} else {
			s.extraAcked = append(s.extraAcked, probe.EventIDs...)
			s.note("round %d: the delivery in flight at SIGTERM (its body sent after the listener closed) was answered %d", r+1, a.Status)
		}
		exits := map[string]int{}
		for _, p := range procs {
			code, err := p.Wait(time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			exits[p.Name] = code
			if code != 0 {
				t.Errorf("%s exited %d after SIGTERM, want 0", p.Name, code)
			}
		}
		s.note("round %d: exit codes after SIGTERM: %v", r+1, exits)
		s.checkDrained(ctx, 5*time.Second)
		s.startAll(1)
	}
	s.faultOver()
	wait()
	converged := s.converge(suite.converge)
	s.finish("SIGTERM during load", fmt.Sprintf("%d people, %d deliveries at %d/s, 8 senders, providers 20ms", suite.items, len(s.deliveries)+rounds, suite.rate),
		converged, expect{broken: true})
}

// checkDrained checks that stopped consumers left nothing unsettled: every
// message they had been given was acknowledged (or handed back) before they
// exited. within must be shorter than the ack wait, so that only a
// settlement can bring the count to 0.
func (s *system) checkDrained(ctx context.Context, within time.Duration) {
	s.t.Helper()
	type durable struct{ stream, name string }
	var ds []durable
	for _, name := range syncServices {
		ds = append(ds, durable{"EVENTS", name})
	}
	for _, st := range []string{"EVENTS", "OUTCOMES", "DLQ"} {
		ds = append(ds, durable{st, "eventlog"})
	}
	left := map[string]int{}
	deadline := time.Now().Add(within)
	for {
		clear(left)
		for _, d := range ds {
			n, err := s.ackPending(ctx, ns.Stream(d.stream), d.name)
			if err != nil {
				s.t.Fatalf("consumer %s on %s: %v", d.name, d.stream, err)
			}
			if n > 0 {
				left[d.name+"@"+d.stream] = n
			}
		}
		if len(left) == 0 {
			s.note("after the exits, no consumer held an unsettled message")
			return
		}
		if time.Now().After(deadline) {
			s.t.Errorf("stopped consumers left messages unsettled (redelivered only after the ack wait): %v", left)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
