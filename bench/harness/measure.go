package harness

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/idsync/idsync/bench/jsprobe"
	"github.com/idsync/idsync/bench/loadgen"
	"github.com/idsync/idsync/bench/payload"
	"github.com/idsync/idsync/bench/report"
)

// prefix returns the id prefix of a new scenario: 8 characters, so that
// ids (prefix + 8 digits) are 16 characters, as the body sizes assume.
func (sc *scenarios) prefix() string {
	sc.n++
	return fmt.Sprintf("b%06d-", sc.n%1_000_000)
}

func id(prefix string, seq uint64) string {
	var b [24]byte
	out := append(b[:0], prefix...)
	digits := strconv.AppendUint(nil, seq, 10)
	for range 8 - len(digits) {
		out = append(out, '0')
	}
	return string(append(out, digits...))
}

// http drives the gateway or the relay (key.Target) with deliveries d,
// closed-loop with key.Senders senders, or open-loop as o says.
func (sc *scenarios) http(ctx context.Context, run int, key report.Key, d *payload.Delivery, o *loadgen.Open) error {
	if sc.done[key] {
		return nil
	}
	base, proc := sc.sys.gatewayURL, report.ProcGateway
	if key.Target == report.Relay {
		base, proc = sc.sys.relayURL, report.ProcRelay
	}
	prefix := sc.prefix()
	ts := sc.epoch + int64(sc.n)*100_000_000 // 100,000 s apart: never the same timestamp twice
	conns := key.Senders
	client := loadgen.NewClient(conns)
	defer client.CloseIdleConnections()
	newOp := loadgen.HTTP(client, base+d.Path, func(dst []byte, seq uint64) ([]byte, http.Header) {
		body := d.Append(dst, id(prefix, seq), ts+int64(seq))
		return body, d.Header(body)
	})
	return sc.measure(ctx, run, key, proc, d.Events, newOp, o)
}

// rawSync publishes the single-event delivery of key.Size synchronously
// from key.Senders publishers.
func (sc *scenarios) rawSync(ctx context.Context, run int, key report.Key) error {
	if sc.done[key] {
		return nil
	}
	prefix := sc.prefix()
	body := sc.single[key.Size].Append(nil, id(prefix, 0), 0)
	return sc.measure(ctx, run, key, "", 1, jsprobe.Sync(sc.sys.js, jsprobe.SubjectSync, body, prefix), nil)
}

// measure runs one scenario from empty streams and records its sample.
func (sc *scenarios) measure(ctx context.Context, run int, key report.Key, proc string, events int, newOp loadgen.NewOp, o *loadgen.Open) error {
	if err := sc.sys.emptyStreams(ctx); err != nil {
		return err
	}
	m := sc.sys.meter(proc)
	m.reset()
	if proc != "" && !m.resetOK {
		sc.note("The peak RSS of the %s could not be reset per scenario (/proc/<pid>/clear_refs not writable): it is the peak since the process started.", proc)
	}
	w := loadgen.Window{Warmup: sc.cfg.Warmup, Duration: sc.cfg.Duration, OnStart: m.start, OnStop: m.stop}
	var res loadgen.Result
	var err error
	if o != nil {
		oo := *o
		oo.Window = w
		res, err = oo.Run(ctx, newOp)
	} else {
		res, err = loadgen.Closed{Senders: key.Senders, Window: w}.Run(ctx, newOp)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", report.Describe(key), err)
	}
	if err := sc.sys.alive(); err != nil {
		return err
	}
	s := report.Sample{
		Run: run, Rate: res.Throughput(), Events: events,
		P50: res.Quantile(0.5), P90: res.Quantile(0.9), P99: res.Quantile(0.99), Max: res.Quantile(1),
		OK: res.OK, Errors: res.Errors, Non2xx: res.Non2xx, Unsent: res.Unsent, Statuses: res.Statuses,
		LastError: res.LastError, Offered: res.Offered,
	}
	m.fill(&s, res.OK)
	sc.add(key, s)
	if o != nil {
		sc.note("Open loop, run %d: the generator handed requests to senders at most %s after their scheduled time (this lag is inside the latencies).", run, res.MaxLag.Round(10*time.Microsecond))
	}
	return nil
}

// asyncAndConsume publishes asynchronously for the run's duration, then
// reads back what it stored with a pull consumer.
func (sc *scenarios) asyncAndConsume(ctx context.Context, run int) error {
	if err := sc.sys.emptyStreams(ctx); err != nil {
		return err
	}
	prefix := sc.prefix()
	body := sc.single[1<<10].Append(nil, id(prefix, 0), 0)
	m := sc.sys.meter("")
	m.start()
	ar, err := jsprobe.Async(ctx, sc.sys.nc, jsprobe.SubjectAsync, body, prefix, sc.cfg.AsyncWindow, sc.cfg.Duration)
	m.stop()
	if err != nil {
		return err
	}
	s := report.Sample{Run: run, Rate: float64(ar.Acked) / ar.Elapsed.Seconds(), Events: 1, OK: ar.Acked, Errors: ar.Failed}
	m.fill(&s, ar.Acked)
	sc.add(report.Key{Target: report.RawAsync, Body: report.SingleBody, Size: 1 << 10, Senders: sc.cfg.AsyncWindow}, s)
	if ar.Acked == 0 {
		return nil
	}
	m = sc.sys.meter("")
	m.start()
	took, err := jsprobe.Consume(ctx, sc.sys.js, jsprobe.Stream(streams).Name, jsprobe.SubjectAsync, ar.Acked, 1000)
	m.stop()
	if err != nil {
		return err
	}
	s = report.Sample{Run: run, Rate: float64(ar.Acked) / took.Seconds(), Events: 1, OK: ar.Acked}
	m.fill(&s, ar.Acked)
	sc.add(report.Key{Target: report.RawConsume, Body: report.SingleBody, Size: 1 << 10, Senders: 1}, s)
	return nil
}

// open drives the gateway open-loop at half the highest rate it reached on
// this run's concurrency curve.
func (sc *scenarios) open(ctx context.Context, run int) error {
	var best float64
	for _, c := range sc.cfg.Concurrency {
		for _, s := range sc.res.Samples[report.CurveKey(report.Gateway, c)] {
			if s.Run == run {
				best = max(best, s.Rate)
			}
		}
	}
	if best <= 0 {
		return nil
	}
	key := report.OpenKey(sc.cfg.OpenPool)
	return sc.http(ctx, run, key, sc.single[1<<10], &loadgen.Open{Rate: best / 2, Concurrency: sc.cfg.OpenPool})
}

func (sc *scenarios) add(key report.Key, s report.Sample) {
	sc.done[key] = true
	sc.res.Samples[key] = append(sc.res.Samples[key], s)
	failed := s.Errors + s.Non2xx + s.Unsent
	fmt.Fprintf(sc.progress, "run %d/%d  %-44s %10s/s  p50 %6s ms  p99 %6s ms  failed %d\n",
		s.Run, sc.cfg.Runs, report.Describe(key), report.Num(s.Rate), report.Millis(float64(s.P50.Microseconds())/1e3), report.Millis(float64(s.P99.Microseconds())/1e3), failed)
	if s.LastError != "" && failed > 0 {
		fmt.Fprintf(sc.progress, "        e.g. %s\n", s.LastError)
	}
}
