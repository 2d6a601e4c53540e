package faults

import (
	"fmt"
	"testing"
)

// TestBaseline runs the load with no fault: the reference every other
// scenario is compared with, and a check of the checks (a scenario whose
// fault did nothing must look exactly like this).
func TestBaseline(t *testing.T) {
	t.Parallel()
	s := newSystem(t, options{items: suite.items, batch: 2})
	s.startAll(1)
	wait := s.runLoad(8)
	wait()
	converged := s.converge(suite.converge)
	s.finish("baseline", fmt.Sprintf("%d people, %d deliveries at %d/s, 8 senders", suite.items, len(s.deliveries), suite.rate), converged, expect{})
}
