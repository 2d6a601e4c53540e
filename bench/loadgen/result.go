package loadgen

import (
	"errors"
	"math"
	"slices"
	"time"
)

// Result is what a run measured in its window.
type Result struct {
	// OK counts operations that succeeded; Latencies holds their latencies,
	// sorted. Failed operations are counted but their (often short)
	// latencies are left out so that they cannot flatter the percentiles.
	OK        int64
	Latencies []time.Duration
	// Errors counts operations that failed without an answer (connection
	// refused, timeout); Non2xx counts answers outside 2xx, by status in
	// Statuses.
	Errors, Non2xx int64
	Statuses       map[int]int64
	// Unsent counts open-loop operations scheduled in the window that could
	// not be sent before the deadline: the system fell too far behind.
	Unsent int64
	// LastError is an example failure, for the report's notes.
	LastError string
	// Window is the measured duration; Throughput divides by it.
	Window time.Duration
	// Offered is the open-loop rate asked for (0 for closed-loop).
	Offered float64
	// MaxLag is the open-loop generator's worst delay in handing a request to
	// a sender after its scheduled time (included in the latencies).
	MaxLag time.Duration
}

// Throughput is successful operations per second of the window.
func (r Result) Throughput() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.OK) / r.Window.Seconds()
}

// Quantile returns the latency at q (0 ≤ q ≤ 1) by the nearest-rank method
// on the sorted samples: the smallest latency that at least q of the samples
// do not exceed. Quantile(1) is the maximum; no samples gives 0.
func (r Result) Quantile(q float64) time.Duration { return Quantile(r.Latencies, q) }

// Quantile is the nearest-rank quantile of sorted.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The small tolerance keeps exact ranks exact despite binary fractions
	// (0.99 × 100 must be rank 99, not 100).
	rank := int(math.Ceil(q*float64(n) - 1e-9))
	return sorted[min(max(rank, 1), n)-1]
}

// recorder is one sender's share of a result.
type recorder struct {
	ok, errs, non2xx, unsent int64
	lat                      []time.Duration
	statuses                 map[int]int64
	last                     error
}

func (r *recorder) record(d time.Duration, err error) {
	var se *StatusError
	switch {
	case err == nil:
		r.ok++
		r.lat = append(r.lat, d)
		return
	case errors.As(err, &se):
		r.non2xx++
		if r.statuses == nil {
			r.statuses = map[int]int64{}
		}
		r.statuses[se.Code]++
	default:
		r.errs++
	}
	r.last = err
}

func merge(window time.Duration, recs []recorder) Result {
	res := Result{Window: window}
	n := 0
	for i := range recs {
		n += len(recs[i].lat)
	}
	res.Latencies = make([]time.Duration, 0, n)
	for i := range recs {
		r := &recs[i]
		res.OK += r.ok
		res.Errors += r.errs
		res.Non2xx += r.non2xx
		res.Unsent += r.unsent
		res.Latencies = append(res.Latencies, r.lat...)
		for code, c := range r.statuses {
			if res.Statuses == nil {
				res.Statuses = map[int]int64{}
			}
			res.Statuses[code] += c
		}
		if r.last != nil {
			res.LastError = r.last.Error()
		}
	}
	slices.Sort(res.Latencies)
	return res
}
