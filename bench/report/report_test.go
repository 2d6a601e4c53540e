package report_test

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/idsync/idsync/bench/gobench"
	"github.com/idsync/idsync/bench/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestSummarize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []float64
		want report.Summary
	}{
		{"empty", nil, report.Summary{}},
		{"one", []float64{3}, report.Summary{Median: 3, Min: 3, Max: 3, N: 1}},
		{"odd count, unsorted", []float64{5, 1, 4, 2, 3}, report.Summary{Median: 3, Min: 1, Max: 5, N: 5}},
		{"even count: mean of the middle two", []float64{10, 40, 20, 30}, report.Summary{Median: 25, Min: 10, Max: 40, N: 4}},
		{"NaN left out", []float64{math.NaN(), 2, 8, math.NaN(), 5}, report.Summary{Median: 5, Min: 2, Max: 8, N: 3}},
		{"only NaN", []float64{math.NaN()}, report.Summary{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := report.Summarize(tc.in); got != tc.want {
				t.Errorf("= %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	t.Parallel()
	rate := func(s report.Sample) float64 { return s.Rate }
	runs := func(rates ...float64) []report.Sample {
		var out []report.Sample
		for i, r := range rates {
			if r >= 0 {
				out = append(out, report.Sample{Run: i + 1, Rate: r})
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		num, den []report.Sample
		want     []float64
	}{
		{"paired by run", runs(10, 20, 30), runs(20, 20, 60), []float64{0.5, 1, 0.5}},
		{"a run missing on one side is left out", runs(10, -1, 30), runs(20, 20, -1), []float64{0.5}},
		{"a zero denominator is left out", runs(10, 20), runs(0, 40), []float64{0.5}},
		{"nothing to pair", runs(10), nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := report.Ratio(tc.num, tc.den, rate); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("= %v, want %v", got, tc.want)
			}
		})
	}
	// The ratio of medians is not the median of ratios: a run where both
	// sides were slow does not skew the ratio.
	gw, raw := runs(100, 50, 100), runs(200, 100, 180)
	if got := report.Summarize(report.Ratio(gw, raw, rate)).Median; got != 0.5 {
		t.Errorf("median ratio %v, want 0.5", got)
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{report.Num(43210.4), "43,210"},
		{report.Num(1234567), "1,234,567"},
		{report.Num(237.4), "237"},
		{report.Num(42.25), "42.2"},
		{report.Num(3.14159), "3.14"},
		{report.Num(math.NaN()), "—"},
		{report.Millis(0.41234), "0.412"},
		{report.Millis(4.1234), "4.12"},
		{report.Millis(41.234), "41.2"},
		{report.Millis(4123.4), "4,123"},
		{report.Ratio2(0.4049), "0.40"},
		{report.Cell(report.Summary{}, report.Num), "—"},
		{report.Cell(report.Summary{Median: 14000, Min: 13500, Max: 14800, N: 5}, report.Num), "14,000 (13,500–14,800)"},
		{report.Cell(report.Summary{Median: 14000, Min: 14000, Max: 14000, N: 1}, report.Num), "14,000"},
		{report.Cell(report.Summary{Median: 1.004, Min: 1.001, Max: 1.003, N: 3}, report.Ratio2), "1.00"},
		{report.Bytes(1 << 20), "1 MiB"},
		{report.Bytes(1000), "1000 B"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func sample(run int, rate float64, p99 time.Duration, rss int64) report.Sample {
	return report.Sample{
		Run: run, Rate: rate, Events: 1, P50: p99 / 4, P90: p99 / 2, P99: p99, Max: 2 * p99, OK: int64(rate * 3),
		CPU:     map[string]time.Duration{report.ProcGateway: 70 * time.Microsecond, report.ProcNATS: 30 * time.Microsecond, report.ProcMachine: 140 * time.Microsecond, report.ProcRelay: 40 * time.Microsecond},
		PeakRSS: map[string]int64{report.ProcGateway: rss, report.ProcRelay: rss / 2},
		Allocs:  600, AllocBytes: 55 << 10,
	}
}

// A fixed set of results rendered to testdata/report.golden.md; run with
// -update after an intended change and read the diff.
func TestWriteGolden(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	r := &report.Results{
		Header: report.Header{
			Date: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Cores: 2, CPUModel: "AMD EPYC", Memory: "23.5 GiB", Kernel: "6.18.44",
			GoVersion: "go1.26.8", NATSVersion: "2.15.2", Commit: "abc1234", Command: "idsync-bench -runs 3",
			Runs: 3, Duration: 3 * time.Second, Warmup: 500 * ms,
		},
		Concurrency: []int{1, 64}, Sizes: []int{1 << 10, 16 << 10, 2 << 20}, Curve: 64, MaxBody: 1 << 20, AsyncWindow: 500,
		Samples: map[report.Key][]report.Sample{},
	}
	add := func(k report.Key, rates ...float64) {
		for i, rt := range rates {
			r.Samples[k] = append(r.Samples[k], sample(i+1, rt, 2*ms, 40<<20))
		}
	}
	add(report.CurveKey(report.RawSync, 1), 6000, 6200, 5900)
	add(report.CurveKey(report.RawSync, 64), 43000, 42000, 44000)
	add(report.CurveKey(report.Relay, 1), 2000, 2100, 1900)
	add(report.CurveKey(report.Relay, 64), 14000, 14500, 13500)
	add(report.CurveKey(report.Gateway, 1), 1800, 1900, 1700)
	add(report.CurveKey(report.Gateway, 64), 17200, 17000, 17800)
	addNoLatency := func(k report.Key, rates ...float64) {
		add(k, rates...)
		for i := range r.Samples[k] {
			s := &r.Samples[k][i]
			s.P50, s.P90, s.P99, s.Max = 0, 0, 0, 0
		}
	}
	addNoLatency(report.Key{Target: report.RawAsync, Body: "okta-1", Size: 1 << 10, Senders: 500}, 60000, 61000, 59000)
	addNoLatency(report.Key{Target: report.RawConsume, Body: "okta-1", Size: 1 << 10, Senders: 1}, 85000, 84000, 86000)
	add(report.SizeKey(report.RawSync, 64, 16<<10), 20000, 21000, 19000)
	add(report.SizeKey(report.Relay, 64, 16<<10), 9000, 9100, 8900)
	add(report.SizeKey(report.Gateway, 64, 16<<10), 8000, 8100, 7900)
	add(report.Key{Target: report.Gateway, Body: "okta-20", Senders: 64}, 900, 910, 890)
	add(report.Key{Target: report.Gateway, Body: "console/user_added", Senders: 64}, 16000, 16100, 15900)
	add(report.OpenKey(256), 8600, 8600, 8600)
	for i := range r.Samples[report.OpenKey(256)] {
		s := &r.Samples[report.OpenKey(256)][i]
		s.Offered, s.P99 = 8600, 4*ms
	}
	bad := &r.Samples[report.CurveKey(report.Gateway, 64)][1]
	bad.Non2xx, bad.Statuses, bad.LastError = 3, map[int]int64{503: 3}, "status 503"
	for i := range r.Samples[report.Key{Target: report.Gateway, Body: "okta-20", Senders: 64}] {
		r.Samples[report.Key{Target: report.Gateway, Body: "okta-20", Senders: 64}][i].Events = 20
	}
	r.Allocs = &report.GoBench{Title: "The gateway's in-process handler benchmarks.", Dir: "services/gateway", Command: "go test -run '^$' -bench . -benchmem ./services/gateway/",
		Benchmarks: []gobench.Benchmark{{Name: "BenchmarkOktaSingleEvent", Units: []string{"ns/op", "B/op", "allocs/op"},
			Metrics: map[string][]float64{"ns/op": {165000, 170000, 160000}, "B/op": {55296, 55296, 55300}, "allocs/op": {607, 607, 607}}}}}
	r.Consumers = []report.GoBench{
		{Title: "gitlab-sync", Dir: "services/gitlab-sync", Command: "go test -run '^$' -bench Throughput -benchtime 1000x -count 3 .",
			Benchmarks: []gobench.Benchmark{{Name: "BenchmarkThroughput/latency=50ms", Units: []string{"ns/op", "events/s"},
				Metrics: map[string][]float64{"ns/op": {1, 2, 3}, "events/s": {390, 385, 392}}}}},
		{Title: "end to end", Dir: "services/idsync", Command: "go test …", Err: "exit status 1\nFAIL"},
	}
	r.Notes = []string{"a note"}
	var buf bytes.Buffer
	if err := report.Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden.md")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("report differs from %s (run with -update and read the diff):\n%s", golden, buf.String())
	}
}
