package faults

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idsync/idsync/faults/internal/proc"
)

// bins are the binaries TestMain built, by name.
var bins map[string]string

// form is the suite's size: short (in `make test`) or long (`make faults`,
// IDSYNC_FAULTS=long), with bigger loads and every variant.
type form struct {
	long bool
	// items is the number of people (and events) per scenario.
	items int
	// rate is the deliveries per second the sender starts.
	rate int
	// converge bounds the wait for every effect after the last fault.
	converge time.Duration
}

var suite = func() form {
	if os.Getenv("IDSYNC_FAULTS") == "long" {
		return form{long: true, items: 1500, rate: 100, converge: 5 * time.Minute}
	}
	return form{items: 150, rate: 40, converge: 2 * time.Minute}
}()

// reportPath is where each scenario appends its summary as a JSON line
// (IDSYNC_FAULTS_REPORT; `make faults` sets it).
var reportPath = os.Getenv("IDSYNC_FAULTS_REPORT")

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "idsync-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	repo, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	bins, err = proc.Build(ctx, repo, dir, raceEnabled)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults: building the services:", err)
		return 1
	}
	built := time.Since(start)
	if testing.Verbose() {
		fmt.Printf("faults: built %d binaries (race %v) in %s\n", len(bins), raceEnabled, built.Round(time.Second))
	}
	return m.Run()
}
