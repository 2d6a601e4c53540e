package gateway

import (
	"fmt"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
)

// checkAttributes refuses an event whose id, subject or source would not
// reach the bus as it is. They travel as NATS headers (ce-id and Nats-Msg-Id,
// ce-subject, ce-source), and nats.go trims a header value's blanks and turns
// CR and LF into spaces: a uuid of blanks would be stored with no id at all,
// which every consumer dead-letters; "x\r\nNats-Msg-Id: y" would be stored as
// another id (and dedupe key) than the payload's; a NUL or other control
// character has no place in a header (NATS ADR-4). Such a value is a schema
// violation, refused before anything of the delivery is published. The
// message names the attribute, never its value.
func checkAttributes(ev events.Event) error {
	for _, a := range []struct{ name, value string }{{"id", ev.ID}, {"subject", ev.Subject}, {"source", ev.Source}} {
		if !headerSafe(a.value) {
			return apierror.New(apierror.SchemaViolation, fmt.Sprintf(
				"the event's %s (ce-%s) has a control character or a leading or trailing blank, which the bus cannot carry", a.name, a.name))
		}
	}
	return nil
}

// headerSafe reports whether s survives as a NATS header value unchanged:
// no ASCII control character (NUL, tab, CR, LF, DEL…) and no blank at either
// end.
func headerSafe(s string) bool {
	if s != "" && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
