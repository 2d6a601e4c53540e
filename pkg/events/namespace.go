package events

import (
	"fmt"
	"regexp"
	"strings"
)

// Namespace is the first subject token of everything idsync publishes
// ("idsync" by default), and, upper-cased, the prefix of its stream names.
// A second installation, or a test on a shared server, uses its own.
type Namespace string

// DefaultNamespace gives the subjects of design §4: idsync.events.…,
// idsync.outcomes.…, idsync.dlq.… and streams IDSYNC_EVENTS, IDSYNC_OUTCOMES,
// IDSYNC_DLQ.
const DefaultNamespace Namespace = "idsync"

var namespacePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// Validate checks that ns is usable as a subject token and stream-name prefix.
func (ns Namespace) Validate() error {
	if !namespacePattern.MatchString(string(ns)) {
		return fmt.Errorf("namespace %q: want 1-32 lower-case letters, digits, '-' or '_', starting with a letter", string(ns))
	}
	return nil
}

// Subject returns the full subject of t.
func (ns Namespace) Subject(t *Type) string { return string(ns) + "." + t.Subject }

// Events is the wildcard of every event subject (the IDSYNC_EVENTS stream).
func (ns Namespace) Events() string { return string(ns) + ".events.>" }

// Outcomes is the wildcard of every outcome subject.
func (ns Namespace) Outcomes() string { return string(ns) + ".outcomes.>" }

// DLQ is the wildcard of every dead-letter subject.
func (ns Namespace) DLQ() string { return string(ns) + ".dlq.>" }

// DLQSubject is where the consumer named consumer dead-letters messages.
func (ns Namespace) DLQSubject(consumer string) string { return string(ns) + ".dlq." + consumer }

// Stream returns the stream name for a base (EVENTS, OUTCOMES, DLQ).
func (ns Namespace) Stream(base string) string {
	return strings.ToUpper(strings.ReplaceAll(string(ns), "-", "_")) + "_" + base
}

// Relative strips the namespace from a subject, or reports false when the
// subject is not in it.
func (ns Namespace) Relative(subject string) (string, bool) {
	return strings.CutPrefix(subject, string(ns)+".")
}
