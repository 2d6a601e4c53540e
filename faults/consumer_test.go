package faults

import (
	"fmt"
	"testing"
	"time"
)

// TestConsumerKilledMidBatch kills gitlab-sync and github-sync with SIGKILL
// while they hold messages (provider calls in flight), and in the long form
// the event log too (a batch not yet committed), and starts them again: the
// messages they held come back after the ack wait and are handled once in
// effect; the event log stores each record once. The event log's ack wait
// is a fixed minute (eventlog.Settings.Batch), so its part is left to the
// long form.
func TestConsumerKilledMidBatch(t *testing.T) {
	t.Parallel()
	rounds, killEventlog := 1, false
	if suite.long {
		rounds, killEventlog = 3, true
	}
	s := newSystem(t, options{items: suite.items, batch: 2, latency: 50 * time.Millisecond})
	s.startAll(1)
	wait := s.runLoad(8)
	for r := range rounds {
		s.waitDelivered(float64(r+1) / float64(rounds+2))
		victims := []string{"gitlab-sync", "github-sync"}
		for _, name := range victims {
			s.consumers[name][0].Kill()
		}
		if killEventlog {
			s.eventlog.Kill()
			s.fault("SIGKILL to gitlab-sync, github-sync and the event log mid-batch (round %d)", r+1)
		} else {
			s.fault("SIGKILL to gitlab-sync and github-sync with provider calls in flight (round %d)", r+1)
		}
		for _, name := range victims {
			s.waitConsumer(s.spawnConsumer(name, 0))
		}
		if killEventlog {
			s.spawnEventlog()
			s.waitEventlog()
		}
	}
	s.faultOver()
	wait()
	converged := s.converge(suite.converge)
	s.finish("consumer SIGKILL mid-batch", fmt.Sprintf("%d people, %d deliveries at %d/s, providers 50ms; ack wait 3s", suite.items, len(s.deliveries), suite.rate),
		converged, expect{})
}

// TestReplicasAndRollingRestart runs two replicas of every sync consumer on
// the same durable consumers — each event must still take effect once —
// and restarts them one after the other under load (SIGTERM, exit 0,
// start, then the other replica).
func TestReplicasAndRollingRestart(t *testing.T) {
	t.Parallel()
	s := newSystem(t, options{items: suite.items, batch: 2, latency: 20 * time.Millisecond,
		// The default ack wait, not the suite's 3 s: a message a replica has
		// prefetched gets no progress heartbeat until a worker takes it, and
		// once it has waited longer than the ack wait it is redelivered to
		// the other replica while the first still holds it; both may then
		// act (see RELIABILITY.md, findings).
		consumer: map[string]string{"IDSYNC_CONSUMER_ACK_WAIT": "30s"}})
	s.startAll(2)
	wait := s.runLoad(8)
	s.waitDelivered(0.25)
	// The short form rolls two of the four services (a restart of a
	// race-instrumented binary on a shared two-core machine takes seconds).
	rolled := syncServices
	if !suite.long {
		rolled = []string{"gitlab-sync", "github-sync"}
	}
	s.fault("rolling restart of both replicas of %v (SIGTERM, wait for exit 0, start, next)", rolled)
	exits := map[string]int{}
	for slot := range 2 {
		for _, name := range rolled {
			p := s.consumers[name][slot]
			code := s.term(p)
			exits[p.Name] = code
			if code != 0 {
				t.Errorf("%s exited %d after SIGTERM, want 0", p.Name, code)
			}
			s.waitConsumer(s.spawnConsumer(name, slot))
		}
	}
	s.note("exit codes in the rolling restart: %v", exits)
	s.faultOver()
	wait()
	converged := s.converge(suite.converge)
	s.finish("two replicas, rolling restart", fmt.Sprintf("%d people, %d deliveries at %d/s, providers 20ms; 2 replicas of each sync consumer", suite.items, len(s.deliveries), suite.rate),
		converged, expect{})
}
