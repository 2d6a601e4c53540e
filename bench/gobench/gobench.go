// Package gobench runs the repository's own Go benchmarks (`go test -bench`)
// and reads their results, custom metrics included (events/s, p99-ms), so
// that the harness reports them next to its own measurements.
package gobench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Benchmark is one benchmark's figures over the -count runs.
type Benchmark struct {
	// Name is the benchmark's full name without the -GOMAXPROCS suffix, e.g.
	// BenchmarkThroughput/latency=50ms.
	Name string
	// Metrics maps a unit (ns/op, allocs/op, events/s) to its value in each
	// run, in order; Units lists the units as they first appeared.
	Metrics map[string][]float64
	Units   []string
}

var procs = regexp.MustCompile(`-\d+$`)

// Parse reads `go test -bench` output and returns the benchmarks in the
// order they first appear, each run's result line added to its figures.
// Lines that are not results (logs, PASS, the name line of a benchmark with
// sub-benchmarks) are skipped.
func Parse(r io.Reader) ([]Benchmark, error) {
	var out []Benchmark
	index := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		name := procs.ReplaceAllString(f[0], "")
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, Benchmark{Name: name, Metrics: map[string][]float64{}})
		}
		b := &out[i]
		for k := 2; k+1 < len(f); k += 2 {
			v, err := strconv.ParseFloat(f[k], 64)
			if err != nil {
				continue
			}
			unit := f[k+1]
			if _, seen := b.Metrics[unit]; !seen {
				b.Units = append(b.Units, unit)
			}
			b.Metrics[unit] = append(b.Metrics[unit], v)
		}
	}
	return out, sc.Err()
}

// Run runs `go <args>` (a `test -bench` invocation) in dir with env, copies
// its output to progress as it comes, and returns the parsed benchmarks. A
// failing command returns what it parsed with an error carrying the end of
// the output.
func Run(ctx context.Context, dir string, env []string, args []string, progress io.Writer) ([]Benchmark, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, env
	var buf bytes.Buffer
	w := io.MultiWriter(&buf, progress)
	cmd.Stdout, cmd.Stderr = w, w
	runErr := cmd.Run()
	bs, err := Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("gobench.Run: %w", err)
	}
	if runErr != nil {
		return bs, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), runErr, tail(buf.String(), 1500))
	}
	return bs, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
