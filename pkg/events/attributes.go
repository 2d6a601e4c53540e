package events

import "fmt"

// AttributeError says which attribute of an event cannot travel as a NATS
// header. It names the attribute, never its value.
type AttributeError struct{ Name string }

func (e *AttributeError) Error() string {
	return fmt.Sprintf("the event's %s (ce-%s) has a control character or a leading or trailing blank, which the bus cannot carry", e.Name, e.Name)
}

// CheckAttributes refuses an event whose id, subject or source would not
// reach the bus as it is. They travel as NATS headers (ce-id and
// Nats-Msg-Id, ce-subject, ce-source), and nats.go trims a header value's
// blanks and turns CR and LF into spaces: a uuid of blanks would be stored
// with no id at all, which every consumer dead-letters; "x\r\nNats-Msg-Id: y"
// would be stored under another id (and dedupe key) than the payload's; a
// NUL or other control character has no place in a header (NATS ADR-4).
// Encode applies it to every publisher (the gateway, the System Log
// backfill, `idsync send`, outcomes); the gateway calls it first to answer
// 400 before publishing anything of a delivery.
func CheckAttributes(ev Event) error {
	for _, a := range []struct{ name, value string }{{"id", ev.ID}, {"subject", ev.Subject}, {"source", ev.Source}} {
		if !HeaderSafe(a.value) {
			return &AttributeError{Name: a.name}
		}
	}
	return nil
}

// HeaderSafe reports whether s survives as a NATS header value unchanged:
// no ASCII control character (NUL, tab, CR, LF, DEL…) and no blank at
// either end.
func HeaderSafe(s string) bool {
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
