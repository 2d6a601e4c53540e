package fuzzing_test

import (
	"flag"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/internal/fuzzing"
)

// Not parallel: it changes a process-wide testing flag.
func TestLimitMinimize(t *testing.T) {
	f := flag.Lookup("test.fuzzminimizetime")
	if f == nil {
		t.Skip("the testing package no longer has -test.fuzzminimizetime; LimitMinimize does nothing")
	}
	old := f.Value.String()
	t.Cleanup(func() { _ = f.Value.Set(old) })

	fuzzing.LimitMinimize(3 * time.Second)
	if got := f.Value.String(); got != "3s" {
		t.Fatalf("after LimitMinimize(3s): %s", got)
	}
	fuzzing.LimitMinimize(2 * time.Second)
	if got := f.Value.String(); got != "2s" {
		t.Fatalf("after LimitMinimize(2s): %s", got)
	}
	// A value given on the command line (flag.Set is what parsing does) wins.
	if err := flag.Set("test.fuzzminimizetime", "7s"); err != nil {
		t.Fatal(err)
	}
	fuzzing.LimitMinimize(time.Second)
	if got := f.Value.String(); got != "7s" {
		t.Errorf("LimitMinimize overrode -fuzzminimizetime: %s", got)
	}
}
