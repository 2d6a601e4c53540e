package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

func writeHeader(b *strings.Builder, r *Results) {
	h := r.Header
	fmt.Fprintf(b, "# idsync benchmark results\n\n")
	rows := [][]string{
		{"date", h.Date.UTC().Format("2006-01-02 15:04 MST")},
		{"machine", fmt.Sprintf("%d cores, %s, %s RAM, Linux %s", h.Cores, h.CPUModel, h.Memory, h.Kernel)},
		{"Go", h.GoVersion},
		{"nats-server", h.NATSVersion},
		{"commit", h.Commit},
		{"command", "`" + h.Command + "`"},
		{"runs", fmt.Sprintf("%d per scenario, %s measured after %s of warm-up, scenarios interleaved within each run", h.Runs, h.Duration, h.Warmup)},
	}
	for _, n := range []struct{ k, v string }{{"processes", h.ProcessNote}, {"streams", h.StreamNote}, {"gateway", h.GatewayNote}} {
		if n.v != "" {
			rows = append(rows, []string{n.k, n.v})
		}
	}
	for _, r := range rows {
		fmt.Fprintf(b, "- **%s**: %s\n", r[0], r[1])
	}
	b.WriteString("\n")
	b.WriteString("Every figure is the median of the runs with the min–max in parentheses. Ratios are computed within each run (the two sides measured seconds apart on the same server) and then summarised. Latencies are per request (per message for the raw probes), of successful operations only; CPU is per successful operation: the process's user+system time over the measured window divided by the operations in it, `machine` being every core's busy time (so it includes the load generator and anything else running). Peak RSS is each process's VmHWM over the window (reset before it).\n\n")
}

func writeTargets(b *strings.Builder, r *Results) {
	c := r.Curve
	gw, relay, raw := r.Samples[CurveKey(Gateway, c)], r.Samples[CurveKey(Relay, c)], r.Samples[CurveKey(RawSync, c)]
	var rows [][]string
	check := func(name string, s Summary, f func(float64) string, ok func(float64) bool) {
		verdict := "not measured"
		if s.N > 0 {
			verdict = map[bool]string{true: "met", false: "**not met**"}[ok(s.Median)]
		}
		rows = append(rows, []string{name, Cell(s, f), verdict})
	}
	check(fmt.Sprintf("gateway req/s ≥ 1.0 × the naive relay's (single event, %d senders)", c),
		Summarize(Ratio(gw, relay, rate)), Ratio2, func(v float64) bool { return v >= 1.0 })
	check(fmt.Sprintf("gateway req/s ≥ 0.40 × raw sync publish msg/s (%d senders each)", c),
		Summarize(Ratio(gw, raw, rate)), Ratio2, func(v float64) bool { return v >= 0.40 })
	var open []Sample
	for k, s := range r.Samples {
		if k.Open {
			open = s
		}
	}
	check("gateway p99 ≤ 5 ms, open-loop at half its maximum rate (ms)", Of(open, p99), Millis, func(v float64) bool { return v <= 5 })
	check("gateway peak RSS ≤ 64 MiB at maximum load (MiB, largest over the concurrency curve)",
		Summarize(peakPerRun(r, Gateway)), Num, func(v float64) bool { return v <= 64 })
	allocRow := []string{fmt.Sprintf("allocations per request reported (gateway process, %d senders)", c), Cell(Of(gw, allocs), Num) + " allocs, " + Cell(Of(gw, allocKiB), Num) + " KiB", "reported"}
	rows = append(rows, allocRow)
	b.WriteString("## Targets\n\n")
	table(b, []string{"target (issue 6)", "measured", "verdict"}, rows)
}

// peakPerRun is, per run, the largest peak RSS (MiB) of proc over the
// single-event concurrency curve.
func peakPerRun(r *Results, proc string) []float64 {
	peak := map[int]float64{}
	target := map[string]string{ProcGateway: Gateway, ProcRelay: Relay}[proc]
	for _, c := range r.Concurrency {
		for _, s := range r.Samples[CurveKey(target, c)] {
			if v := rss(proc)(s); !math.IsNaN(v) {
				peak[s.Run] = max(peak[s.Run], v)
			}
		}
	}
	return slices.Collect(maps.Values(peak))
}
