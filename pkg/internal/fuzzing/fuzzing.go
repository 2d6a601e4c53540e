// Package fuzzing holds what this module's fuzz targets share.
package fuzzing

import (
	"flag"
	"time"
)

const minimizeFlag = "test.fuzzminimizetime"

// LimitMinimize caps the time the fuzzer spends minimizing each new input at
// d, unless -fuzzminimizetime was given on the command line. Call it in a
// fuzz target before f.Fuzz; outside fuzzing it has no effect.
//
// The minimizer tries removing every substring of an input, so its cost grows
// with the square of the input's length. With the default cap of 60s, a
// webhook body of a few kilobytes (the shared fixtures) can take a whole
// 30-second run: a few dozen executions instead of hundreds of thousands.
// A short cap keeps the time for fuzzing; a crasher found this way is still
// written out, only less reduced.
func LimitMinimize(d time.Duration) {
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == minimizeFlag })
	if explicit {
		return
	}
	if f := flag.Lookup(minimizeFlag); f != nil {
		_ = f.Value.Set(d.String())
	}
}
