package loadgen_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idsync/idsync/bench/loadgen"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestQuantile(t *testing.T) {
	t.Parallel()
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(i + 1)
	}
	ten := hundred[:10]
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one sample", []time.Duration{ms(7)}, 0.99, ms(7)},
		{"p50 of 100", hundred, 0.50, ms(50)},
		{"p90 of 100", hundred, 0.90, ms(90)},
		{"p99 of 100", hundred, 0.99, ms(99)},
		{"max of 100", hundred, 1, ms(100)},
		{"min of 100", hundred, 0, ms(1)},
		{"p50 of 10", ten, 0.5, ms(5)},
		{"p90 of 10", ten, 0.9, ms(9)},
		{"p99 of 10 is the max", ten, 0.99, ms(10)},
		{"p50 of 3", []time.Duration{ms(1), ms(2), ms(3)}, 0.5, ms(2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := loadgen.Quantile(tc.sorted, tc.q); got != tc.want {
				t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// server answers 503 to requests marked X-Fail and 200 to the others; while
// gate is open (not closed) every request waits for it.
func server(t *testing.T, gate <-chan struct{}) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gate != nil {
			<-gate
		}
		if r.Header.Get("X-Fail") != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func build(failEvery uint64) loadgen.Build {
	return func(dst []byte, seq uint64) ([]byte, http.Header) {
		h := http.Header{"Content-Type": {"application/json"}}
		if failEvery > 0 && seq%failEvery == 0 {
			h.Set("X-Fail", "1")
		}
		return strconv.AppendUint(append(dst, `{"seq":`...), seq, 10), h
	}
}

func TestClosedCountsAnswers(t *testing.T) {
	t.Parallel()
	srv := server(t, nil)
	var starts, stops int
	c := loadgen.Closed{Senders: 4, Window: loadgen.Window{
		Warmup: ms(20), Duration: ms(150),
		OnStart: func() { starts++ }, OnStop: func() { stops++ },
	}}
	res, err := c.Run(context.Background(), loadgen.HTTP(loadgen.NewClient(4), srv.URL, build(3)))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Non2xx == 0 {
		t.Fatalf("OK = %d, non-2xx = %d: want both", res.OK, res.Non2xx)
	}
	if res.Errors != 0 || res.Statuses[503] != res.Non2xx || len(res.Statuses) != 1 {
		t.Errorf("errors = %d, statuses = %v; want 0 and only 503s", res.Errors, res.Statuses)
	}
	if int64(len(res.Latencies)) != res.OK || !slices.IsSorted(res.Latencies) {
		t.Errorf("%d latencies for %d successes, sorted %v", len(res.Latencies), res.OK, slices.IsSorted(res.Latencies))
	}
	if got, want := res.Throughput(), float64(res.OK)/0.150; got != want {
		t.Errorf("throughput = %v, want %v (successes over the window)", got, want)
	}
	if starts != 1 || stops != 1 {
		t.Errorf("OnStart called %d times, OnStop %d; want 1 each", starts, stops)
	}
}

func TestClosedCountsErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens: every request fails to connect
	c := loadgen.Closed{Senders: 2, Window: loadgen.Window{Duration: ms(50)}}
	res, err := c.Run(context.Background(), loadgen.HTTP(loadgen.NewClient(2), url, build(0)))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 0 || res.Errors == 0 || res.LastError == "" {
		t.Errorf("OK = %d, errors = %d, last error %q; want only errors", res.OK, res.Errors, res.LastError)
	}
}

// An open-loop run whose only sender is stalled for the whole window: every
// request scheduled in it waits until the stall ends, and its latency must
// say so. A closed-loop generator would have sent nothing in the meantime
// and recorded only fast answers (coordinated omission).
func TestOpenCountsQueueing(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	srv := server(t, gate)
	var once sync.Once
	window := ms(100)
	o := loadgen.Open{Rate: 500, Concurrency: 1, Window: loadgen.Window{
		Duration: window,
		OnStop:   func() { once.Do(func() { close(gate) }) },
	}}
	res, err := o.Run(context.Background(), loadgen.HTTP(loadgen.NewClient(1), srv.URL, build(0)))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 50 || res.Unsent != 0 || res.Errors != 0 {
		t.Fatalf("OK = %d, unsent = %d, errors = %d; want the 50 scheduled", res.OK, res.Unsent, res.Errors)
	}
	// The first request was scheduled at the start and answered after the
	// window; half of them were scheduled in its first half.
	if got := res.Quantile(1); got < window {
		t.Errorf("max latency %v, want at least the %v stall", got, window)
	}
	if got := res.Quantile(0.5); got < window/2-ms(2) {
		t.Errorf("median latency %v, want at least about half the %v stall", got, window)
	}
	if res.Offered != 500 {
		t.Errorf("offered = %v, want 500", res.Offered)
	}
}

func TestOpenCountsNon2xx(t *testing.T) {
	t.Parallel()
	srv := server(t, nil)
	o := loadgen.Open{Rate: 400, Concurrency: 4, Window: loadgen.Window{Warmup: ms(20), Duration: ms(100)}}
	res, err := o.Run(context.Background(), loadgen.HTTP(loadgen.NewClient(4), srv.URL, build(2)))
	if err != nil {
		t.Fatal(err)
	}
	if total := res.OK + res.Non2xx + res.Errors + res.Unsent; total != 40 {
		t.Errorf("%d operations recorded, want the 40 scheduled in the window", total)
	}
	if res.Non2xx == 0 || res.Statuses[503] != res.Non2xx {
		t.Errorf("non-2xx = %d, statuses %v", res.Non2xx, res.Statuses)
	}
}

func TestRunsStopWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	op := func(int) loadgen.Op { return func(context.Context, uint64) error { return nil } }
	if _, err := (loadgen.Closed{Senders: 1, Window: loadgen.Window{Duration: time.Hour}}).Run(ctx, op); err == nil {
		t.Error("closed: no error after cancel")
	}
	if _, err := (loadgen.Open{Rate: 10, Concurrency: 1, Window: loadgen.Window{Duration: time.Hour}}).Run(ctx, op); err == nil {
		t.Error("open: no error after cancel")
	}
}
