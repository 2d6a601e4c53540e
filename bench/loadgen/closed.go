package loadgen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Closed is a closed-loop run: Senders senders, each sending its next
// operation as soon as the previous one finished, for Window.Warmup +
// Window.Duration. Operations started in the window are recorded.
type Closed struct {
	Senders int
	Window
}

// Run drives the operations and returns what the window measured. It
// returns ctx's error if ctx ends first.
func (c Closed) Run(ctx context.Context, newOp NewOp) (Result, error) {
	if c.Senders < 1 {
		return Result{}, errors.New("loadgen: want at least 1 sender")
	}
	if err := c.validate(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	from, to := start.Add(c.Warmup), start.Add(c.Warmup+c.Duration)
	hctx, stopHooks := context.WithCancel(ctx)
	defer stopHooks()
	hooksDone := make(chan struct{})
	go func() { defer close(hooksDone); c.hooks(hctx, from, to) }()

	var seq atomic.Uint64
	recs := make([]recorder, c.Senders)
	var wg sync.WaitGroup
	for i := range c.Senders {
		op, r := newOp(i), &recs[i]
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(to) {
					return
				}
				err := op(ctx, seq.Add(1))
				if !t0.Before(from) && ctx.Err() == nil {
					r.record(time.Since(t0), err)
				}
			}
		})
	}
	wg.Wait()
	<-hooksDone
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	return merge(c.Duration, recs), nil
}
