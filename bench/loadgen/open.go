package loadgen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Open is an open-loop run: operations are scheduled at Rate per second
// whatever the system does, and handed to at most Concurrency senders (an
// HTTP client's connection pool); when all are busy, scheduled operations
// queue. Each latency runs from the scheduled time to the answer, so time
// spent queueing counts: a stall shows up in the percentiles rather than
// silently lowering the rate.
type Open struct {
	Rate        float64
	Concurrency int
	// Grace is how long after the window queued operations may still be sent
	// and answered; later ones are counted as Unsent. Default: the larger of
	// Duration and 5s.
	Grace time.Duration
	Window
}

type job struct {
	at       time.Time
	recorded bool
}

// Run drives the operations and returns what the window measured. It
// returns ctx's error if ctx ends first.
func (o Open) Run(ctx context.Context, newOp NewOp) (Result, error) {
	if o.Rate <= 0 || o.Concurrency < 1 {
		return Result{}, errors.New("loadgen: want Rate > 0 and Concurrency >= 1")
	}
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	grace := o.Grace
	if grace <= 0 {
		grace = max(o.Duration, 5*time.Second)
	}
	start := time.Now()
	from, to := start.Add(o.Warmup), start.Add(o.Warmup+o.Duration)
	dctx, cancel := context.WithDeadline(ctx, to.Add(grace))
	defer cancel()
	hooksDone := make(chan struct{})
	go func() { defer close(hooksDone); o.hooks(dctx, from, to) }()

	jobs := make(chan job, 4*o.Concurrency)
	var seq atomic.Uint64
	recs := make([]recorder, o.Concurrency+1) // the last one is the dispatcher's
	var wg sync.WaitGroup
	for i := range o.Concurrency {
		op, r := newOp(i), &recs[i]
		wg.Go(func() {
			for j := range jobs {
				if dctx.Err() != nil {
					if j.recorded {
						r.unsent++
					}
					continue
				}
				err := op(dctx, seq.Add(1))
				if j.recorded {
					if dctx.Err() != nil && err != nil {
						r.unsent++ // cut off by the deadline, not failed by the system
						continue
					}
					r.record(time.Since(j.at), err)
				}
			}
		})
	}
	total := int64((o.Warmup + o.Duration).Seconds() * o.Rate)
	scheduled := func(i int64) job {
		at := start.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))
		return job{at: at, recorded: !at.Before(from) && at.Before(to)}
	}
	var maxLag time.Duration
	dispatcher := &recs[o.Concurrency]
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	for i := int64(0); i < total; i++ {
		j := scheduled(i)
		if d := time.Until(j.at); d > 0 {
			wait.Reset(d)
			select {
			case <-wait.C:
			case <-dctx.Done():
			}
		}
		if dctx.Err() == nil {
			select {
			case jobs <- j:
				maxLag = max(maxLag, time.Since(j.at))
				continue
			case <-dctx.Done():
			}
		}
		for ; i < total; i++ { // the deadline passed: the rest is never sent
			if scheduled(i).recorded {
				dispatcher.unsent++
			}
		}
	}
	close(jobs)
	wg.Wait()
	<-hooksDone
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	res := merge(o.Duration, recs)
	res.Offered, res.MaxLag = o.Rate, maxLag
	return res, nil
}
