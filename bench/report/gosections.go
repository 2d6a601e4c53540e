package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

func writeGoBench(b *strings.Builder, r *Results) {
	if r.Allocs != nil {
		b.WriteString("## 6. Allocations per request (Go benchmark)\n\n")
		fmt.Fprintf(b, "%s Command: `%s` (in `%s`). The gateway tables above give the same figure measured in the running gateway process (`go_memstats_mallocs_total` and `go_memstats_alloc_bytes_total` from its `/metrics` over the window, divided by the requests), which adds the HTTP server's and the NATS client's share.\n\n", r.Allocs.Title, r.Allocs.Command, r.Allocs.Dir)
		var rows [][]string
		for _, bm := range r.Allocs.Benchmarks {
			rows = append(rows, []string{"`" + bm.Name + "`", Cell(Summarize(bm.Metrics["ns/op"]), func(v float64) string { return Num(v / 1e3) }),
				Cell(Summarize(bm.Metrics["B/op"]), func(v float64) string { return Num(v / 1024) }), Cell(Summarize(bm.Metrics["allocs/op"]), Num)})
		}
		table(b, []string{"benchmark", "µs/op", "KiB/op", "allocs/op"}, rows)
		if r.Allocs.Err != "" {
			fmt.Fprintf(b, "The command failed: %s\n\n", oneLine(r.Allocs.Err))
		}
	}
	if len(r.Consumers) == 0 {
		return
	}
	b.WriteString("## 7. Consumers and end to end (Go benchmarks)\n\nThe repository's own benchmarks, run by the harness with `-count` equal to its runs: one replica of each sync consumer (the consumer runtime's production settings) against its provider's fake with no latency and with 50 ms per call, the event log's store writes, and the whole all-in-one from an Okta delivery to the GitLab call it causes (p50/p99/max of \"gateway request sent → provider answered\", an upper bound of \"gateway 2xx → provider call\").\n\n")
	var rows [][]string
	for _, g := range r.Consumers {
		for _, bm := range g.Benchmarks {
			for _, u := range bm.Units {
				if u == "ns/op" || u == "B/op" || u == "allocs/op" {
					continue
				}
				f := Num
				if strings.Contains(u, "ms") {
					f = Millis
				}
				rows = append(rows, []string{g.Title, "`" + bm.Name + "`", u, Cell(Summarize(bm.Metrics[u]), f)})
			}
		}
		if g.Err != "" {
			rows = append(rows, []string{g.Title, "—", "failed", oneLine(g.Err)})
		}
	}
	table(b, []string{"what", "benchmark", "metric", "value"}, rows)
	b.WriteString("Commands:\n\n")
	for _, g := range r.Consumers {
		fmt.Fprintf(b, "- %s: `cd %s && %s`\n", g.Title, g.Dir, g.Command)
	}
	b.WriteString("\n")
}

func writeNotes(b *strings.Builder, r *Results) {
	if len(r.Notes) == 0 {
		return
	}
	b.WriteString("## Notes\n\n")
	for _, n := range r.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	b.WriteString("\n")
}

// failures totals the failed operations of a scenario's runs: "0", or the
// count with the statuses.
func failures(s []Sample) string {
	var errs, unsent int64
	statuses := map[int]int64{}
	for _, x := range s {
		errs += x.Errors
		unsent += x.Unsent
		for c, n := range x.Statuses {
			statuses[c] += n
		}
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(statuses)) {
		parts = append(parts, fmt.Sprintf("%d×%s", c, grouped(statuses[c])))
	}
	if errs > 0 {
		parts = append(parts, fmt.Sprintf("errors×%s", grouped(errs)))
	}
	if unsent > 0 {
		parts = append(parts, fmt.Sprintf("unsent×%s", grouped(unsent)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}

// writeFailures lists, for the scenarios keep selects, those with failures
// and an example error.
func writeFailures(b *strings.Builder, r *Results, keep func(Key) bool) {
	var lines []string
	for k, s := range r.Samples {
		if !keep(k) {
			continue
		}
		if f := failures(s); f != "0" {
			last := ""
			for _, x := range s {
				if x.LastError != "" {
					last = x.LastError
				}
			}
			lines = append(lines, fmt.Sprintf("- %s: failed %s (e.g. %q)\n", Describe(k), f, last))
		}
	}
	if len(lines) == 0 {
		return
	}
	slices.Sort(lines)
	b.WriteString("Failed operations in these runs:\n\n")
	for _, l := range lines {
		b.WriteString(l)
	}
	b.WriteString("\n")
}
