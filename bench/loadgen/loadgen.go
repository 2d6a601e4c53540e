// Package loadgen drives a system under test with operations — HTTP
// requests on keep-alive connections, or JetStream publishes — either
// closed-loop (N senders, each sending its next request when the previous
// one is answered: maximum throughput) or open-loop (requests scheduled at a
// fixed rate, each request's latency measured from its scheduled time, so
// that queueing in the generator or the system is counted: free of
// coordinated omission). Latency percentiles are exact, from the sorted
// samples of the measured window.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Op performs one operation; seq is unique across all senders of a run.
// A *StatusError is counted as a non-2xx answer, any other error as an
// error.
type Op func(ctx context.Context, seq uint64) error

// NewOp returns the Op of one sender (sender is 0-based), which may keep
// per-sender state such as a reusable body buffer: a sender's Op is never
// called concurrently.
type NewOp func(sender int) Op

// StatusError is an answer outside 2xx.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("status %d", e.Code) }

// Window is the measured part of a run: after Warmup (operations not
// recorded) come Duration's worth of recorded operations. OnStart and
// OnStop, when set, are called as the window opens and closes, so that
// resource meters cover exactly the measured window.
type Window struct {
	Warmup, Duration time.Duration
	OnStart, OnStop  func()
}

// hooks calls OnStart at from and OnStop at to, unless ctx ends first; it
// returns when both were called or ctx ended.
func (w Window) hooks(ctx context.Context, from, to time.Time) {
	for _, h := range []struct {
		at time.Time
		f  func()
	}{{from, w.OnStart}, {to, w.OnStop}} {
		t := time.NewTimer(time.Until(h.at))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if h.f != nil {
			h.f()
		}
	}
}

func (w Window) validate() error {
	if w.Duration <= 0 || w.Warmup < 0 {
		return errors.New("loadgen: want Duration > 0 and Warmup >= 0")
	}
	return nil
}
