package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/faults/internal/ledger"
	"github.com/idsync/idsync/faults/internal/load"
	"github.com/idsync/idsync/faults/internal/natsd"
)

// TestStoreFull fills JetStream with only the gateway running — through the
// stream's own limit (IDSYNC_STREAM_MAX_BYTES) and through the server's
// store limit (max_file_store, a full disk) — until the gateway refuses.
// While full it must answer 503 bus_full with Retry-After, never 2xx for an
// event it could not store. Then the operator makes room (raises the limit
// and restarts what reads it), the senders' retries are stored, and the
// consumers, started only now, converge.
func TestStoreFull(t *testing.T) {
	t.Parallel()
	t.Run("stream max bytes", func(t *testing.T) {
		s := newSystem(t, options{items: suite.items, batch: 2, pad: 16 << 10,
			env: map[string]string{"IDSYNC_STREAM_MAX_BYTES": "1MiB"}})
		s.spawnGateway()
		s.waitGateway()
		wait := s.runLoad(8)
		s.fault("IDSYNC_STREAM_MAX_BYTES=1MiB on every stream; Okta events padded to 16KiB; only the gateway running")
		s.waitFull()
		s.fault("the operator raises IDSYNC_STREAM_MAX_BYTES to 64MiB and restarts the gateway (SIGTERM), then starts the consumers and the event log")
		s.opts.env["IDSYNC_STREAM_MAX_BYTES"] = "64MiB"
		if code := s.term(s.gateway); code != 0 {
			t.Errorf("gateway exited %d after SIGTERM", code)
		}
		s.startServices(1)
		s.faultOver()
		wait()
		converged := s.converge(suite.converge)
		s.finish("stream full (IDSYNC_STREAM_MAX_BYTES)", s.storeLoad(), converged, expect{broken: true})
	})
	t.Run("server store full", func(t *testing.T) {
		s := newSystem(t, options{items: suite.items, batch: 2, pad: 16 << 10, nats: natsd.Options{MaxFileStore: 2 << 20},
			env: map[string]string{"IDSYNC_STREAM_MAX_BYTES": "0"}})
		s.spawnGateway()
		s.waitGateway()
		wait := s.runLoad(8)
		s.fault("nats-server max_file_store=2MiB (a full disk); streams unlimited; Okta events padded to 16KiB; only the gateway running")
		s.waitFull()
		s.fault("the operator makes room: nats-server restarted (SIGTERM) with max_file_store=1GiB; then the consumers and the event log start")
		n := s.nats[0]
		n.Term(t)
		n.SetOptions(natsd.Options{MaxFileStore: 1 << 30})
		n.Start(t)
		n.WaitReady(t, time.Minute)
		s.startServices(1)
		s.faultOver()
		wait()
		converged := s.converge(suite.converge)
		s.finish("server store full (max_file_store)", s.storeLoad(), converged, expect{})
	})
}

func (s *system) storeLoad() string {
	return fmt.Sprintf("%d people, %d deliveries at %d/s (Okta events padded to 16KiB, 2 per delivery)", suite.items, len(s.deliveries), suite.rate)
}

// waitFull waits until the gateway has refused 10 times because the store
// is full, then checks the stream there and then: every event answered
// 2xx so far is stored.
func (s *system) waitFull() {
	s.t.Helper()
	waitFor(s.t, 2*time.Minute, "the gateway to answer 503 bus_full ten times", func() bool {
		return load.Summarize(s.sender.Results()).Rejected["bus_full"] >= 10
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := s.sender.Results()
	evs, err := ledger.ReadStream(ctx, s.js, ns.Stream("EVENTS"))
	if err != nil {
		s.t.Fatal(err)
	}
	acked := load.OKEventIDs(results)
	er := ledger.CheckEvents(evs, acked, s.sentIDs())
	if len(er.Missing) > 0 || len(er.Duplicates) > 0 {
		s.t.Errorf("while full: %d events answered 2xx are not stored %v, %d stored twice", len(er.Missing), first(er.Missing, 5), len(er.Duplicates))
	}
	st := load.Summarize(results)
	s.note("while full: %d events stored, %d answered 2xx, %d answers 503 bus_full, every 2xx stored", er.Unique(), len(acked), st.Rejected["bus_full"])
}
