package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/faults/internal/natsd"
)

// TestClusterNodeLoss runs on a three-node NATS cluster with R3 streams and
// KV buckets, made by the provision step as in production, and under load kills one node that leads nothing in
// particular, brings it back, then kills the leader of the events stream
// and brings it back. Nothing acknowledged may be lost and everything
// converges.
func TestClusterNodeLoss(t *testing.T) {
	t.Parallel()
	s := newSystem(t, options{items: suite.items, batch: 2, nodes: 3, latency: 10 * time.Millisecond, provision: true})
	s.startAll(1)
	wait := s.runLoad(8)

	s.waitDelivered(0.2)
	leader := s.leader(t)
	var follower *natsd.Server
	for _, n := range s.nats {
		if n.Name != leader.Name {
			follower = n
			break
		}
	}
	follower.Kill()
	s.fault("SIGKILL to %s (a follower of IDSYNC_EVENTS)", follower.Name)
	s.waitDelivered(0.4)
	follower.Start(t)
	follower.WaitReady(t, time.Minute)
	s.fault("%s restarted and current", follower.Name)

	leader = s.leader(t)
	leader.Kill()
	s.fault("SIGKILL to %s (the leader of IDSYNC_EVENTS)", leader.Name)
	s.waitDelivered(0.7)
	s.note("IDSYNC_EVENTS leader after the kill: %s", s.leader(t).Name)
	leader.Start(t)
	leader.WaitReady(t, time.Minute)
	s.fault("%s restarted and current", leader.Name)
	s.faultOver()
	wait()
	converged := s.converge(suite.converge)
	s.finish("3-node cluster, R3: follower then leader killed", fmt.Sprintf("%d people, %d deliveries at %d/s, providers 10ms", suite.items, len(s.deliveries), suite.rate),
		converged, expect{})
}

// leader returns the server leading the events stream (waiting for one to
// be elected).
func (s *system) leader(t *testing.T) *natsd.Server {
	t.Helper()
	var found *natsd.Server
	waitFor(t, time.Minute, "a leader of IDSYNC_EVENTS", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := s.js.Stream(ctx, ns.Stream("EVENTS"))
		if err != nil {
			return false
		}
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil {
			return false
		}
		for _, n := range s.nats {
			if n.Name == info.Cluster.Leader && n.P.Running() {
				found = n
				return true
			}
		}
		return false
	})
	return found
}
