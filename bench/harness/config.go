package harness

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idsync/idsync/pkg/config"
)

// Scenario groups, for -only.
const (
	GroupRaw       = "raw"       // the limit: sync publish curve, async publish, pull consume
	GroupRelay     = "relay"     // the naive relay's concurrency curve
	GroupGateway   = "gateway"   // the gateway's curve, every delivery, the open-loop run
	GroupSizes     = "sizes"     // raw, relay and gateway by body size
	GroupAllocs    = "allocs"    // the gateway's Go benchmarks (allocations per request)
	GroupConsumers = "consumers" // the consumers', event log's and end-to-end Go benchmarks
)

var groups = []string{GroupRaw, GroupRelay, GroupGateway, GroupSizes, GroupAllocs, GroupConsumers}

// Config is one harness invocation.
type Config struct {
	Runs             int
	Duration, Warmup time.Duration
	Only             map[string]bool
	Concurrency      []int
	Sizes            []int
	// Curve is the concurrency of the size curve, the deliveries and the
	// targets.
	Curve int
	// OpenPool is the open-loop run's connections; AsyncWindow the async
	// publish's unacknowledged messages.
	OpenPool, AsyncWindow int
	// GoCount is -count of the Go benchmarks; ConsumerBenchtime the sync
	// consumers' -benchtime.
	GoCount           int
	ConsumerBenchtime string
	Out               string
	// Repo is the repository root (the directory holding go.work).
	Repo string
	// GatewayBin is the gateway binary: "" builds it from Repo, "self" runs
	// the gateway linked into this binary (tests), anything else is a path.
	GatewayBin string
	Keep       bool
}

// parse reads the flags; defaults suit `make bench` on a 2-core machine
// (about 10–15 minutes with 5 runs).
func parse(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("idsync-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: idsync-bench [flags]          run the benchmarks, write the report\n"+
			"       idsync-bench relay|nats|gateway [flags]   (the harness's child processes)\n\nflags:\n")
		fs.PrintDefaults()
	}
	var c Config
	var only, conc, sizes string
	fs.IntVar(&c.Runs, "runs", 5, "runs of every scenario; figures are medians over them")
	fs.DurationVar(&c.Duration, "duration", 3*time.Second, "measured time of each scenario run")
	fs.DurationVar(&c.Warmup, "warmup", 500*time.Millisecond, "unmeasured load before each scenario run")
	fs.StringVar(&only, "only", strings.Join(groups, ","), "scenario groups to run: "+strings.Join(groups, ", "))
	fs.StringVar(&conc, "concurrency", "1,16,64,256", "concurrent senders of the concurrency curve")
	fs.StringVar(&sizes, "sizes", "1KiB,16KiB,256KiB", "body sizes of the size curve")
	fs.IntVar(&c.Curve, "curve", 64, "concurrency of the size curve, the deliveries and the targets")
	fs.IntVar(&c.OpenPool, "open-pool", 256, "connections of the open-loop run")
	fs.IntVar(&c.AsyncWindow, "async-window", 500, "unacknowledged messages of the async publish")
	fs.IntVar(&c.GoCount, "go-count", 0, "-count of the Go benchmarks (default: -runs)")
	fs.StringVar(&c.ConsumerBenchtime, "consumer-benchtime", "1x", "-benchtime of the sync consumers' Go benchmarks (an iteration is a batch of events)")
	fs.StringVar(&c.Out, "out", "", "also write the report to this file")
	fs.StringVar(&c.Repo, "repo", "", "repository root (default: the directory above holding go.work)")
	fs.StringVar(&c.GatewayBin, "gateway-bin", "", `gateway binary (default: go build it; "self": the gateway linked into idsync-bench)`)
	fs.BoolVar(&c.Keep, "keep", false, "keep the temporary directory (stores, logs, binaries)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	c.Only = map[string]bool{}
	for _, g := range split(only) {
		if !slices.Contains(groups, g) {
			errs = append(errs, fmt.Errorf("-only: unknown group %q (want %s)", g, strings.Join(groups, ", ")))
		}
		c.Only[g] = true
	}
	for _, s := range split(conc) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("-concurrency: %q is not a positive number", s))
		}
		c.Concurrency = append(c.Concurrency, n)
	}
	for _, s := range split(sizes) {
		var b config.ByteSize
		if err := b.UnmarshalText([]byte(s)); err != nil || b < 1 {
			errs = append(errs, fmt.Errorf("-sizes: %q is not a size", s))
		}
		c.Sizes = append(c.Sizes, int(b))
	}
	if c.GoCount == 0 {
		c.GoCount = c.Runs
	}
	errs = append(errs, c.validate())
	return c, errors.Join(errs...)
}

func (c Config) validate() error {
	var errs []error
	if c.Runs < 1 {
		errs = append(errs, fmt.Errorf("-runs: %d, want at least 1", c.Runs))
	}
	if c.Duration <= 0 || c.Warmup < 0 {
		errs = append(errs, fmt.Errorf("-duration %s, -warmup %s: want a positive duration and a warm-up of 0 or more", c.Duration, c.Warmup))
	}
	if c.Curve < 1 || c.OpenPool < 1 || c.AsyncWindow < 1 || c.GoCount < 1 {
		errs = append(errs, errors.New("-curve, -open-pool, -async-window and -go-count: want at least 1"))
	}
	return errors.Join(errs...)
}

// loads reports whether a group that puts load on the system under test
// runs, so that the system must be started.
func (c Config) loads() bool {
	return c.Only[GroupRaw] || c.Only[GroupRelay] || c.Only[GroupGateway] || c.Only[GroupSizes]
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
