package faults

import (
	"context"
	"net"
	"strconv"
	"time"
)

// runLoad sends every delivery in the background; wait blocks until all
// were answered 2xx (or the test's deadline passed).
func (s *system) runLoad(workers int) (wait func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.sender.Run(ctx, s.deliveries, workers, suite.rate)
	}()
	s.t.Cleanup(func() { cancel(); <-done })
	return func() {
		<-done
		// The load ends after any fault: convergence counts from here.
		s.quiet = time.Now()
	}
}

// waitDelivered blocks until that fraction of the deliveries was answered 2xx.
func (s *system) waitDelivered(fraction float64) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := s.sender.WaitOK(ctx, int(fraction*float64(len(s.deliveries)))); err != nil {
		s.t.Fatalf("%.0f%% of the deliveries not answered 2xx in time: %v", fraction*100, err)
	}
}

// faultOver marks the end of the last fault.
func (s *system) faultOver() { s.quiet = time.Now() }

// refused reports whether nothing listens on the gateway's port any more.
func (s *system) refused() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.gwPort), time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// ackPending sums the messages a consumer holds without having settled them.
func (s *system) ackPending(ctx context.Context, stream, durable string) (int, error) {
	c, err := s.js.Consumer(ctx, stream, durable)
	if err != nil {
		return 0, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumAckPending, nil
}
