package ledger

import (
	"fmt"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
)

// DeadLetters is what the dead-letter stream holds.
type DeadLetters struct {
	Stored int
	// ByConsumer counts letters per consumer and class.
	ByConsumer map[string]int
	// Reasons keeps one reason per consumer and class, for the report.
	Reasons map[string]string
	// Unexplained lists letters without a reason or class: something
	// dropped without saying why.
	Unexplained []string
}

// CheckDeadLetters reads the letters' headers.
func CheckDeadLetters(msgs []Msg) DeadLetters {
	r := DeadLetters{Stored: len(msgs), ByConsumer: map[string]int{}, Reasons: map[string]string{}}
	for _, m := range msgs {
		consumer, class, reason := m.Header.Get(bus.HeaderDLQConsumer), m.Header.Get(bus.HeaderDLQClass), m.Header.Get(bus.HeaderDLQReason)
		key := consumer + "/" + class
		r.ByConsumer[key]++
		if _, ok := r.Reasons[key]; !ok {
			r.Reasons[key] = reason
		}
		if consumer == "" || class == "" || reason == "" {
			r.Unexplained = append(r.Unexplained, fmt.Sprintf("seq %d (event %s): consumer %q class %q reason %q",
				m.Seq, m.Header.Get(events.HeaderID), consumer, class, reason))
		}
	}
	return r
}
